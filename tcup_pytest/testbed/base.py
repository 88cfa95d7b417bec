"""Building blocks of the local testbed: cached virtualenvs, processes we own, free ports.

The testbed runs real OpenStack services from PyPI, each in its own virtualenv (their pins
clash with ours and with each other). Virtualenvs are cached under ``$TCUP_CACHE_DIR``
(default ``~/.cache/tcup-pytest``), keyed by their requirements, so only the first start pays
for ``pip install``. Every process is started in its own session and stopped by its PID, so
the testbed never touches anything it did not start.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from tcup_pytest.errors import TestbedError
from tcup_pytest.pids import pid_alive
from tcup_pytest.redaction import REDACTOR


def cache_dir() -> Path:
    """Where virtualenvs and other reusable downloads live (outlives a testbed)."""
    path = Path(os.environ.get("TCUP_CACHE_DIR", Path.home() / ".cache" / "tcup-pytest"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (parallel test sessions share the venv cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Venv:
    """A cached virtualenv holding one service's pinned requirements.

    >>> venv = Venv("keystone", ["keystone>=30,<31", "gunicorn"])  # doctest: +SKIP
    >>> venv.ensure(); venv.bin("keystone-manage")                  # doctest: +SKIP
    """

    def __init__(self, name: str, requirements: Sequence[str], *,
                 python: str | None = None) -> None:
        self.name = name
        self.requirements = list(requirements)
        self.python = python or _base_python()
        key = hashlib.sha256("\n".join([self.python, *self.requirements]).encode()).hexdigest()
        self.path = cache_dir() / "venvs" / f"{name}-{key[:10]}"

    @property
    def ready(self) -> bool:
        return (self.path / ".complete").exists()

    def bin(self, program: str) -> str:
        return str(self.path / "bin" / program)

    def ensure(self, log: Path | None = None) -> Venv:
        """Create and fill the venv unless a complete one is cached. Returns ``self``."""
        with file_lock(self.path.with_suffix(".lock")):
            if self.ready:
                return self
            shutil.rmtree(self.path, ignore_errors=True)
            log = log or self.path.with_suffix(".log")
            run([self.python, "-m", "venv", str(self.path)], log=log,
                what=f"creating the {self.name} virtualenv")
            run([self.bin("python"), "-m", "pip", "install", "-q", "--upgrade", "pip"], log=log,
                what=f"upgrading pip in the {self.name} virtualenv")
            run([self.bin("python"), "-m", "pip", "install", "-q", *self.requirements], log=log,
                what=f"installing {' '.join(self.requirements)}")
            (self.path / ".complete").write_text("\n".join(self.requirements) + "\n")
        return self


def _base_python() -> str:
    """The interpreter new venvs are made from: the real one, not a venv's symlink farm."""
    return getattr(sys, "_base_executable", None) or sys.executable


def run(argv: Sequence[str], *, log: Path, what: str, env: Mapping[str, str] | None = None,
        cwd: Path | None = None, timeout: float = 900) -> None:
    """Run a set-up step, appending its output to ``log``; fail with the log's tail."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        # Set-up commands may carry passwords (keystone-manage bootstrap): masked in the log.
        out.write(f"\n$ {REDACTOR.redact(' '.join(map(str, argv)))}\n".encode())
        out.flush()
        try:
            proc = subprocess.run(list(map(str, argv)), stdout=out, stderr=subprocess.STDOUT,
                                  env=_merged_env(env), cwd=cwd, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TestbedError(f"{what} failed: {exc}", hint=f"See {log}") from exc
    if proc.returncode != 0:
        raise TestbedError(f"{what} failed (exit {proc.returncode}): {tail(log)}",
                           hint=f"Full log: {log}")


def tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])


def _merged_env(env: Mapping[str, str] | None) -> dict[str, str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "TEMPEST_"))}
    merged.setdefault("PYTHONWARNINGS", "ignore")
    merged.update(env or {})
    return merged


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for(probe: Callable[[], bool], *, timeout: float, what: str,
             interval: float = 0.2, log: Path | None = None) -> None:
    """Poll ``probe`` until it returns true; a bounded wait, never a bare sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        time.sleep(interval)
    detail = f": {tail(log)}" if log else ""
    raise TestbedError(f"timed out after {timeout:.0f} s waiting for {what}{detail}",
                       hint=f"See {log}" if log else None)


def http_ready(url: str) -> Callable[[], bool]:
    """A probe that is true once ``url`` answers with any HTTP status."""
    def probe() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=3):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ValueError):
            return False
    return probe


def process_start_ticks(pid: int) -> int | None:
    """When ``pid`` started (clock ticks since boot): tells our process from a reused PID."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 22 (starttime); the command name in field 2 may hold spaces, so split after ")".
    return int(stat.rsplit(")", 1)[1].split()[19])


class ServiceProcess:
    """A long-running server we start in its own session and stop by PID (and group)."""

    def __init__(self, name: str, argv: Sequence[str], *, log: Path,
                 env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name = name
        self.argv = list(map(str, argv))
        self.log = log
        self.env = env
        self.cwd = cwd
        self.pid: int | None = None

    def start(self) -> int:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env=_merged_env(self.env),
                                    cwd=self.cwd, start_new_session=True)
        self.pid = proc.pid
        return proc.pid

    def wait_http(self, url: str, timeout: float = 60) -> None:
        def probe() -> bool:
            if self.pid is not None and not pid_alive(self.pid):
                raise TestbedError(f"{self.name} exited during start-up: {tail(self.log)}",
                                   hint=f"See {self.log}")
            return http_ready(url)()
        wait_for(probe, timeout=timeout, what=f"{self.name} at {url}", log=self.log)

    def stop(self, timeout: float = 10) -> None:
        if self.pid is not None:
            stop_pid(self.pid, timeout=timeout)
            self.pid = None


def stop_pid(pid: int, *, timeout: float = 10, sig: int = signal.SIGTERM) -> None:
    """Stop a process we started (and its process group): ``sig``, then SIGKILL."""
    if not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def ensure_debian_packages(programs: Mapping[str, str]) -> None:
    """Install Debian packages for missing programs ({program: package}); root only.

    The project installs what it needs itself (no hand-installed prerequisites).
    """
    missing = sorted({pkg for prog, pkg in programs.items() if not _which(prog)})
    if not missing:
        return
    if os.geteuid() != 0:
        raise TestbedError(f"missing system packages: {' '.join(missing)}",
                           hint=f"Install them: apt-get install -y {' '.join(missing)}")
    log = cache_dir() / "apt.log"
    with file_lock(cache_dir() / "apt.lock"):
        env = {"DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], log=log, what="apt-get update", env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], log=log,
            what=f"apt-get install {' '.join(missing)}", env=env)


def _which(program: str) -> str | None:
    if os.path.isabs(program):
        return program if os.path.exists(program) else None
    return shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
