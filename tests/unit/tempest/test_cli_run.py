"""`tcup run` / `tcup config tempest`: bad input is one line with its own exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode

#: runs the CLI with tempest hidden, as on a machine where it is not installed
HIDE_TEMPEST = """
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == "tempest" or name.startswith("tempest."):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, Hide())
from tcup_pytest.cli import main
sys.exit(main(sys.argv[1:]))
"""


def tcup(*args: str, hide_tempest: bool = False, cwd: Path | None = None
         ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    code = HIDE_TEMPEST if hide_tempest else \
        "import sys; from tcup_pytest.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def one_line(proc: subprocess.CompletedProcess) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_tempest_not_installed():
    proc = tcup("run", "--tempest-conf", "/dev/null", hide_tempest=True)
    assert proc.returncode == ExitCode.TEMPEST_MISSING
    assert "tempest is not installed" in one_line(proc)


def test_unknown_guideline(tempest_conf: Path):
    proc = tcup("run", "--tempest-conf", str(tempest_conf), "--guideline", "1999.01")
    assert proc.returncode == ExitCode.GUIDELINE
    assert "1999.01" in one_line(proc)


def test_unknown_target(tempest_conf: Path):
    proc = tcup("run", "--tempest-conf", str(tempest_conf), "--guideline", "2020.06",
                "--target", "bogus")
    assert proc.returncode == ExitCode.GUIDELINE
    assert "bogus" in one_line(proc)


def test_unreadable_test_list(tempest_conf: Path, tmp_path: Path):
    proc = tcup("run", "--tempest-conf", str(tempest_conf), "--test-list",
                str(tmp_path / "missing.txt"))
    assert proc.returncode == ExitCode.INPUT_FILE
    assert "cannot read test list" in one_line(proc)


@pytest.mark.parametrize("option", ["compute", "compute.build_timeout", "=1"])
def test_broken_tempest_option(tempest_conf: Path, option: str):
    proc = tcup("run", "--tempest-conf", str(tempest_conf), f"--tempest-option={option}")
    assert proc.returncode == ExitCode.CONFIG
    assert "section.key=value" in one_line(proc)


def test_no_cloud_at_all(tmp_path: Path):
    proc = tcup("run", cwd=tmp_path)
    assert proc.returncode == ExitCode.CONFIG
    assert "OS_AUTH_URL" in one_line(proc)


def test_nothing_on_the_list_is_installed(tempest_conf: Path, tmp_path: Path):
    test_list = tmp_path / "list.txt"
    test_list.write_text("tempest.api.nowhere.test_x.C.test_y[id-"
                         "11111111-2222-4333-8444-555555555555]\n")
    proc = tcup("run", "--tempest-conf", str(tempest_conf), "--test-list", str(test_list),
                "--junitxml", str(tmp_path / "junit.xml"), cwd=tmp_path)
    assert proc.returncode == ExitCode.NOTHING_SELECTED
    assert "tempest.api.nowhere.test_x.C.test_y" in proc.stdout + proc.stderr
    assert not list(tmp_path.glob("tcup-tempest-*"))


def test_config_tempest_masks_secrets(tempest_conf: Path):
    proc = tcup("config", "tempest", "--tempest-conf", str(tempest_conf),
                "--tempest-option", "auth.admin_password=another-secret-pw")
    assert proc.returncode == 0, proc.stderr
    assert "admin_password = ***" in proc.stdout
    assert "another-secret-pw" not in proc.stdout and "unit-test-admin-pw" not in proc.stdout
    assert "[identity]" in proc.stdout


def test_collect_only_lists_without_reports_or_upload(tempest_conf: Path, tmp_path: Path):
    """`tcup run -- --collect-only` shows the selection: no results to save, nothing sent
    (the --url port is closed, so an upload attempt would fail the command)."""
    test_list = tmp_path / "list.txt"
    test_list.write_text("tempest.api.identity.admin.v3.test_users\n")
    run_dir = tmp_path / "run"
    proc = tcup("run", "--tempest-conf", str(tempest_conf), "--test-list", str(test_list),
                "--run-dir", str(run_dir), "--url", "http://127.0.0.1:9", "-j", "1",
                "--", "--collect-only", "-q", cwd=tmp_path)
    assert proc.returncode == ExitCode.OK, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "test_update_user_password" in proc.stdout
    assert "uploading" not in proc.stderr
    assert not (run_dir / "refstack.json").exists()
    assert not (run_dir / "results.json").exists()
