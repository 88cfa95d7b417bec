"""`tcup run` end to end on the testbed: run directory, verdict with reasons, upload to a real
RefStack server, a failed upload finished later with `tcup upload <run dir>`, --api-tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.refstack.client import RefStackClient
from tests.integration.refstack.conftest import start_server
from tests.integration.tempest.conftest import tcup

IDENTITY_TOKENS = r"^tempest\.api\.identity\.v3\.test_tokens\."
FILES = {"junit.xml", "results.json", "refstack.json", "results.subunit", "run.json"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("refstack-run"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def platform_run(admin_user, server, tmp_path_factory) -> tuple[Path, object]:
    """The 2020.06 platform required list, uploaded to the local RefStack server."""
    work = tmp_path_factory.mktemp("platform")
    proc = tcup(admin_user, "run", "--guideline", "2020.06", "-j", "2", "--run-dir", "out",
                "--url", server.url, cwd=work)
    return work / "out", proc


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_platform_list_every_test_run_or_reasoned(platform_run):
    run_dir, proc = platform_run
    assert proc.returncode == ExitCode.OK, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert FILES | {"verdict.json"} <= {p.name for p in run_dir.iterdir()}
    verdict = load(run_dir / "verdict.json")
    tests = [t for cap in verdict["capabilities"] if cap["status"] == "required"
             for t in cap["tests"]]
    # the testbed has keystone and glance: their unflagged tests ran (or Tempest said why not)
    ours = [t for t in tests if re.match(r"tempest\.api\.(identity|image)\.", t["name"])
            and not t["flagged"]]
    assert ours and all(t["outcome"] in ("passed", "skipped") for t in ours)
    assert any(t["outcome"] == "passed" for t in ours)
    # every other test carries its reason: a missing service, flagged, ...; none is silent
    not_passed = [t for t in tests if t["outcome"] != "passed"]
    assert not_passed and all(t["reason"] for t in not_passed)
    assert any("Nova is not available" in t["reason"] for t in not_passed)
    assert all(t["reason"].startswith("flagged") for t in tests
               if t["flagged"] and t["outcome"] == "not run")
    assert "VERDICT: FAIL" in proc.stdout and "not run (" in proc.stdout


def test_platform_run_uploaded_and_recorded(platform_run, server):
    run_dir, proc = platform_run
    info = load(run_dir / "run.json")
    assert info["exit_code"] == 0 and info["guideline"] == "2020.06"
    stored = RefStackClient(server.url).result(info["upload"]["test_id"])
    body = load(run_dir / "refstack.json")
    assert {r["name"] for r in body["results"]} == set(stored["results"])
    assert info["upload"]["test_id"] in proc.stdout


def test_failed_upload_saved_then_finished(admin_user, server, tmp_path):
    from tcup_pytest.testbed.base import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    proc = tcup(admin_user, "run", "--include", IDENTITY_TOKENS, "-j", "1", "--run-dir", "r",
                "--url", dead, cwd=tmp_path)
    assert proc.returncode == ExitCode.UPLOAD, proc.stderr[-2000:]
    assert {p.name for p in (tmp_path / "r").iterdir()} >= FILES
    assert "tcup upload r" in proc.stderr and "Traceback" not in proc.stderr
    assert load(tmp_path / "r" / "run.json")["upload"]["error"]

    later = tcup(admin_user, "upload", "r", "--url", server.url, cwd=tmp_path)
    assert later.returncode == 0, later.stderr
    receipt = load(tmp_path / "r" / "run.json")["upload"]
    assert receipt["url"] == server.url and "error" not in receipt
    assert RefStackClient(server.url).result(receipt["test_id"])["results"]


def test_api_tests_land_in_the_same_reports(admin_user, tmp_path):
    proc = tcup(admin_user, "run", "--include", IDENTITY_TOKENS, "--api-tests", "-j", "2",
                "--no-upload", "--run-dir", "r", cwd=tmp_path)
    assert proc.returncode == ExitCode.OK, proc.stdout[-3000:]
    names = {r["name"] for r in load(tmp_path / "r" / "results.json")["results"]}
    assert any(n.startswith("tests_api.") for n in names)
    assert any(n.startswith("tempest.api.identity.v3.test_tokens.") for n in names)
    junit = (tmp_path / "r" / "junit.xml").read_text()
    assert "tests_api" in junit and "test_tokens" in junit
    assert "upload" not in load(tmp_path / "r" / "run.json")


def test_missing_tests_reported_as_not_installed(admin_user, tmp_path):
    """A guideline naming a test the installed Tempest lacks: warned, and in the verdict."""
    guideline = load(Path(__file__).parents[3] / "tcup_pytest" / "data" / "guidelines"
                     / "2020.06.json")
    cap = guideline["capabilities"]["identity-v3-tokens-create"]
    cap["tests"]["tempest.api.identity.v3.test_tokens.TokensV3Test.test_no_such_thing"] = {
        "idempotent_id": "id-00000000-0000-4000-8000-000000000001"}
    path = tmp_path / "g.json"
    path.write_text(json.dumps(guideline))
    proc = tcup(admin_user, "run", "--guideline", str(path), "--include", IDENTITY_TOKENS,
                "-j", "1", "--no-upload", "--run-dir", "r", cwd=tmp_path)
    assert "test_no_such_thing" in proc.stdout
    verdict = load(tmp_path / "r" / "verdict.json")
    tokens = next(c for c in verdict["capabilities"] if c["name"] == "identity-v3-tokens-create")
    missing = next(t for t in tokens["tests"] if t["name"].endswith("test_no_such_thing"))
    assert missing["outcome"] == "not run" and missing["reason"] == "not in the installed Tempest"
    assert tokens["state"] == "not run"


def test_demo_on_a_running_testbed(testbed, admin_user, tmp_path):
    """`tcup demo` reuses a running testbed (adding the RefStack server), shows the verdict,
    the stored upload and every artifact, and leaves the testbed as it found it."""
    env = {**admin_user, "TCUP_TESTBED_DIR": str(testbed.state_dir)}
    proc = tcup(env, "demo", "--output-dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "VERDICT:" in out and "of its identity and image parts:" in out
    stored = re.search(r"RefStack: run (\S+) stored with (\d+) passed tests", out)
    assert stored and int(stored.group(2)) > 0
    artifacts = re.findall(r"^ {6}(/\S+)$", out, flags=re.M)
    assert {Path(a).name for a in artifacts} >= FILES | {"verdict.json"}
    assert all(Path(a).is_file() for a in artifacts)
    assert testbed.running and "testbed left running" in out
