"""The local testbed: real keystone, glance and placement on 127.0.0.1, started by us.

Usable from a script, the ``tcup testbed`` command and the framework's own tests::

    >>> tb = Testbed()                          # doctest: +SKIP
    >>> tb.up()                                 # doctest: +SKIP
    {'keystone.venv': 0.01, ..., 'total': 14.2}
    >>> env = {**os.environ, **tb.env("tcup-member")}   # OS_* for a subprocess
    >>> tb.down()                               # doctest: +SKIP

Everything lives in one private state directory ($TCUP_TESTBED_DIR, default
``~/.cache/tcup-pytest/testbed/default``): configs, SQLite files, logs, ``clouds.yaml``,
openrc files and ``state.json`` (ports, PIDs, passwords), so another process can find,
reuse or stop what this one started. Components are listed in
:data:`tcup_pytest.testbed.component.COMPONENTS`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcup_pytest.errors import TestbedError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.testbed.base import cache_dir, file_lock
from tcup_pytest.testbed.clouds import (
    CloudCredentials,
    write_clouds_yaml,
    write_openrc,
    write_private,
)
from tcup_pytest.testbed.component import (
    COMPONENTS,
    Component,
    Context,
    Timings,
    component_class,
    run_parallel,
)
from tcup_pytest.testbed.keystone import (
    ADMIN_PROJECT,
    ADMIN_USER,
    MEMBER_PROJECT,
    MEMBER_USER,
    KeystoneHandle,
)

if TYPE_CHECKING:
    from openstack.connection import Connection

__all__ = ["ADMIN_CLOUD", "COMPONENTS", "DEFAULT_COMPONENTS", "MEMBER_CLOUD", "Testbed",
           "default_state_dir"]

DEFAULT_COMPONENTS = ("keystone", "glance", "placement")
ADMIN_CLOUD = "tcup-admin"
MEMBER_CLOUD = "tcup-member"
STATE_FILE = "state.json"
CLOUDS_FILE = "clouds.yaml"


def default_state_dir() -> Path:
    env = os.environ.get("TCUP_TESTBED_DIR")
    return Path(env).expanduser() if env else cache_dir() / "testbed" / "default"


class Testbed:
    """One testbed, identified by its state directory."""

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, state_dir: str | os.PathLike[str] | None = None,
                 components: Iterable[str] = DEFAULT_COMPONENTS, *,
                 ports: Mapping[str, int] | None = None) -> None:
        names = list(dict.fromkeys(components))
        if "keystone" not in names and any(component_class(n).needs_keystone for n in names):
            names.insert(0, "keystone")
        order = list(COMPONENTS)
        self.components = tuple(sorted(names, key=lambda n: order.index(n)
                                       if n in order else len(order)))
        for name in self.components:
            component_class(name)  # unknown names fail here, not half-way through up()
        self.state_dir = Path(state_dir or default_state_dir()).expanduser().resolve()
        #: pinned ports (name -> port); the default is a free port for each service.
        self.ports = dict(ports or {})
        #: True when the last ``up()`` found this testbed already running.
        self.reused = False
        self._state: dict[str, Any] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def up(self) -> dict[str, float]:
        """Start the testbed (or reuse the running one); returns seconds per phase."""
        started = time.monotonic()
        self.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.state_dir.chmod(0o700)
        with file_lock(self.state_dir / ".lock"):
            state = self._load()
            live = self._live(state)
            if state and "keystone" in live and set(self.components) <= live:
                self._state, self.reused = state, True
                return {"reuse": round(time.monotonic() - started, 3)}
            self.reused = False
            if state and "keystone" not in live:
                self._stop(state)
                state = None
            missing = [n for n in self.components if n not in live]
            self._state = self._start(state, missing)
            return self._state["timings"]

    def down(self, *, keep_logs: bool = False) -> None:
        """Stop exactly the processes this testbed recorded and remove its state (all but
        the components' logs with ``keep_logs``)."""
        if not self.state_dir.is_dir():
            return
        with file_lock(self.state_dir / ".lock"):
            state = self._load()
            if state:
                self._stop(state)
            for name in {*COMPONENTS, *(state or {}).get("components", {})}:
                _remove_component_dir(self.state_dir / name, keep=f"{name}.log" if keep_logs
                                      else None)
            for path in (STATE_FILE, CLOUDS_FILE, *(f"{c}.openrc" for c in self.cloud_names)):
                (self.state_dir / path).unlink(missing_ok=True)
        self._state = None

    def status(self) -> dict[str, Any]:
        """What runs, where, and whether it answers (works from any process)."""
        state = self._load()
        report: dict[str, Any] = {"state_dir": str(self.state_dir), "running": False,
                                  "components": {}}
        if not state:
            return report
        for name, cstate in state["components"].items():
            report["components"][name] = _class_or_base(name).status(cstate)
        report["running"] = all(c["running"] for c in report["components"].values())
        report.update(clouds_yaml=str(self.clouds_yaml), clouds=self.cloud_names,
                      started=state.get("started"), timings=state.get("timings", {}))
        return report

    @property
    def running(self) -> bool:
        return bool(self.status()["running"])

    # -- what clients need ----------------------------------------------------------------

    @property
    def state(self) -> dict[str, Any]:
        if self._state is None:
            self._state = self._load()
        if self._state is None:
            raise TestbedError(f"no testbed is running in {self.state_dir}",
                               hint="Start it: tcup testbed up")
        return self._state

    @property
    def auth_url(self) -> str:
        return self.state["components"]["keystone"]["url"]

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / CLOUDS_FILE

    @property
    def cloud_names(self) -> list[str]:
        return [ADMIN_CLOUD, MEMBER_CLOUD]

    @property
    def admin_password(self) -> str:
        return self.state["components"]["keystone"]["admin_password"]

    @property
    def member_password(self) -> str:
        return self.state["components"]["keystone"]["member_password"]

    @property
    def timings(self) -> dict[str, float]:
        return self.state.get("timings", {})

    def url(self, component: str) -> str:
        """The base URL of a running component (keystone's is its /v3 URL)."""
        try:
            return self.state["components"][component]["url"]
        except KeyError:
            raise TestbedError(f"the testbed in {self.state_dir} runs no {component}",
                               hint=f"Start it: tcup testbed up --components {component}"
                               ) from None

    def credentials(self, cloud: str) -> CloudCredentials:
        for creds in self._clouds(self.state):
            if creds.cloud == cloud:
                return creds
        raise TestbedError(f"unknown testbed cloud {cloud!r}",
                           hint=f"Use one of: {', '.join(self.cloud_names)}")

    def env(self, cloud: str = MEMBER_CLOUD) -> dict[str, str]:
        """OS_* variables for ``cloud`` (``tcup-admin`` or ``tcup-member``)."""
        return self.credentials(cloud).env()

    def openrc(self, cloud: str = MEMBER_CLOUD) -> Path:
        self.credentials(cloud)
        return self.state_dir / f"{cloud}.openrc"

    def connect(self, cloud: str = MEMBER_CLOUD) -> Connection:
        """An openstacksdk connection through the written clouds.yaml (the loader we ship)."""
        from openstack import config, connection

        loader = config.OpenStackConfig(config_files=[str(self.clouds_yaml)],
                                        load_envvars=False)
        return connection.Connection(config=loader.get_one(cloud))

    # -- internals ------------------------------------------------------------------------

    def _start(self, state: dict[str, Any] | None, names: list[str]) -> dict[str, Any]:
        started, timings = time.monotonic(), Timings()
        previous = dict(state["components"]) if state else {}
        for name in names:  # a crashed component of a live testbed: stop its remains
            if name in previous:
                _class_or_base(name).down(previous.pop(name))
            _remove_component_dir(self.state_dir / name)
        ctx = Context(self.state_dir, timings, self.ports)
        comps: list[Component] = [component_class(n)(ctx) for n in names]
        keystone = next((c for c in comps if c.name == "keystone"), None)
        if keystone is None:
            ctx.keystone = KeystoneHandle.from_state(previous["keystone"])
        ctx.auth_url = getattr(keystone, "url", None) or previous["keystone"]["url"]
        try:
            with timings.phase("prepare"):
                run_parallel([c.prepare for c in comps])
            if keystone is not None:
                previous["keystone"] = keystone.up()
            others = [c for c in comps if c is not keystone]
            with timings.phase("services"):
                for comp, cstate in zip(others, run_parallel([c.up for c in others]),
                                        strict=True):
                    previous[comp.name] = cstate
        except BaseException:
            for comp in reversed(comps):
                comp.abort()
            raise
        timings.record("total", time.monotonic() - started)
        order = [n for n in COMPONENTS if n in previous] + [n for n in previous
                                                            if n not in COMPONENTS]
        new_state = {"version": 1, "started": datetime.now(UTC).isoformat(timespec="seconds"),
                     "components": {n: previous[n] for n in order},
                     "timings": timings.as_dict()}
        clouds = self._clouds(new_state)
        write_clouds_yaml(self.clouds_yaml, clouds)
        for creds in clouds:
            write_openrc(self.state_dir / f"{creds.cloud}.openrc", creds)
        write_private(self.state_dir / STATE_FILE, json.dumps(new_state, indent=2) + "\n")
        return new_state

    @staticmethod
    def _clouds(state: Mapping[str, Any]) -> list[CloudCredentials]:
        ks = state["components"]["keystone"]
        return [CloudCredentials(ADMIN_CLOUD, ks["url"], ADMIN_USER, ks["admin_password"],
                                 ADMIN_PROJECT),
                CloudCredentials(MEMBER_CLOUD, ks["url"], MEMBER_USER, ks["member_password"],
                                 MEMBER_PROJECT)]

    def _load(self) -> dict[str, Any] | None:
        path = self.state_dir / STATE_FILE
        try:
            state = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise TestbedError(f"the testbed state file {path} is unreadable: {exc}",
                               hint="Stop its services by hand, then remove the file") from exc
        for cstate in state.get("components", {}).values():
            for key in ("admin_password", "member_password", "password"):
                REDACTOR.register(cstate.get(key))
        return state

    @staticmethod
    def _live(state: Mapping[str, Any] | None) -> set[str]:
        if not state:
            return set()
        return {name for name, cstate in state["components"].items()
                if _class_or_base(name).status(cstate)["running"]}

    @staticmethod
    def _stop(state: Mapping[str, Any]) -> None:
        # Each stop waits for its process to end: in parallel, down takes the longest one.
        run_parallel([lambda n=name, s=cstate: _class_or_base(n).down(s)
                      for name, cstate in state["components"].items()])


def _class_or_base(name: str) -> type[Component]:
    """A recorded component whose class is gone can still be stopped by its PIDs."""
    return component_class(name) if name in COMPONENTS else Component


def _remove_component_dir(path: Path, keep: str | None = None) -> None:
    if keep is None or not (path / keep).exists():
        shutil.rmtree(path, ignore_errors=True)
        return
    for child in path.iterdir():
        if child.name != keep:
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
