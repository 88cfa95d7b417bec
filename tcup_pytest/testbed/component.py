"""The testbed's extension point: a component is one thing the testbed starts and stops.

A component is a class with ``prepare()`` (work that needs no other service: its virtualenv,
config files, database schema; all components prepare in parallel), ``up()`` (start it, with
keystone already answering as ``ctx.keystone``; returns a JSON-able dict that is persisted in
the state file) and the class methods ``down(state)`` / ``status(state)``, which work from that
dict alone, so another process (``tcup testbed down``) can stop what this one started.

Adding one is a module under ``tcup_pytest/testbed/`` plus one line in :data:`COMPONENTS`
(imported lazily, like testinfra's backends)::

    COMPONENTS["refstack"] = "tcup_pytest.testbed.refstack:RefStack"
"""

from __future__ import annotations

import contextlib
import importlib
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from tcup_pytest.errors import TestbedError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.testbed.base import (
    ServiceProcess,
    Venv,
    free_port,
    http_ready,
    pid_alive,
    process_start_ticks,
    stop_pid,
)

if TYPE_CHECKING:
    from tcup_pytest.testbed.keystone import KeystoneHandle

#: name -> "module:Class"; the order here is the start order (keystone first).
COMPONENTS: dict[str, str] = {
    "keystone": "tcup_pytest.testbed.keystone:Keystone",
    "glance": "tcup_pytest.testbed.glance:Glance",
    "placement": "tcup_pytest.testbed.placement:Placement",
    "nova": "tcup_pytest.testbed.nova:Nova",
    "refstack": "tcup_pytest.testbed.refstack:RefStack",
}

HOST = "127.0.0.1"


def component_class(name: str) -> type[Component]:
    """The class registered under ``name``, imported on first use."""
    try:
        module, _, attr = COMPONENTS[name].partition(":")
    except KeyError:
        raise TestbedError(f"unknown testbed component {name!r}",
                           hint=f"Choose from: {', '.join(COMPONENTS)}") from None
    return getattr(importlib.import_module(module), attr)


class Timings:
    """Wall-clock seconds per named phase; thread-safe (components prepare in parallel)."""

    def __init__(self) -> None:
        self._phases: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        try:
            yield
        finally:
            self.record(name, time.monotonic() - start)

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            self._phases[name] = round(self._phases.get(name, 0.0) + seconds, 3)

    def as_dict(self) -> dict[str, float]:
        with self._lock:
            return dict(self._phases)


@dataclass
class Context:
    """What a component gets from the testbed: where to live, ports, timings, keystone."""

    state_dir: Path
    timings: Timings = field(default_factory=Timings)
    pinned_ports: Mapping[str, int] = field(default_factory=dict)
    #: keystone's /v3 URL, known before keystone answers (services write it into config).
    auth_url: str | None = None
    #: admin access to keystone, set once keystone answers (before the others' ``up()``).
    keystone: KeystoneHandle | None = None

    def phase(self, name: str) -> contextlib.AbstractContextManager[None]:
        return self.timings.phase(name)

    def port(self, name: str, log: Path) -> int:
        """A free port on 127.0.0.1, or the pinned one if it is free (else a clear error)."""
        port = self.pinned_ports.get(name)
        if port is None:
            return free_port(HOST)
        ensure_port_free(name, port, log)
        return port


def ensure_port_free(name: str, port: int, log: Path) -> None:
    """Fail before starting a server whose port is taken: its readiness probe would be fooled
    by whatever listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((HOST, port))
            return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    message = f"{name}: port {port} on {HOST} is already in use ({reason})"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as out:
        out.write(message + "\n")
    raise TestbedError(message, hint=f"Stop what listens there or pick another port; log: {log}")


def new_password() -> str:
    """A random password, registered with the redactor before anyone can print it."""
    password = secrets.token_urlsafe(18)
    REDACTOR.register(password)
    return password


class Component:
    """Base class: processes it started are recorded with their start time, so ``down``
    stops exactly those (never a reused PID)."""

    name: ClassVar[str]
    #: pip requirements of its own cached virtualenv; empty: no virtualenv.
    requirements: ClassVar[tuple[str, ...]] = ()
    #: whether ``up()`` needs ``ctx.keystone`` (then keystone is started first).
    needs_keystone: ClassVar[bool] = True
    #: what ``down`` sends first (SIGKILL follows if it does not end in time).
    stop_signal: ClassVar[int] = signal.SIGTERM

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.dir = ctx.state_dir / self.name
        self.log = self.dir / f"{self.name}.log"
        self.processes: list[ServiceProcess] = []

    @cached_property
    def venv(self) -> Venv:
        return Venv(self.name, self.requirements)

    def prepare(self) -> None:
        """Make its directory and virtualenv; subclasses add config and schema."""
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.requirements:
            with self.ctx.phase(f"{self.name}.venv"):
                try:
                    self.venv.ensure()
                except TestbedError as exc:
                    raise TestbedError(f"{self.name}: {exc.message}", hint=exc.hint) from exc

    def up(self) -> dict[str, Any]:
        raise NotImplementedError

    def start(self, argv: list[str], env: Mapping[str, str] | None = None) -> ServiceProcess:
        """Start a long-running process in its own session, logging to the component log."""
        proc = ServiceProcess(self.name, argv, log=self.log, env=env, cwd=self.dir)
        proc.start()
        self.processes.append(proc)
        return proc

    def process_records(self) -> list[dict[str, int | None]]:
        return [{"pid": p.pid, "start": process_start_ticks(p.pid)}
                for p in self.processes if p.pid is not None]

    def abort(self) -> None:
        """Stop what this instance started (a failed ``up``); logs stay for the error."""
        for proc in reversed(self.processes):
            proc.stop()

    @classmethod
    def down(cls, state: Mapping[str, Any]) -> None:
        for record in reversed(state.get("processes", [])):
            if is_ours(record):
                stop_pid(record["pid"], sig=cls.stop_signal)

    @classmethod
    def status(cls, state: Mapping[str, Any]) -> dict[str, Any]:
        records = state.get("processes", [])
        running = bool(records) and all(is_ours(r) for r in records)
        report: dict[str, Any] = {"running": running, "pids": [r["pid"] for r in records]}
        for key in ("url", "log"):
            if key in state:
                report[key] = state[key]
        if running and "url" in state:
            report["answering"] = http_ready(state["url"])()
            report["running"] = report["answering"]
        return report


def is_ours(record: Mapping[str, Any]) -> bool:
    """True while the recorded process runs and its PID was not reused by another one."""
    pid = record.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return False
    return record.get("start") is None or process_start_ticks(pid) == record["start"]


T = TypeVar("T")


def run_parallel(calls: Iterable[Callable[[], T]]) -> list[T]:
    """Run independent steps in threads (they mostly wait on subprocesses); all finish, then
    the first error is raised."""
    calls = list(calls)
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]
    return [f.result() for f in futures]
