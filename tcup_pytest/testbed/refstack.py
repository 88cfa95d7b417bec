"""A real RefStack API server (PyPI ``refstack==2.1.0``) for integration tests and demos.

It runs under gunicorn (1 worker) on 127.0.0.1 with its own database ``tcup_refstack_<id>`` in
the machine's MariaDB (dropped at stop; no other database is touched) and reads guidelines
from a local imitation of the opendev Gitea API, so it works offline.

    >>> with RefStackServer(Path("/tmp/rs")) as server:      # doctest: +SKIP
    ...     RefStackClient(server.url).list_results()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import pymysql

from tcup_pytest.errors import TestbedError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.refstack.signing import openssh_md5
from tcup_pytest.testbed.base import (
    ServiceProcess,
    Venv,
    free_port,
    run,
    wait_for,
)
from tcup_pytest.testbed.component import Component

#: refstack 2.1.0 needs SQLAlchemy 1.4 (oslo.db 18 dropped EngineFacade, which it uses).
REQUIREMENTS = ["refstack==2.1.0", "gunicorn", "PyMySQL", "SQLAlchemy==1.4.49",
                "oslo.db==14.1.0", "alembic==1.12.0"]
DB_PREFIX = "tcup_refstack_"
_WSGI = "from refstack.api import app, config\napplication = app.setup_app(config)\n"


#: The tools CI systems feed our subunit stream to (tests check they read it).
SUBUNIT_TOOLS = ["stestr==4.2.1", "junitxml==0.7", "python-subunit>=1.4"]


def refstack_venv() -> Venv:
    return Venv("refstack", REQUIREMENTS)


def subunit_tools_venv() -> Venv:
    """stestr and subunit2junitxml (needs junitxml) in their own cached venv."""
    return Venv("subunit-tools", SUBUNIT_TOOLS)


class RefStackServer:
    """Start with :meth:`start` (or ``with``); ``url`` is the API root for RefStackClient."""

    def __init__(self, workdir: Path, *, anonymous_upload: bool = True,
                 guideline_files: list[Path] | None = None, db_host: str = "127.0.0.1",
                 db_port: int = 3306, db_user: str = "root", db_password: str = "") -> None:
        self.workdir = Path(workdir)
        self.anonymous_upload = anonymous_upload
        self.guideline_files = guideline_files or bundled_guidelines()
        self.db = dict(host=db_host, port=db_port, user=db_user, password=db_password)
        REDACTOR.register(db_password or None)
        self.database = DB_PREFIX + uuid.uuid4().hex[:12]
        self.port = 0
        self.api: ServiceProcess | None = None
        self.mirror: ServiceProcess | None = None
        self._db_created = False
        self._mirror_port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RefStackServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> RefStackServer:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.prepare()
        self.serve()

    def prepare(self) -> None:
        """Everything before a process starts: venv, database, schema, config, mirror files."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        venv = refstack_venv().ensure(self.workdir / "venv.log")
        self._create_database()
        self._mirror_port = free_port()
        self._write_mirror()
        self.port = free_port()
        self._write_config(self._mirror_port)
        run([venv.bin("refstack-manage"), "--config-file", self.workdir / "refstack.conf",
             "upgrade", "--revision", "head"], log=self.workdir / "manage.log",
            what="refstack-manage upgrade")

    def serve(self) -> None:
        """Start the guideline mirror and the API; return once both answer."""
        self.mirror = ServiceProcess(
            "guideline mirror", [refstack_venv().bin("python"), "-m", "http.server",
                                 self._mirror_port, "--bind", "127.0.0.1",
                                 "--directory", self.workdir / "opendev"],
            log=self.workdir / "mirror.log")
        self.mirror.start()
        self.mirror.wait_http(f"http://127.0.0.1:{self._mirror_port}/contents/guidelines",
                              timeout=30)
        self.start_api()

    def start_api(self) -> None:
        """(Re)start only the API process, on the same port and database."""
        venv = refstack_venv()
        self.api = ServiceProcess(
            "refstack-api", [venv.bin("gunicorn"), "--bind", f"127.0.0.1:{self.port}",
                             "--workers", "1", "--chdir", self.workdir,
                             "refstack_wsgi:application"],
            log=self.workdir / "api.log",
            env={"REFSTACK_OSLO_CONFIG": str(self.workdir / "refstack.conf")})
        self.api.start()
        self.api.wait_http(f"{self.url}/v1/results", timeout=60)

    def stop_api(self) -> None:
        if self.api is not None:
            self.api.stop()
            self.api = None

    def stop(self) -> None:
        self.stop_api()
        if self.mirror is not None:
            self.mirror.stop()
            self.mirror = None
        if self._db_created:
            with self._connect() as conn, conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{self.database}`")
            self._db_created = False

    @classmethod
    def drop_database(cls, database: str, **db: object) -> None:
        """Drop a server's database from its recorded name (``tcup testbed down``)."""
        if not database.startswith(DB_PREFIX):
            return  # never anything but ours
        with pymysql.connect(**db, connect_timeout=10) as conn, conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")

    # -- users and keys (no browser login: rows as the server would write them) ------------
    def add_user(self, openid: str, *, email: str = "", fullname: str = "") -> None:
        with self._connect(self.database) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO user (created_at, openid, email, fullname, deleted) "
                        "VALUES (%s, %s, %s, %s, 0)",
                        (_now(), openid, email or f"{openid}@example.invalid", fullname or openid))
            conn.commit()

    def register_key(self, openid: str, public_key: str) -> None:
        """Register an ``ssh-rsa AAAA...`` key for the user (their profile's "upload key")."""
        kind, blob = public_key.split()[:2]
        with self._connect(self.database) as conn, conn.cursor() as cur:
            cur.execute("INSERT INTO pubkeys (id, created_at, openid, format, pubkey, md5_hash, "
                        "comment, deleted) VALUES (%s, %s, %s, %s, %s, %s, %s, 0)",
                        (str(uuid.uuid4()), _now(), openid, kind, blob,
                         openssh_md5(public_key), "tcup test key"))
            conn.commit()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        """Read the server's database (tests check what it stored)."""
        with self._connect(self.database) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    # -- helpers ----------------------------------------------------------------------------
    def _connect(self, database: str | None = None):
        try:
            return pymysql.connect(**self.db, database=database, connect_timeout=10)
        except pymysql.err.OperationalError as exc:
            raise TestbedError(f"MariaDB at {self.db['host']}:{self.db['port']} refused the "
                               f"connection ({exc.args[-1]})",
                               hint="Start MariaDB (apt-get install mariadb-server)") from None

    def _create_database(self) -> None:
        wait_for(_can_connect(self), timeout=30, what="MariaDB on "
                 f"{self.db['host']}:{self.db['port']}")
        with self._connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{self.database}` CHARACTER SET latin1")
        self._db_created = True

    def _write_config(self, mirror_port: int) -> None:
        static = self.workdir / "static"
        static.mkdir(exist_ok=True)
        (static / "index.html").write_text("<html><body>RefStack test server</body></html>\n")
        (self.workdir / "refstack_wsgi.py").write_text(_WSGI)
        mirror = f"http://127.0.0.1:{mirror_port}"
        password = f":{self.db['password']}" if self.db["password"] else ""
        db_url = (f"mysql+pymysql://{self.db['user']}{password}@{self.db['host']}:"
                  f"{self.db['port']}/{self.database}")
        REDACTOR.register(db_url if password else None)
        conf = self.workdir / "refstack.conf"
        conf.write_text(
            f"[DEFAULT]\nui_url = {self.url}\ndebug = true\n"
            f"[api]\napi_url = {self.url}\napp_dev_mode = false\n"
            f"enable_anonymous_upload = {str(self.anonymous_upload).lower()}\n"
            f"opendev_api_capabilities_url = {mirror}/contents/guidelines\n"
            f"additional_capability_urls = {mirror}/contents/add-ons/guidelines\n"
            f"opendev_raw_base_url = {mirror}/raw/\n"
            f"static_root = {static}\ntemplate_path = {static}\n"
            f"[database]\nconnection = {db_url}\n")
        conf.chmod(0o600)

    def _write_mirror(self) -> None:
        """The two Gitea API listings and the raw files the server asks opendev for."""
        root = self.workdir / "opendev"
        shutil.rmtree(root, ignore_errors=True)
        listings: dict[str, list[dict]] = {"guidelines": [], "add-ons/guidelines": []}
        for path in self.guideline_files:
            folder = "add-ons/guidelines" if _is_addon(path) else "guidelines"
            listings[folder].append({"type": "file", "name": path.name,
                                     "path": f"{folder}/{path.name}"})
            target = root / "raw" / folder / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        for folder, entries in listings.items():
            listing = root / "contents" / folder
            listing.parent.mkdir(parents=True, exist_ok=True)
            listing.write_text(json.dumps(entries))


def bundled_guidelines() -> list[Path]:
    folder = resources.files("tcup_pytest") / "data" / "guidelines"
    return sorted(Path(str(p)) for p in folder.iterdir()
                  if p.name.endswith(".json") and not p.name.startswith("schema"))


def _is_addon(path: Path) -> bool:
    """``dns.2020.06.json``/``dns.next.json`` are add-ons; ``2020.06.json``/``next.json`` not."""
    return re.match(r"^[a-z_]+\.(\d{4}\.\d{2}|next)\.json$", path.name) is not None


def _can_connect(server: RefStackServer):
    def probe() -> bool:
        try:
            server._connect().close()
            return True
        except TestbedError:
            return False
    return probe


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


class RefStack(Component):
    """The RefStack server as a testbed component: ``tcup testbed up --components
    keystone,refstack``; ``tcup demo`` uploads to it. Its URL is the API root."""

    name = "refstack"
    needs_keystone = False

    def prepare(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.server = RefStackServer(self.dir)
        with self.ctx.phase("refstack.prepare"):
            try:
                self.server.prepare()
            except TestbedError as exc:
                raise TestbedError(f"refstack: {exc.message}", hint=exc.hint) from exc

    def up(self) -> dict[str, Any]:
        with self.ctx.phase("refstack.start"):
            self.server.serve()
        self.processes += [p for p in (self.server.mirror, self.server.api) if p is not None]
        return {"url": self.server.url, "database": self.server.database,
                "db": {k: v for k, v in self.server.db.items() if k != "password"},
                "log": str(self.dir / "api.log"), "processes": self.process_records()}

    def abort(self) -> None:
        self.server.stop()

    @classmethod
    def down(cls, state: Mapping[str, Any]) -> None:
        super().down(state)
        with contextlib.suppress(pymysql.err.MySQLError):
            RefStackServer.drop_database(state.get("database", ""), **state.get("db", {}))
