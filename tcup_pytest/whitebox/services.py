"""Change a service's config on a host, restart it, wait until healthy, restore afterwards.

The restore runs in ``finally`` (also on a failed assertion, Ctrl-C or SIGTERM) and puts
back the original bytes, then restarts again. Parallel workers changing the same host hold
a per-host lock for the whole change::

    >>> with config_change(host, "nova-compute", {"compute": {"cpu_shared_set": None}}):
    ...     boot_and_check()                                     # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import shlex
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from tcup_pytest.errors import HostError, TcupError
from tcup_pytest.whitebox import journal
from tcup_pytest.whitebox.hosts import Host
from tcup_pytest.whitebox.ini import apply_changes, get_option
from tcup_pytest.whitebox.inventory import ServiceSpec

LOG = logging.getLogger("tcup_pytest.whitebox.services")

#: ``(host name, binary) -> list of service dicts`` with ``state`` and ``updated_at``; the
#: pytest layer builds one from the cloud's compute API (``os-services``).
NovaServiceLister = Callable[[str, str], list[Mapping[str, Any]]]


def wait_until(probe: Callable[[], bool], *, timeout: float, what: str,
               interval: float = 0.3) -> None:
    """Poll ``probe`` until true: a bounded wait on a condition, never a bare sleep."""
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return
        if time.monotonic() >= deadline:
            raise HostError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class ConfigFile:
    """An INI file on a host: read and set options (the file is rewritten in place)."""

    def __init__(self, host: Host, path: str) -> None:
        self.host, self.path = host, path

    def read(self) -> bytes:
        return self.host.read_file(self.path)

    def get(self, section: str, option: str) -> str | None:
        return get_option(self.read().decode(), section, option)

    def set(self, changes: Mapping[str, Mapping[str, object]]) -> None:
        text = self.read().decode()
        self.host.write_file(self.path, apply_changes(text, {s: dict(o) for s, o in
                                                             changes.items()}).encode())


class Service:
    """A service from the inventory: restart through systemd, its container or commands."""

    def __init__(self, host: Host, spec: ServiceSpec | str,
                 nova_services: NovaServiceLister | None = None) -> None:
        if isinstance(spec, str):
            found = host.services.get(spec)
            if found is None:
                raise HostError(f"host {host.name} has no service {spec!r} in the inventory",
                                hint=f"Known: {', '.join(sorted(host.services)) or 'none'}")
            spec = found
        self.host, self.spec, self.nova_services = host, spec, nova_services

    @property
    def config_path(self) -> str:
        if not self.spec.config:
            raise HostError(f"service {self.spec.name} on {self.host.name} lists no config "
                            "file", hint="Add 'config: [path]' to it in the inventory")
        return self.spec.config[0]

    def config(self, path: str | None = None) -> ConfigFile:
        return ConfigFile(self.host, path or self.config_path)

    def _command(self, action: str) -> str:
        spec = self.spec
        if action == "restart" and spec.restart:
            return spec.restart
        if spec.start and spec.stop:
            if action == "restart":
                return f"{spec.stop}; {spec.start}"
            return spec.start if action == "start" else spec.stop
        if spec.systemd_unit:
            return shlex.join(["systemctl", action, spec.systemd_unit])
        if spec.container:
            return shlex.join([spec.runtime or "docker", action, spec.container])
        raise HostError(f"service {spec.name} on {self.host.name} has no way to {action}",
                        hint="Give it systemd_unit, container, or start/stop commands")

    def start(self) -> None:
        self.host.check_output(self._command("start"))

    def stop(self) -> None:
        self.host.check_output(self._command("stop"))

    def restart(self, *, wait: bool = True) -> None:
        before = self._nova_updated_at()
        self.host.check_output(self._command("restart"))
        if wait:
            self.wait_healthy(since=before)

    def healthy(self) -> bool:
        if self.spec.health_command:
            return self.host.run(self.spec.health_command, timeout=30).rc == 0
        if self.spec.systemd_unit:
            return self.host.run(["systemctl", "is-active", "--quiet",
                                  self.spec.systemd_unit]).rc == 0
        if self.spec.container:
            out = self.host.run([self.spec.runtime or "docker", "inspect", "-f",
                                 "{{.State.Running}}", self.spec.container])
            return out.rc == 0 and out.stdout.strip() == "true"
        return True

    def wait_healthy(self, *, since: str | None = None, timeout: float | None = None) -> None:
        """Wait for the probe, and for Nova's service API to report the service up again."""
        timeout = timeout or self.spec.health_timeout
        wait_until(self.healthy, timeout=timeout, what=f"{self.spec.name} on {self.host.name}")
        if self.spec.health_nova_service and self.nova_services is not None:
            wait_until(lambda: self._nova_up(since), timeout=timeout,
                       what=f"{self.spec.health_nova_service} on {self.host.name} up in the API")

    def _nova_rows(self) -> list[Mapping[str, Any]]:
        assert self.nova_services is not None and self.spec.health_nova_service
        return self.nova_services(self.host.name, self.spec.health_nova_service)

    def _nova_updated_at(self) -> str | None:
        if not (self.spec.health_nova_service and self.nova_services):
            return None
        rows = self._nova_rows()
        return str(rows[0].get("updated_at")) if rows else None

    def _nova_up(self, since: str | None) -> bool:
        rows = self._nova_rows()
        # A restart is seen once the service reported again after it (updated_at moved).
        return bool(rows) and all(r.get("state") == "up" and
                                  (since is None or str(r.get("updated_at")) != since)
                                  for r in rows)


# Per-host lock, re-entrant inside one process, exclusive between xdist workers ------------
_HELD: dict[str, list[Any]] = {}
_HELD_LOCK = threading.Lock()


@contextlib.contextmanager
def host_lock(host: Host) -> Iterator[None]:
    """Serialise config changes on one host across processes (nesting in a process is fine)."""
    key = hashlib.sha256(host.backend.identity.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / "tcup-whitebox-locks" / f"{key}.lock"
    with _HELD_LOCK:
        held = _HELD.get(key)
        if held:
            held[1] += 1
    if not held:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "w")  # noqa: SIM115 - kept open while the lock is held
        fcntl.flock(handle, fcntl.LOCK_EX)
        with _HELD_LOCK:
            _HELD[key] = [handle, 1]
    try:
        yield
    finally:
        with _HELD_LOCK:
            entry = _HELD[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _HELD[key]
                fcntl.flock(entry[0], fcntl.LOCK_UN)
                entry[0].close()


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt so ``finally`` blocks (the restore) still run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def config_change(host: Host, service: str | ServiceSpec,
                  changes: Mapping[str, Mapping[str, object]], *, path: str | None = None,
                  restart: bool = True,
                  nova_services: NovaServiceLister | None = None) -> Iterator[ConfigFile]:
    """Change options, restart, yield; then restore the original bytes and restart again.

    ``changes`` is ``{section: {option: value}}``; a value of ``None`` removes the option.
    """
    svc = Service(host, service, nova_services)
    config = svc.config(path)
    with _sigterm_raises(), host_lock(host):
        original = config.read()
        entry = journal.record(host.backend.identity, host.name, config.path, original,
                               svc.spec.name if restart else "")
        LOG.info("[%s] changing %s: %s", host.name, config.path, dict(changes))
        try:
            config.set(changes)
            if restart:
                svc.restart()
            yield config
        finally:
            LOG.info("[%s] restoring %s", host.name, config.path)
            try:
                config.host.write_file(config.path, original)
                journal.forget(entry)
            finally:
                if restart:
                    svc.restart()


def recover_orphaned_changes(hosts: Mapping[str, Host]) -> int:
    """Restore files a killed run left changed (see :mod:`.journal`); returns the count."""
    def restore(data: dict[str, Any], original: bytes) -> bool:
        try:
            host = hosts[data["host"]]
            if host.backend.identity != data["identity"]:
                return False
            with host_lock(host):
                host.write_file(data["path"], original)
                spec = host.services.get(data["service"])
                if spec is not None:
                    Service(host, spec).restart()
        except TcupError as error:
            LOG.warning("cannot restore %s on %s yet: %s", data["path"], data["host"], error)
            return False
        return True
    return journal.recover(restore)

