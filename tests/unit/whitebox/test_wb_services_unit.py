"""config_change on this machine with a command-driven service; the per-host lock."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tcup_pytest.errors import HostError
from tcup_pytest.whitebox import journal
from tcup_pytest.whitebox.hosts import Host
from tcup_pytest.whitebox.inventory import ServiceSpec
from tcup_pytest.whitebox.services import (
    Service,
    config_change,
    host_lock,
    recover_orphaned_changes,
)

CONF = "# keep this comment\n[DEFAULT]\ndebug = false\n\n[compute]\ncpu_shared_set = 0-1\n"


def local_service(tmp_path: Path, **extra: object) -> tuple[Host, Path, Path]:
    conf, log = tmp_path / "svc.conf", tmp_path / "restarts.log"
    conf.write_text(CONF)
    spec = ServiceSpec("svc", start=f"grep debug {conf} >> {log}", stop="true",
                       config=(str(conf),), health_command=f"test -s {log}", **extra)
    return Host("local://", name="local", services={"svc": spec}), conf, log


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0001")
def test_change_restart_restore(tmp_path: Path) -> None:
    host, conf, log = local_service(tmp_path)
    original = conf.read_bytes()
    with config_change(host, "svc", {"DEFAULT": {"debug": True}, "compute":
                                     {"cpu_shared_set": None}}) as config:
        assert config.get("DEFAULT", "debug") == "True"
        assert config.get("compute", "cpu_shared_set") is None
    assert conf.read_bytes() == original
    # restarted with the change, then again with the original
    assert log.read_text() == "debug = True\ndebug = false\n"


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0002")
def test_restore_on_failure_and_interrupt(tmp_path: Path) -> None:
    host, conf, log = local_service(tmp_path)
    original = conf.read_bytes()
    for error in (AssertionError, KeyboardInterrupt):
        with pytest.raises(error), config_change(host, "svc", {"DEFAULT": {"debug": "x"}}):
            raise error()
        assert conf.read_bytes() == original
    assert log.read_text().count("debug = false") == 2


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0003")
def test_unhealthy_service_times_out_and_still_restores(tmp_path: Path) -> None:
    host, conf, _ = local_service(tmp_path)
    spec = host.services["svc"]
    host.services["svc"] = ServiceSpec("svc", start="true", stop="true", config=spec.config,
                                       health_command="false", health_timeout=1)
    original = conf.read_bytes()
    with pytest.raises(HostError, match="timed out after 1 s waiting for svc on local"), \
            config_change(host, "svc", {"DEFAULT": {"debug": "y"}}):
        pass  # pragma: no cover - the restart's health wait fails first
    assert conf.read_bytes() == original


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0004")
@pytest.mark.parametrize(("spec", "command"), [
    (ServiceSpec("n", systemd_unit="devstack@n-cpu"), "systemctl restart devstack@n-cpu"),
    (ServiceSpec("n", container="nova_compute", runtime="podman"),
     "podman restart nova_compute"),
    (ServiceSpec("n", start="s", stop="t"), "t; s"),
    (ServiceSpec("n", start="s", stop="t", restart="r"), "r"),
])
def test_restart_backends(spec: ServiceSpec, command: str) -> None:
    assert Service(Host("local://", services={"n": spec}), "n")._command("restart") == command


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0005")
def test_nova_service_health_waits_for_a_fresh_report(tmp_path: Path) -> None:
    host, _, _ = local_service(tmp_path, health_nova_service="nova-compute")
    reports = iter([
        [{"state": "up", "updated_at": "t0"}],    # before the restart
        [{"state": "up", "updated_at": "t0"}],    # not yet reported again
        [{"state": "down", "updated_at": "t1"}],
        [{"state": "up", "updated_at": "t2"}],
    ])
    calls: list[tuple[str, str]] = []

    def lister(name: str, binary: str):
        calls.append((name, binary))
        return next(reports)
    Service(host, "svc", nova_services=lister).restart()
    assert len(calls) == 4 and calls[0] == ("local", "nova-compute")


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0006")
def test_host_lock_excludes_other_processes_and_nests() -> None:
    host = Host("local://")
    key = hashlib.sha256(host.backend.identity.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / "tcup-whitebox-locks" / f"{key}.lock"
    probe = ("import fcntl, sys\nf = open(sys.argv[1], 'w')\n"
             "try:\n    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    print('free')\n"
             "except BlockingIOError:\n    print('held')\n")

    def other_process_sees() -> str:
        return subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True,
                              text=True, check=True).stdout.strip()
    with host_lock(host):
        with host_lock(host):  # re-entrant in one process (nested config changes)
            assert other_process_sees() == "held"
        assert other_process_sees() == "held"
    assert other_process_sees() == "free"
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released for real


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0007")
def test_changes_left_by_a_killed_run_are_recovered(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(journal.JOURNAL_ENV, str(tmp_path / "journal"))
    host, conf, log = local_service(tmp_path)
    original = conf.read_bytes()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # A run that changed the file and died before its finally: its entry names a dead pid.
    entry = journal.record(host.backend.identity, "local", str(conf), original, "svc")
    data = json.loads(entry.read_text())
    entry.write_text(json.dumps({**data, "pid": int(dead)}))
    live = journal.record(host.backend.identity, "local", str(tmp_path / "other"), b"x", "svc")
    conf.write_text("[DEFAULT]\ndebug = left-behind\n")
    assert recover_orphaned_changes({"local": host}) == 1
    assert conf.read_bytes() == original
    assert log.read_text() == "debug = false\n"  # restarted on the original
    assert not entry.exists() and live.exists()  # a live run's entry is not touched
    assert not (tmp_path / "other").exists()


@pytest.mark.idempotent_id("f0a1b2c3-d4e5-4f6a-8b7c-9d0e1f2a0008")
def test_journal_entries_are_private_and_removed_after_restore(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(journal.JOURNAL_ENV, str(tmp_path / "journal"))
    host, _, _ = local_service(tmp_path)
    with config_change(host, "svc", {"DEFAULT": {"debug": "1"}}):
        (entry,) = (tmp_path / "journal").glob("*.json")
        assert entry.stat().st_mode & 0o777 == 0o600
    assert list((tmp_path / "journal").glob("*")) == []
