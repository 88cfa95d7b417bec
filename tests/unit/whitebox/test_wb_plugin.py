"""The pytest layer in inner runs: marker, skip/fail without an inventory, bad inventory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode

INNER = '''
import pytest

@pytest.mark.whitebox
def test_marked():
    pass

def test_uses_fixture(hosts):
    pass

def test_plain():
    pass
'''


def run_inner(tmp_path: Path, *args: str, env: dict[str, str] | None = None,
              ) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(INNER)
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("OS_", "PYTEST_", "TCUP_WHITEBOX")) and k != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
         "--strict-markers", "test_inner.py", *args],
        cwd=tmp_path, env={**clean, **(env or {})}, capture_output=True, text=True, timeout=120)


@pytest.mark.idempotent_id("a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b0001")
def test_without_inventory_whitebox_tests_skip_with_one_reason(tmp_path: Path) -> None:
    result = run_inner(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    reason = "whitebox: no inventory configured (set --whitebox-inventory, the " \
             "whitebox_inventory ini key or $TCUP_WHITEBOX_INVENTORY)"
    assert result.stdout.count(reason) == 2


@pytest.mark.idempotent_id("a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b0002")
def test_in_ci_a_missing_inventory_fails(tmp_path: Path) -> None:
    result = run_inner(tmp_path, env={"CI": "true"})
    assert result.returncode == 1
    assert "1 passed, 2 errors" in result.stdout or "2 failed, 1 passed" in result.stdout, \
        result.stdout
    assert "CI=true expects the testbed to provide one" in result.stdout


@pytest.mark.idempotent_id("a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b0003")
@pytest.mark.parametrize("how", ["option", "env", "ini"])
def test_malformed_inventory_stops_the_run_with_one_line(tmp_path: Path, how: str) -> None:
    (tmp_path / "inv.yaml").write_text("hosts:\n  c1:\n    address: h\n    port: 22\n")
    args, env = [], {}
    if how == "option":
        args = ["--whitebox-inventory", "inv.yaml"]
    elif how == "env":
        env = {"TCUP_WHITEBOX_INVENTORY": str(tmp_path / "inv.yaml")}
    else:
        (tmp_path / "pytest.ini").write_text("[pytest]\nwhitebox_inventory = inv.yaml\n")
    result = run_inner(tmp_path, *args, env=env)
    assert result.returncode == ExitCode.INVENTORY, result.stdout + result.stderr
    assert "inv.yaml:4: hosts.c1.port: unknown key" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.idempotent_id("a9b8c7d6-e5f4-4a3b-9c2d-1e0f9a8b0004")
def test_host_errors_in_tests_are_reported_as_one_line(tmp_path: Path) -> None:
    (tmp_path / "inv.yaml").write_text("hosts:\n  c1: {address: local}\n")
    (tmp_path / "test_inner.py").write_text(
        "import pytest\n\n@pytest.mark.whitebox\ndef test_x(hosts):\n"
        "    hosts['c1'].check_output('echo nope >&2; exit 3')\n")
    clean = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("OS_")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "--whitebox-inventory", "inv.yaml", "test_inner.py"],
        cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "CommandFailed: on c1: 'echo nope >&2; exit 3' exited 3: nope." in result.stdout
    assert "Traceback" not in result.stdout and "def test_x" not in result.stdout
