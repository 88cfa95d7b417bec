"""tempest.conf (and accounts.yaml) rendered from the cloud into a private directory.

Discovery is python-tempestconf's (``discover-tempest-config``): it reads the catalog for
service availability, API versions, extensions, image, flavor and network, which we would
otherwise write a second time. It runs in a subprocess that gets the credentials through its
environment (never argv), its cwd in the private directory (it writes files there), and a local
image file (else it downloads cirros from the internet); meanwhile this process imports what
collecting the tests needs. We then fix what it gets wrong for a
harness (log file in the cwd, lock path ``/tmp``) and apply the user's ``section.key=value``
options. The directory is 0700, files 0600, and it is removed when the run ends, on error and
on Ctrl-C/SIGTERM; every secret in it is registered with the redactor::

    >>> with PrivateDir() as workdir:                                  # doctest: +SKIP
    ...     conf = render(cloud, workdir, options=["compute.build_timeout=60"])
"""

from __future__ import annotations

import atexit
import configparser
import importlib
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterable
from pathlib import Path

from tcup_pytest.errors import ConfigError, InputFileError
from tcup_pytest.redaction import REDACTOR

CONF_NAME = "tempest.conf"
ACCOUNTS_NAME = "accounts.yaml"
IMAGE_NAME = "tcup-image.raw"
SECRET_WORDS = ("password", "secret", "token")
TEMPESTCONF_TIMEOUT = 600


class TempestOptionError(ConfigError):
    """A broken ``--tempest-option`` (exit code CONFIG)."""


def parse_options(values: Iterable[str]) -> list[tuple[str, str, str]]:
    """``section.key=value`` strings -> (section, key, value); one clear error otherwise."""
    parsed = []
    for text in values:
        left, equals, value = text.partition("=")
        section, dot, key = left.strip().partition(".")
        if not (equals and dot and section and key) or any(c.isspace() for c in left.strip()):
            raise TempestOptionError(
                f"--tempest-option {text!r} is not section.key=value",
                hint="e.g. --tempest-option compute.build_timeout=300")
        parsed.append((section, key, value.strip()))
    return parsed


class PrivateDir:
    """A 0700 temp directory removed on exit, on error and on SIGTERM (Ctrl-C raises anyway)."""

    def __init__(self, prefix: str = "tcup-tempest-") -> None:
        self.path = Path(tempfile.mkdtemp(prefix=prefix))
        os.chmod(self.path, 0o700)
        atexit.register(self.remove)
        self._previous_sigterm = None
        if _in_main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def _on_sigterm(self, signum: int, frame: object) -> None:
        self.remove()
        previous = self._previous_sigterm
        if callable(previous):
            previous(signum, frame)
        raise KeyboardInterrupt

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        if self._previous_sigterm is not None and _in_main_thread():
            signal.signal(signal.SIGTERM, self._previous_sigterm)
            self._previous_sigterm = None


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def write_private(path: Path, text: str) -> Path:
    """Write ``text`` to a new 0600 file (created with that mode, never world-readable)."""
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def render(cloud, workdir: Path, *, base: str | Path | None = None,
           options: Iterable[str] = (), image: str | Path | None = None,
           admin: bool | None = None) -> Path:
    """Write ``workdir/tempest.conf`` for ``cloud`` (a CloudConfig) and return its path.

    ``base``: an existing tempest.conf to start from instead of discovery. ``admin``: whether
    the user may create users (dynamic credentials); asked from the cloud when None.
    """
    overrides = parse_options(options)
    workdir = Path(workdir)
    conf_path = workdir / CONF_NAME
    if base is not None:
        try:
            text = Path(base).expanduser().read_text(encoding="utf-8")
        except OSError as error:
            raise InputFileError(f"cannot read tempest.conf {base} ({error.strerror})") from None
        write_private(conf_path, text)
    else:
        if admin is None:
            admin = cloud.is_admin
        run_tempestconf(cloud, workdir, image=image, admin=admin)
    parser = read_conf(conf_path)
    harness_defaults(parser, workdir, generated=base is None)
    for section, key, value in overrides:
        if section != "DEFAULT" and not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, key, value)
    register_secrets(parser)
    buffer = io.StringIO()
    parser.write(buffer)
    write_private(conf_path, buffer.getvalue())
    return conf_path


def read_conf(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keep keys as written
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, configparser.Error) as error:
        raise InputFileError(f"{path} is not a readable tempest.conf ({error})") from None
    return parser


def harness_defaults(parser: configparser.RawConfigParser, workdir: Path, *,
                     generated: bool) -> None:
    """Log file and locks in the private dir (shared by xdist workers, gone after the run).

    The lock path must be one directory for all workers: tempest's serial-test lock and the
    preprovisioned-credentials allocation are inter-process file locks in it.
    """
    def put(section: str, key: str, value: str) -> None:
        if section != "DEFAULT" and not parser.has_section(section):
            parser.add_section(section)
        if generated or not parser.has_option(section, key):
            parser.set(section, key, value)

    (workdir / "logs").mkdir(mode=0o700, exist_ok=True)
    (workdir / "locks").mkdir(mode=0o700, exist_ok=True)
    put("DEFAULT", "log_dir", str(workdir / "logs"))
    put("oslo_concurrency", "lock_path", str(workdir / "locks"))
    if parser.has_section("oslo-concurrency"):  # tempestconf writes this spelling, /tmp
        parser.remove_section("oslo-concurrency")


def register_secrets(parser: configparser.RawConfigParser) -> None:
    for section in [configparser.DEFAULTSECT, *parser.sections()]:
        for key, value in parser.items(section):
            if any(word in key.lower() for word in SECRET_WORDS):
                REDACTOR.register(value)


def tempestconf_env(cloud) -> dict[str, str]:
    """The subprocess environment: ours minus any OS_*/clouds.yaml, plus the cloud's values."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OS_") and k not in ("TEMPEST_CONFIG", "TEMPEST_CONFIG_DIR")}
    values = {
        "OS_AUTH_URL": cloud.auth_url, "OS_USERNAME": cloud.username,
        "OS_PASSWORD": cloud.password, "OS_PROJECT_NAME": cloud.project_name,
        "OS_PROJECT_ID": cloud.project_id, "OS_USER_DOMAIN_NAME": cloud.user_domain_name,
        "OS_USER_DOMAIN_ID": cloud.user_domain_id,
        "OS_PROJECT_DOMAIN_NAME": cloud.project_domain_name,
        "OS_PROJECT_DOMAIN_ID": cloud.project_domain_id,
        "OS_SYSTEM_SCOPE": cloud.system_scope, "OS_REGION_NAME": cloud.region_name,
        "OS_INTERFACE": cloud.interface, "OS_IDENTITY_API_VERSION": "3",
    }
    if isinstance(cloud.verify, str):
        values["OS_CACERT"] = cloud.verify
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    env["PYTHONWARNINGS"] = "ignore"
    return env


def local_image(workdir: Path, image: str | Path | None) -> Path:
    """The image tempestconf uploads: the user's, or a 1 MiB raw file it can't fail to read.

    For our own file a copy also waits where tempestconf keeps the image it uploaded
    (``etc/`` in its cwd): when the cloud has the image already, it then skips downloading it.
    """
    if image is not None:
        path = Path(image).expanduser()
        if not path.is_file():
            raise InputFileError(f"image file {image} does not exist",
                                 hint="Give a local disk image with --tempest-image")
        return path
    path = workdir / IMAGE_NAME
    (workdir / "etc").mkdir(mode=0o700, exist_ok=True)
    for blank in (path, workdir / "etc" / IMAGE_NAME):  # two files: it copies one to the other
        with open(blank, "wb") as handle:
            handle.truncate(1024 * 1024)
    return path


#: python-tempestconf's own ``main()`` in a child interpreter, without two costs that change
#: nothing it writes: pyclbr parsing the sources of its ``services`` package to find the service
#: classes (~0.5 s; the classes each module defines, read from the imported module, are the same
#: list in the same order), and the teardown of ~2,000 modules once its files are written and
#: closed (~0.6 s). A failure still ends the usual way, traceback and all.
DISCOVERY_PROGRAM = """\
import importlib, os, pyclbr, sys, types


def readmodule(module, path=None):
    mod = importlib.import_module(module)
    return {name: types.SimpleNamespace(name=name) for name, value in vars(mod).items()
            if isinstance(value, type) and value.__module__ == module}


pyclbr.readmodule = readmodule
from config_tempest.main import main

main()
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
"""

#: what collecting Tempest's tests imports first; none of it reads tempest.conf at import time
#: (tempest.config loads it on first use), so it can be imported while discovery runs
WARM_MODULES = ("tempest.config", "tempest.clients", "tempest.test")
LOG_NAME = "tempestconf.log"


def warm_imports() -> None:
    """Import :data:`WARM_MODULES` now, on the core the discovery child leaves idle (~0.5 s
    less before the first test). Best effort: an import error is left for collection to report
    where it has its context."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # any import failure: collection reports it
                return


def run_tempestconf(cloud, workdir: Path, *, image: str | Path | None, admin: bool) -> None:
    """Discovery in a child process (its output in a private log); this process imports what
    collection needs meanwhile."""
    image_path = local_image(workdir, image)
    disk_format = "raw" if image is None else "qcow2"
    if image is not None and str(image).endswith((".raw", ".img.raw")):
        disk_format = "raw"
    cmd = [sys.executable, "-c", DISCOVERY_PROGRAM, "--out", str(workdir / CONF_NAME),
           "--no-default-deployer", "--image", str(image_path),
           "--image-disk-format", disk_format]
    if cloud.verify is False:
        cmd.append("--insecure")
    if admin:  # a cloud with Nova needs two flavors; an admin may create them (m1.nano...)
        cmd.append("--create")
    else:
        cmd += ["--non-admin", "--create-accounts-file", str(workdir / ACCOUNTS_NAME)]
    env = tempestconf_env(cloud)
    env["TEMPEST_CONFIG_DIR"] = str(workdir)  # its own `import tempest` must not read /etc
    log_path = workdir / LOG_NAME
    with os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as log:
        # a file, not a pipe: nobody reads a pipe while this process imports
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        warm_imports()
        code = proc.wait(timeout=TEMPESTCONF_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"python-tempestconf did not finish in {TEMPESTCONF_TIMEOUT} s",
                          hint="Check the cloud's endpoints, or pass --tempest-conf") from None
    finally:
        if proc.poll() is None:  # timeout, Ctrl-C, SIGTERM
            proc.kill()
            proc.wait()
    if code != 0 or not (workdir / CONF_NAME).is_file():
        reason = tempestconf_reason(log_path.read_text(errors="replace"), code)
        raise ConfigError(f"python-tempestconf could not build tempest.conf: {reason[:300]}",
                          hint="Fix the cloud, or pass an existing file with --tempest-conf")
    os.chmod(workdir / CONF_NAME, 0o600)
    if (workdir / ACCOUNTS_NAME).exists():
        os.chmod(workdir / ACCOUNTS_NAME, 0o600)


def tempestconf_reason(output: str, code: int) -> str:
    """Why discovery failed, in one redacted line: the exception oslo.log reports as CRITICAL
    (the traceback lines after it say where, not why), else the last line, else the code."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    critical = [line for line in lines if " CRITICAL " in line]
    if critical:
        reason = critical[-1].split(" [-] ", 1)[-1].removeprefix("Unhandled error: ")
    else:
        reason = lines[-1] if lines else f"exit code {code}"
    return REDACTOR.redact(reason)


def masked(path: Path) -> str:
    """The rendered file for display (``tcup config tempest``), secrets as ``***``."""
    parser = read_conf(path)
    register_secrets(parser)
    return REDACTOR.redact(path.read_text(encoding="utf-8"))


def point_tempest_at(conf_path: Path) -> None:
    """Set TEMPEST_CONFIG_DIR/TEMPEST_CONFIG; must happen before tempest reads its config."""
    os.environ["TEMPEST_CONFIG_DIR"] = str(conf_path.parent)
    os.environ["TEMPEST_CONFIG"] = conf_path.name
