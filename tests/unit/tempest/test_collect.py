"""Discovery, ids, markers and test-list selection against the installed Tempest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.tempest import discover
from tests.unit.tempest.conftest import DUMP_PLUGIN

UPDATE_PW = "tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_update_user_password"
UPDATE_PW_UUID = "2d223a0e-e457-4a70-9fb1-febe027a0ff9"
REFSTACK_LIST = Path(__file__).parents[2] / "data" / "refstack" / \
    "tests-2020.06-platform-required-alias-noflag.txt"


def collect(pytester: pytest.Pytester, conf: Path, *args: str, cwd: Path | None = None
            ) -> tuple[subprocess.CompletedProcess, dict]:
    """Collect in a fresh process (as a user would), returning output and the dump."""
    (pytester.path / "dump_ids.py").write_text(DUMP_PLUGIN)
    dump = pytester.path / "dump.json"
    env = {**os.environ, "DUMP_TO": str(dump), "PYTHONPATH": str(pytester.path)}
    env.pop("OS_CLOUD", None)
    env.pop("OS_AUTH_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "dump_ids", "-p", "no:cacheprovider",
         "--tempest", "--tempest-conf", str(conf), "--collect-only", "-q",
         "-W", "ignore::DeprecationWarning", *args],
        cwd=cwd or pytester.path, env=env, capture_output=True, text=True, timeout=300)
    data = json.loads(dump.read_text()) if dump.exists() else {}
    return proc, data


def test_roots_are_what_tempest_run_loads():
    packages = [root.package for root in discover.test_roots()]
    assert packages[:3] == ["tempest.api", "tempest.scenario", "tempest.serial_tests"]
    assert "tempest.tests" not in packages


def test_paths_for_names_finds_modules_without_importing():
    roots = discover.test_roots(plugins=False)
    paths, unknown = discover.paths_for(
        [UPDATE_PW, "tempest.api.identity.admin.v3.test_users",
         "tempest.api.nowhere.test_x.C.test_y"], roots)
    assert [p.name for p in paths] == ["test_users.py"]
    assert unknown == ["tempest.api.nowhere.test_x.C.test_y"]
    assert discover.paths_for(["tempest.api.identity", UPDATE_PW], roots)[0] == [
        roots[0].path / "identity"]


def test_all_ids_equal_stestr_list(pytester: pytest.Pytester, tempest_conf: Path):
    """Every Tempest id pytest collects is one `stestr list` gives, and the reverse."""
    proc, data = collect(pytester, tempest_conf)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    base = discover.tempest_dir()
    env = {**os.environ, "TEMPEST_CONFIG_DIR": str(tempest_conf.parent),
           "TEMPEST_CONFIG": tempest_conf.name}
    stestr_cmd = [sys.executable, "-m", "stestr.cli", "--test-path", str(base / "test_discover"),
                  "--top-dir", str(base.parent)]
    subprocess.run([*stestr_cmd, "init"], cwd=pytester.path, env=env, capture_output=True,
                   check=True, timeout=60)
    stestr = subprocess.run([*stestr_cmd, "list"], cwd=pytester.path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert stestr.returncode == 0, stestr.stderr[-2000:]
    expected = {line for line in stestr.stdout.splitlines() if line.startswith("tempest.")}
    assert len(expected) > 1000
    assert set(data["ids"]) == expected
    assert len(data["ids"]) == len(expected)
    assert not any(m.startswith("tempest.tests.") for m in data["modules"])
    assert all(n.startswith("tempest/") for n in data["nodeids"])


def test_nodeids_do_not_depend_on_cwd_or_rootdir(pytester: pytest.Pytester,
                                                  tempest_conf: Path, tmp_path: Path):
    args = ("--include", r"^tempest\.api\.identity\.v3\.test_tokens")
    _, here = collect(pytester, tempest_conf, *args)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _, there = collect(pytester, tempest_conf, *args, "--rootdir", str(elsewhere),
                       cwd=elsewhere)
    assert here["nodeids"] and here["nodeids"] == there["nodeids"]
    assert here["nodeids"][0].startswith("tempest/api/identity/v3/test_tokens.py::")


def test_tempest_modules_get_their_own_collector_and_frozen_memory(
        pytester: pytest.Pytester, tempest_conf: Path):
    """Modules imported by dotted name (no fixture scan), the collected objects frozen."""
    proc, data = collect(pytester, tempest_conf, "--include", r"^tempest\.api\.identity\.v3")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert data["collectors"] == ["TempestModule"]
    assert data["gc"]["enabled"] and data["gc"]["frozen"] > 10_000


def test_only_the_way_to_the_roots_is_walked(tmp_path: Path):
    """Entries beside the path to a Tempest path are skipped; inside a root only __pycache__."""
    from tcup_pytest.plugins.tempest import TempestRun
    from tcup_pytest.tempest.discover import TestRoot

    root = TestRoot("tempest.api", tmp_path / "site" / "tempest" / "api")
    run = TempestRun.__new__(TempestRun)  # the hook needs only these two attributes
    run._prefixes = [(root, f"{root.path}/")]
    run.passed_by = set((root.path / "identity").parents)
    options = {"ignore": None, "ignore_glob": None}
    config = type("Config", (), {"getoption": staticmethod(options.get)})()
    ignore = run.pytest_ignore_collect
    assert ignore(tmp_path / "site" / "requests", config) is True  # beside the way
    assert ignore(root.path / "compute", config) is True  # beside identity, inside the root
    assert ignore(root.path / "identity" / "v3", config) is False
    assert ignore(root.path / "identity" / "__pycache__", config) is True
    assert ignore(tmp_path / "elsewhere" / "x.py", config) is None  # pytest decides
    options["ignore"] = ["somewhere"]
    assert ignore(root.path / "identity" / "v3", config) is None


def test_smoke_marker_and_uuid_keyword(pytester: pytest.Pytester, tempest_conf: Path):
    proc, data = collect(pytester, tempest_conf, "-m", "smoke",
                         "--include", r"^tempest\.api\.identity")
    assert len(data["ids"]) == 14, proc.stdout[-1000:]  # = tempest run --smoke, identity
    assert all("smoke" in tid for tid in data["ids"])
    _, data = collect(pytester, tempest_conf, "-k", UPDATE_PW_UUID)
    assert data["ids"] == [f"{UPDATE_PW}[id-{UPDATE_PW_UUID}]"]


def test_guideline_imports_only_the_modules_it_needs(pytester: pytest.Pytester,
                                                     tempest_conf: Path):
    proc, data = collect(pytester, tempest_conf, "--guideline", "2020.06")
    assert proc.returncode == 0, proc.stdout[-2000:]
    listed = {line.split("[")[0] for line in REFSTACK_LIST.read_text().splitlines()}
    listed_modules = {name.rsplit(".", 2)[0] for name in listed}
    imported = {m for m in data["modules"] if m.startswith("tempest.api.")
                and m.rsplit(".", 1)[-1].startswith("test_")}
    all_modules = list((discover.tempest_dir() / "api").rglob("test_*.py"))
    # listed modules, plus the odd base module one of them imports (test_keypairs)
    assert listed_modules & imported and len(imported - listed_modules) <= 3
    assert len(imported) < len(all_modules) / 3
    listed_uuids = {line.split("[id-")[1].rstrip("]") for line in
                    REFSTACK_LIST.read_text().splitlines()}
    for tid in data["ids"]:  # by name, or a renamed test by its uuid
        assert tid.split("[")[0] in listed or tid.split("[id-")[1][:36] in listed_uuids


def test_missing_tests_are_named_never_dropped(pytester: pytest.Pytester,
                                               tempest_conf: Path):
    test_list = pytester.path / "list.txt"
    gone = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_gone"
    test_list.write_text(f"{UPDATE_PW}[id-{UPDATE_PW_UUID}]\n"
                         f"{gone}[id-11111111-2222-4333-8444-555555555555]\n")
    proc, data = collect(pytester, tempest_conf, "--test-list", str(test_list))
    assert data["ids"] == [f"{UPDATE_PW}[id-{UPDATE_PW_UUID}]"]
    assert "WARNING: 1 tests on the list are not in the installed Tempest" in proc.stdout
    assert gone in proc.stdout


def test_nothing_matching_collects_nothing(pytester: pytest.Pytester, tempest_conf: Path):
    test_list = pytester.path / "list.txt"
    test_list.write_text("tempest.api.nowhere.test_x.C.test_y\n")
    proc, _ = collect(pytester, tempest_conf, "--test-list", str(test_list))
    assert proc.returncode == ExitCode.NOTHING_SELECTED
    assert "tempest.api.nowhere.test_x.C.test_y" in proc.stdout + proc.stderr
