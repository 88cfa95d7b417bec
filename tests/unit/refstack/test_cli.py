"""`tcup convert|upload|verdict|guidelines`: outputs, and one clear line per bad input."""

import json

import pytest

from tcup_pytest.cli import main
from tcup_pytest.interop import Guideline
from tcup_pytest.testbed.base import free_port

from .conftest import UUIDS, subunit_v1, subunit_v2

TESTS = [(f"tempest.api.compute.T.test_a[id-{UUIDS[0]},smoke]", "success"),
         ("tempest.api.compute.T.test_b", "fail")]


@pytest.fixture(autouse=True)
def no_server_env(monkeypatch):
    monkeypatch.delenv("REFSTACK_URL", raising=False)


def tcup(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("make", [subunit_v1, subunit_v2], ids=["v1", "v2"])
def test_convert_subunit_to_a_body(tmp_path, capsys, make):
    (tmp_path / "run.subunit").write_bytes(make(TESTS))
    code, out, _ = tcup(capsys, "convert", tmp_path / "run.subunit", "-o", tmp_path / "b.json",
                        "--cpid", "abc")
    assert code == 0 and "2 tests (1 passed, 1 failed)" in out
    assert json.loads((tmp_path / "b.json").read_text()) == {
        "cpid": "abc", "duration_seconds": 2,
        "results": [{"name": "tempest.api.compute.T.test_a", "uuid": UUIDS[0]}]}


def test_convert_merges_runs_and_keeps_outcomes_with_full(tmp_path, capsys):
    (tmp_path / "a.subunit").write_bytes(subunit_v2(TESTS))
    (tmp_path / "b.subunit").write_bytes(subunit_v2([("tempest.api.compute.T.test_b",
                                                      "success")]))
    code, _, _ = tcup(capsys, "convert", tmp_path / "a.subunit", tmp_path / "b.subunit",
                      "-o", tmp_path / "full.json", "--full")
    data = json.loads((tmp_path / "full.json").read_text())
    assert code == 0 and data["format"] == "tcup-results/1"
    assert {r["name"]: r["outcome"] for r in data["results"]} == {
        "tempest.api.compute.T.test_a": "passed", "tempest.api.compute.T.test_b": "passed"}


def test_no_upload_only_saves(tmp_path, capsys):
    (tmp_path / "run.subunit").write_bytes(subunit_v2(TESTS))
    code, out, _ = tcup(capsys, "upload", tmp_path / "run.subunit", "--no-upload",
                        "--cpid", "abc")
    assert code == 0 and f"saved 1 passed tests to {tmp_path / 'run.refstack.json'}" in out
    assert json.loads((tmp_path / "run.refstack.json").read_text())["cpid"] == "abc"


def test_upload_merges_shards_into_one_saved_body(tmp_path, capsys):
    (tmp_path / "shard1.subunit").write_bytes(subunit_v2(TESTS))
    (tmp_path / "shard2.subunit").write_bytes(subunit_v1([("tempest.api.compute.T.test_b",
                                                           "success")]))
    code, out, _ = tcup(capsys, "upload", tmp_path / "shard1.subunit", tmp_path / "shard2.subunit",
                        "--no-upload", "--cpid", "c")
    merged = tmp_path / "merged.refstack.json"
    assert code == 0 and f"saved 2 passed tests to {merged}" in out
    assert [r["name"] for r in json.loads(merged.read_text())["results"]] == [
        "tempest.api.compute.T.test_a", "tempest.api.compute.T.test_b"]


def test_verdict_table_json_and_exit_code(tmp_path, capsys):
    guideline = Guideline.bundled("dns.2020.06")
    lines = guideline.test_list("dns")
    body = {"cpid": "c", "duration_seconds": 1,
            "results": [{"name": line.split("[")[0]} for line in lines]}
    (tmp_path / "all.json").write_text(json.dumps(body))
    code, out, _ = tcup(capsys, "verdict", tmp_path / "all.json", "-g", "bundled:dns.2020.06",
                        "-o", tmp_path / "v.json")
    assert code == 0 and "VERDICT: PASS" in out
    assert json.loads((tmp_path / "v.json").read_text())["passed"] is True
    body["results"] = body["results"][1:]
    (tmp_path / "some.json").write_text(json.dumps(body))
    code, out, _ = tcup(capsys, "verdict", tmp_path / "some.json", "-g", "bundled:dns.2020.06")
    assert code == 1 and "VERDICT: FAIL" in out and "not run: designate_tempest_plugin" in out


def test_guidelines_shows_capabilities_offline(capsys):
    code, out, _ = tcup(capsys, "guidelines", "bundled:2020.06", "--target", "object",
                        "--type", "required")
    assert code == 0 and "2020.06 (schema 2.0) targets: platform, compute, object" in out
    assert "required   objectstore-container-create" in out


def _bad_inputs(tmp_path, keys):
    good = tmp_path / "good.subunit"
    good.write_bytes(subunit_v2(TESTS))
    broken_subunit = tmp_path / "broken.subunit"
    data = bytearray(subunit_v2(TESTS))
    data[40] ^= 0xFF
    broken_subunit.write_bytes(bytes(data))
    broken_junit = tmp_path / "broken.xml"
    broken_junit.write_text("<testsuite><testcase name='a'")
    empty = tmp_path / "empty.subunit"
    empty.write_bytes(subunit_v2([("tempest.api.compute.T.test_b", "fail")]))
    down = f"http://127.0.0.1:{free_port()}"
    not_a_run = tmp_path / "not-a-run"
    not_a_run.mkdir()
    (not_a_run / "notes.txt").write_text("mine")
    return {
        "not a run dir": (["upload", not_a_run], 14, "not a tcup run directory",
                          not_a_run / "notes.txt"),
        "non-RSA key": (["upload", good, "-i", keys["ed25519"]], 17, "Ed25519 key", good),
        "passphrase key": (["upload", good, "--sign", keys["rsa_passphrase_openssh"]], 17,
                           "protected by a passphrase", good),
        "missing file": (["upload", tmp_path / "nope.json"], 14, "does not exist", good),
        "broken subunit": (["convert", broken_subunit, "-o", tmp_path / "o.json"], 14,
                           "broken subunit v2 stream", broken_subunit),
        "broken junit": (["upload", broken_junit], 14, "broken junit XML", broken_junit),
        "unknown guideline": (["verdict", good, "-g", "bundled:1999.01"], 15,
                              "unknown guideline", good),
        "empty results": (["upload", empty, "--url", down], 18, "no passed test", empty),
        "unreachable server": (["upload", good, "--url", down, "--retries", "0", "--cpid",
                                "c"], 19,
                               "unreachable (connection refused)", good),
    }


@pytest.mark.parametrize("case", ["not a run dir", "non-RSA key", "passphrase key", "missing file",
                                  "broken subunit", "broken junit", "unknown guideline",
                                  "empty results", "unreachable server"])
def test_bad_input_is_one_clear_line_and_its_own_exit_code(tmp_path, keys, capsys, case):
    args, exit_code, message, kept = _bad_inputs(tmp_path, keys)[case]
    before = kept.read_bytes()
    code, _, err = tcup(capsys, *args)
    assert code == exit_code
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tcup: error: ") and message in lines[0]
    assert "Traceback" not in err
    assert kept.read_bytes() == before


def test_failed_upload_leaves_the_body_on_disk(tmp_path, capsys):
    (tmp_path / "run.subunit").write_bytes(subunit_v2(TESTS))
    code, out, _ = tcup(capsys, "upload", tmp_path / "run.subunit", "--retries", "0",
                        "--url", f"http://127.0.0.1:{free_port()}", "--cpid", "c")
    assert code == 19
    assert json.loads((tmp_path / "run.refstack.json").read_text())["results"] == [
        {"name": "tempest.api.compute.T.test_a", "uuid": UUIDS[0]}]
