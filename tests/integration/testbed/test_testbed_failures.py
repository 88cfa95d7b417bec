"""A testbed that cannot start says why in one line naming the log file, and leaves nothing
running."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, TestbedError
from tcup_pytest.testbed import Testbed
from tcup_pytest.testbed.keystone import Keystone

pytestmark = pytest.mark.integration


def our_processes(state_dir: Path) -> list[str]:
    """Command lines of live processes that mention ``state_dir``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(state_dir) in cmdline:
                found.append(cmdline)
    return found


def assert_one_line_naming(error: TestbedError, log: Path) -> None:
    text = str(error)
    assert "\n" not in text and str(log) in text, text
    assert log.exists()


def test_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        bed = Testbed(tmp_path, components=["keystone"], ports={"keystone": port})
        with pytest.raises(TestbedError) as caught:
            bed.up()
    assert f"port {port}" in str(caught.value) and "in use" in str(caught.value)
    assert_one_line_naming(caught.value, tmp_path / "keystone" / "keystone.log")
    assert caught.value.exit_code == ExitCode.TESTBED


def test_venv_install_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("TCUP_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(Keystone, "requirements", (str(tmp_path / "no-such-project"),))
    with pytest.raises(TestbedError) as caught:
        Testbed(tmp_path / "bed", components=["keystone"]).up()
    assert str(caught.value).startswith("keystone: installing")
    logs = list((tmp_path / "cache" / "venvs").glob("keystone-*.log"))
    assert len(logs) == 1
    assert_one_line_naming(caught.value, logs[0])


def test_service_that_dies_at_start(bed_dir, monkeypatch):
    monkeypatch.setattr(Keystone, "wsgi_app", "keystone_wsgi_shim:no_such_application")
    bed = Testbed(bed_dir, components=["keystone"])
    with pytest.raises(TestbedError) as caught:
        bed.up()
    assert "keystone exited during start-up" in str(caught.value)
    assert_one_line_naming(caught.value, bed_dir / "keystone" / "keystone.log")
    assert our_processes(bed_dir) == []
    assert not bed.status()["running"]


def test_unknown_component_is_one_cli_line(tcup):
    result = tcup("testbed", "up", "--components", "keystone,no-such-service")
    assert result.returncode == ExitCode.TESTBED
    assert result.stderr.count("\n") == 1
    assert "unknown testbed component 'no-such-service'" in result.stderr
    assert "Traceback" not in result.stderr
