"""Nova from PyPI on the testbed: api, conductor, scheduler and one nova-compute per namespace
host (libvirt driver on that host's test-driver libvirtd), so whitebox tests boot real pinned
guests and read their XML and database rows.

Uses the machine's MariaDB (databases ``tcup_nova_<id>_{api,cell0,cell1}``) and RabbitMQ (vhost
``tcup_nova_<id>``), created here and dropped by :meth:`Nova.down`; keystone, glance and
placement are the testbed's own. What cannot be real here is labelled where it lives: four
libvirt answers (:mod:`.nova_compute`) and the networking API (:mod:`.network_standin`).
Writes ``whitebox-inventory.yaml`` describing the hosts, their nova-compute and the database::

    tcup testbed up --components keystone,glance,placement,nova
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pymysql
import yaml

from tcup_pytest.errors import TestbedError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.testbed.base import ensure_debian_packages, run, tail, wait_for
from tcup_pytest.testbed.component import HOST, Component, Context, new_password, run_parallel
from tcup_pytest.testbed.hosts import ComputeHost, ComputeHosts
from tcup_pytest.testbed.keystone import KeystoneHandle
from tcup_pytest.testbed.nova_compute import helper_command, write_compute_files
from tcup_pytest.testbed.wsgi import render_ini

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
RABBIT = "127.0.0.1:5672"
PACKAGES = {"pkg-config": "pkg-config", "gcc": "gcc", "qemu-img": "qemu-utils",
            "/usr/include/libvirt/libvirt.h": "libvirt-dev",
            "/usr/include/python3.11/Python.h": "python3-dev", "nc": "netcat-openbsd",
            "rabbitmqctl": "rabbitmq-server"}
FILTERS = ("ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,"
           "ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,NUMATopologyFilter")
INVENTORY = "whitebox-inventory.yaml"

# nova-api builds its app from oslo.config on sys.argv: hide gunicorn's argv first.
SHIM = '''"""gunicorn entry point for nova-api, written by tcup testbed."""
import sys

del sys.argv[1:]
from nova.wsgi.osapi_compute import application  # noqa: E402,F401
'''


class Nova(Component):
    name = "nova"
    requirements = ("nova==34.0.0", "PyMySQL", "libvirt-python", "gunicorn")
    hosts_count = 2

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.id = secrets.token_hex(3)
        self.prefix = f"tcup_nova_{self.id}"
        self.databases = {role: f"{self.prefix}_{role}" for role in ("api", "cell0", "cell1")}
        self.vhost = self.prefix
        self.root_netns = f"tcupnova{self.id}root"
        self.password = new_password()
        self.network_password = new_password()
        self.port = ctx.port("nova", self.log)
        self.network_port = ctx.port("nova-network-standin", self.log)
        self.url = f"http://{HOST}:{self.port}/v2.1"
        self.etc = self.dir / "etc"
        self.conf = self.etc / "nova.conf"
        self.hosts = ComputeHosts(self.hosts_count, workdir=self.dir / "hosts")
        self._created: dict[str, Any] = {"databases": [], "vhost": None, "root_netns": None}
        self.transport_url = f"rabbit://guest:guest@{RABBIT}/{self.vhost}"
        REDACTOR.register(self.transport_url)

    def db_url(self, role: str) -> str:
        url = (f"mysql+pymysql://{MARIADB['user']}@{MARIADB['host']}:{MARIADB['port']}/"
               f"{self.databases[role]}?charset=utf8")
        REDACTOR.register(url)
        return url

    # -- prepare: venv, hosts, schemas, vhost, config (no other service needed) ---------------
    def prepare(self) -> None:
        ensure_debian_packages(PACKAGES)
        super().prepare()
        self.etc.mkdir(parents=True, exist_ok=True)
        for sub in ("state", "instances", "locks"):
            (self.dir / sub).mkdir(exist_ok=True)
        self._write_config()
        with self.ctx.phase("nova.prepare"):
            run_parallel([self._hosts_up, self._schema, self._vhost])

    def _hosts_up(self) -> None:
        with self.ctx.phase("nova.hosts"):
            self.hosts.workdir.mkdir(parents=True, exist_ok=True)
            self.hosts.up()
            run(["ip", "netns", "attach", self.root_netns, str(os.getpid())],
                log=self.log, what="naming the machine's network namespace")
            self._created["root_netns"] = self.root_netns
            for host in self.hosts.hosts:
                self._write_compute(host)

    def _schema(self) -> None:
        with self.ctx.phase("nova.schema"):
            try:
                with _mariadb() as conn, conn.cursor() as cursor:
                    for name in self.databases.values():
                        # Identifiers cannot be parameters; ours are tcup_nova_<hex>_<role>.
                        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
                        self._created["databases"].append(name)
            except pymysql.err.Error as exc:
                raise TestbedError(f"nova: MariaDB at {MARIADB['host']}:{MARIADB['port']}: "
                                   f"{exc}", hint="Start MariaDB (root, no password)") from None
            manage = [self.venv.bin("nova-manage"), "--config-file", str(self.conf)]
            self._run(*manage, "api_db", "sync", what="api_db sync")
            self._run(*manage, "cell_v2", "map_cell0", "--database_connection",
                      self.db_url("cell0"), what="map_cell0")
            self._run(*manage, "cell_v2", "create_cell", "--name", "cell1", what="create_cell")
            self._run(*manage, "db", "sync", what="db sync")

    def _vhost(self) -> None:
        self._run("rabbitmqctl", "-q", "add_vhost", self.vhost, what="rabbitmq add_vhost")
        self._created["vhost"] = self.vhost
        self._run("rabbitmqctl", "-q", "set_permissions", "-p", self.vhost, "guest", ".*", ".*",
                  ".*", what="rabbitmq set_permissions")

    def _run(self, *argv: str, what: str) -> None:
        run(argv, log=self.log, what=f"nova: {what}")

    def _auth(self, user: str, password: str) -> dict[str, str]:
        assert self.ctx.auth_url is not None
        return {"auth_url": self.ctx.auth_url, "auth_type": "password", "username": user,
                "password": password, "project_name": "service", "user_domain_name": "Default",
                "project_domain_name": "Default", "region_name": "RegionOne"}

    def _write_config(self) -> None:
        shutil.copyfile(self.venv.path / "etc" / "nova" / "api-paste.ini",
                        self.etc / "api-paste.ini")
        (self.etc / "nova_api_shim.py").write_text(SHIM)
        auth = self._auth("nova", self.password)
        authtoken = {**auth, "www_authenticate_uri": auth["auth_url"],
                     "service_token_roles_required": "true"}
        sections: dict[str, Mapping[str, str]] = {
            "DEFAULT": {"transport_url": self.transport_url, "state_path": str(self.dir / "state"),
                        "instances_path": str(self.dir / "instances"), "my_ip": HOST,
                        "compute_driver": "libvirt.LibvirtDriver", "debug": "false",
                        "graceful_shutdown_timeout": "5", "use_stderr": "false"},
            "api": {"auth_strategy": "keystone"},
            "wsgi": {"api_paste_config": str(self.etc / "api-paste.ini")},
            "api_database": {"connection": self.db_url("api")},
            "database": {"connection": self.db_url("cell1")},
            "conductor": {"workers": "1"},
            "scheduler": {"workers": "1"},
            "filter_scheduler": {"enabled_filters": FILTERS},
            "oslo_concurrency": {"lock_path": str(self.dir / "locks")},
            "oslo_messaging_notifications": {"driver": "noop"},
            "keystone_authtoken": authtoken,
            "service_user": {**auth, "send_service_user_token": "true"},
            "placement": {**auth, "valid_interfaces": "public"},
            "neutron": {**auth, "valid_interfaces": "public"},
            "glance": {"region_name": "RegionOne", "valid_interfaces": "public"},
            "vnc": {"enabled": "false"},
        }
        self.conf.write_text(render_ini(sections))
        self.conf.chmod(0o600)

    def _write_compute(self, host: ComputeHost) -> None:
        """Per host: our settings file, then the host's own nova-compute.conf (last wins, and
        it is the file whitebox tests change)."""
        extra = host.dir / "etc" / "nova" / "nova-compute-testbed.conf"
        files = [self.conf, extra, host.nova_conf]
        extra.write_text(render_ini({
            "DEFAULT": {"log_file": str(host.dir / "nova-compute.log")},
            "nova_sys_admin": {"helper_command": helper_command(
                str(self.venv.path / "bin"), files)}}))
        write_compute_files(name=host.name, host_dir=host.dir, python=self.venv.bin("python"),
                            config_files=files, root_netns=self.root_netns)

    # -- up: catalog, services, computes, discovery ---------------------------------------------
    def up(self) -> dict[str, Any]:
        keystone = self.ctx.keystone
        assert keystone is not None
        with self.ctx.phase("nova.register"):
            keystone.register_service(name="nova", service_type="compute", url=self.url,
                                      password=self.password)
            keystone.register_service(name="neutron", service_type="network",
                                      url=f"http://{HOST}:{self.network_port}/",
                                      password=self.network_password)
        self.start([sys.executable, "-m", "tcup_pytest.testbed.network_standin",
                    str(self.network_port)])
        with self.ctx.phase("nova.wait_catalog"):
            wait_for(lambda: _in_catalog(keystone.connection, ("placement", "image")),
                     timeout=180, interval=1, what="placement and glance in the catalog")
        with self.ctx.phase("nova.services"):
            api = self.start([self.venv.bin("gunicorn"), "--no-control-socket",
                              "--pythonpath", str(self.etc), "--bind", f"{HOST}:{self.port}",
                              "--workers", "1", "--timeout", "120", "--graceful-timeout", "5",
                              "nova_api_shim:application"],
                             env={"OS_NOVA_CONFIG_DIR": str(self.etc),
                                  "OS_NOVA_CONFIG_FILES": "api-paste.ini;nova.conf"})
            for binary in ("nova-conductor", "nova-scheduler"):
                self.start([self.venv.bin(binary), "--config-file", str(self.conf),
                            "--log-file", str(self.dir / f"{binary}.log")])
            for host in self.hosts.hosts:
                self._run(str(host.dir / "nova-compute-ctl"), "start",
                          what=f"starting nova-compute on {host.name}")
            api.wait_http(self.url, timeout=120)
        # A fresh login: the handle's token predates the compute entry in the catalog.
        conn = KeystoneHandle(keystone.auth_url, keystone.admin_password).connection
        with self.ctx.phase("nova.services_up"):
            wanted = {("nova-conductor", None), ("nova-scheduler", None),
                      *(("nova-compute", h.name) for h in self.hosts.hosts)}
            wait_for(lambda: self._services_up(conn, wanted), timeout=180, interval=1,
                     what="Nova services up", log=self.log)
        with self.ctx.phase("nova.discover"):
            wait_for(lambda: self._compute_nodes() >= len(self.hosts.hosts), timeout=120,
                     interval=1, what="compute nodes recorded", log=self.log)
            self._run(self.venv.bin("nova-manage"), "--config-file", str(self.conf), "cell_v2",
                      "discover_hosts", what="discover_hosts")
            wait_for(lambda: len(list(conn.compute.hypervisors())) >= len(self.hosts.hosts),
                     timeout=60, interval=1, what="hypervisors listed")
        project = conn.identity.find_project("admin", domain_id="default")
        conn.set_compute_quotas(project.id, cores=-1, instances=-1, ram=-1)
        inventory = self.write_inventory()
        return {**self.partial_state(), "url": self.url, "inventory": str(inventory),
                "log": str(self.log)}

    def _services_up(self, conn: Any, wanted: set[tuple[str, str | None]]) -> bool:
        for host in self.hosts.hosts:
            health = subprocess.run([str(host.dir / "nova-compute-ctl"), "health"])
            if health.returncode != 0:
                raise TestbedError(f"nova-compute on {host.name} failed: "
                                   f"{tail(host.dir / 'nova-compute.log')}",
                                   hint=f"See {host.dir / 'nova-compute.log'}")
        up = {(s.binary, s.host) for s in conn.compute.services() if s.state == "up"}
        return all(any(b == binary and (host is None or h == host) for b, h in up)
                   for binary, host in wanted)

    def _compute_nodes(self) -> int:
        with _mariadb(self.databases["cell1"]) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) AS n FROM compute_nodes WHERE deleted = %s", (0,))
            return int(cursor.fetchone()["n"])

    def write_inventory(self) -> Path:
        """The whitebox inventory: hosts, their nova-compute (restartable) and the cell DB."""
        inventory = self.hosts.inventory()
        for host in self.hosts.hosts:
            ctl = str(host.dir / "nova-compute-ctl")
            inventory["hosts"][host.name]["services"]["nova-compute"] = {
                "config": [str(host.nova_conf)], "start": f"{ctl} start",
                "stop": f"{ctl} stop",
                "health": {"command": f"{ctl} health", "nova_service": "nova-compute",
                           "timeout": 120}}
        inventory["database"] = {**MARIADB, "names": {"nova": self.databases["cell1"],
                                                      "nova_api": self.databases["api"]}}
        path = self.ctx.state_dir / INVENTORY
        path.write_text(yaml.safe_dump(inventory, sort_keys=False))
        return path

    # -- down: from the state alone (another process may call it) -------------------------------
    def partial_state(self) -> dict[str, Any]:
        return {"processes": self.process_records(), "databases": self._created["databases"],
                "vhost": self._created["vhost"], "root_netns": self._created["root_netns"],
                "hosts": _hosts_state(self.hosts)}

    def abort(self) -> None:
        type(self).down(self.partial_state())

    @classmethod
    def down(cls, state: Mapping[str, Any]) -> None:
        hosts_state = state.get("hosts") or {}
        for host in hosts_state.get("hosts", []):
            ctl = Path(host["dir"]) / "nova-compute-ctl"
            if ctl.exists():
                subprocess.run([str(ctl), "stop"], capture_output=True, timeout=60)
        super().down(state)
        if hosts_state:
            _hosts_down(hosts_state)
        if state.get("root_netns"):
            subprocess.run(["ip", "netns", "del", state["root_netns"]], capture_output=True)
        names = [n for n in state.get("databases", []) if n.startswith("tcup_nova_")]
        if names:
            with _mariadb() as conn, conn.cursor() as cursor:
                for name in names:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        if state.get("inventory"):
            Path(state["inventory"]).unlink(missing_ok=True)
        vhost = state.get("vhost")
        if vhost and vhost.startswith("tcup_nova_"):
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                           timeout=60)

    @classmethod
    def status(cls, state: Mapping[str, Any]) -> dict[str, Any]:
        report = super().status(state)
        if "inventory" in state:
            report["inventory"] = state["inventory"]
        return report


@contextlib.contextmanager
def _mariadb(database: str | None = None) -> Iterator[pymysql.connections.Connection]:
    conn = pymysql.connect(host=MARIADB["host"], port=int(MARIADB["port"]),
                           user=MARIADB["user"], password=MARIADB["password"],
                           database=database, autocommit=True,
                           cursorclass=pymysql.cursors.DictCursor, connect_timeout=10)
    try:
        yield conn
    finally:
        conn.close()


def _in_catalog(conn: Any, service_types: tuple[str, ...]) -> bool:
    found = {s.type for s in conn.identity.services()}
    return all(t in found for t in service_types)


def _hosts_state(hosts: ComputeHosts) -> dict[str, Any]:
    """What ComputeHosts.down needs, to rebuild it in another process (see the report's
    request for ``ComputeHosts.state()/from_state()``)."""
    return {"id": hosts.id, "names": hosts.names, "workdir": str(hosts.workdir),
            "bridge": hosts.bridge,
            "hosts": [{"name": h.name, "namespace": h.namespace, "veth": h.veth,
                       "address": h.address, "port": h.port, "dir": str(h.dir)}
                      for h in hosts.hosts],
            "pids": [p.pid for p in hosts._processes if p.pid]}


def _hosts_down(state: Mapping[str, Any]) -> None:
    from tcup_pytest.testbed.base import pid_alive, stop_pid

    for pid in state.get("pids", []):
        if pid_alive(pid):
            stop_pid(pid, timeout=10)
    hosts = ComputeHosts(names=list(state["names"]), workdir=Path(state["workdir"]))
    hosts.id, hosts.bridge = state["id"], state["bridge"]
    hosts.hosts = [ComputeHost(name=h["name"], namespace=h["namespace"], veth=h["veth"],
                               address=h["address"], port=h["port"], dir=Path(h["dir"]))
                   for h in state.get("hosts", [])]
    hosts.down()
