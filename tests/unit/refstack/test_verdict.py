"""The compliance verdict: capability states, flagged tests, aliases, uuids, the table."""

import pytest

from tcup_pytest.interop import Guideline, Verdict
from tcup_pytest.refstack.results import ResultSet, TestResult


@pytest.fixture(scope="module")
def guideline():
    return Guideline.bundled("2020.06")


def all_required(guideline, **outcomes):
    """Every required unflagged test passed, except the names given (name=outcome)."""
    results = []
    for line in guideline.test_list(types="required", alias=False, flag=False):
        result = TestResult(line)
        results.append(TestResult(line, outcome=outcomes.get(result.name, "passed")))
    return ResultSet(results)


def test_all_required_tests_passed_means_compliant(guideline):
    verdict = Verdict.judge(guideline, all_required(guideline))
    assert verdict.passed
    assert verdict.summary()["required"] == {"passed": 78, "failed": 0, "not run": 0}
    assert "VERDICT: PASS" in verdict.table()


def test_one_failed_and_one_missing_test(guideline):
    failing = "tempest.api.compute.test_versions.TestVersions.test_list_api_versions"
    results = [r for r in all_required(guideline, **{failing: "failed"})
               if r.name != "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"]
    verdict = Verdict.judge(guideline, ResultSet(results))
    states = {c.name: c for c in verdict.capabilities}
    assert not verdict.passed
    assert states["compute-list-api-versions"].state == "failed"
    assert states["compute-list-api-versions"].tests_with("failed") == [failing]
    assert states["identity-v3-tokens-create"].state == "not run"
    table = verdict.table()
    assert f"failed: {failing}" in table and "VERDICT: FAIL" in table
    data = verdict.to_dict()
    assert data["passed"] is False and data["summary"]["required"]["failed"] == 1
    (cap,) = [c for c in data["capabilities"] if c["name"] == "identity-v3-tokens-create"]
    assert cap["not_run_tests"] == [
        "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"]


def test_flagged_tests_do_not_count(guideline):
    flagged = [(c, t) for c in guideline.capabilities_of(types="required") for t in c.tests
               if t.flagged]
    cap, test = flagged[0]
    verdict = Verdict.judge(guideline, all_required(guideline, **{test.name: "failed"}))
    assert {c.name: c.state for c in verdict.capabilities}[cap.name] == "passed"


def test_tests_match_by_alias_and_by_uuid(guideline):
    renamed = next(t for c in guideline.capabilities_of(types="required") for t in c.tests
                   if t.aliases and not t.flagged)
    results = [r for r in all_required(guideline) if r.name != renamed.name]
    by_alias = Verdict.judge(guideline, ResultSet([*results, TestResult(renamed.aliases[0])]))
    by_uuid = Verdict.judge(guideline, ResultSet([*results, TestResult("new.name.test_z",
                                                                       renamed.uuid)]))
    assert by_alias.passed and by_uuid.passed
    matched = [t.matched_as for c in by_uuid.capabilities for t in c.tests
               if t.name == renamed.name]
    assert matched == ["new.name.test_z"]


def test_passes_only_input_is_said_in_the_table(guideline, tmp_path):
    results = all_required(guideline)
    path = results.save(tmp_path / "body.json", body=True, cpid="c")
    verdict = Verdict.judge(guideline, ResultSet.load(path))
    assert verdict.passed and verdict.passes_only
    assert "passes only" in verdict.table()


def test_addon_verdict():
    dns = Guideline.bundled("dns.2020.06")
    results = ResultSet(TestResult(line) for line in dns.test_list("dns"))
    verdict = Verdict.judge(dns, results, "dns")
    assert verdict.passed and len(verdict.required) == 2


def test_not_run_tests_carry_their_reason(guideline):
    """Skipped: Tempest's reason; absent: not installed / not selected / flagged."""
    skipped = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"
    absent = "tempest.api.compute.test_versions.TestVersions.test_list_api_versions"
    results = [TestResult(r.name, r.uuid, "skipped", reason="Keystone says no")
               if r.name == skipped else r
               for r in all_required(guideline) if r.name != absent
               and not r.name.startswith("tempest.api.volume.")]
    verdict = Verdict.judge(guideline, ResultSet(results), not_installed=[absent])
    tests = {t.name: t for c in verdict.capabilities for t in c.tests}
    assert tests[skipped].reason == "Keystone says no"
    assert tests[absent].reason == "not in the installed Tempest"
    volume = [t for n, t in tests.items() if n.startswith("tempest.api.volume.")]
    assert {t.reason for t in volume if not t.flagged} == {"not selected for this run"}
    assert all(t.reason.startswith("flagged") for t in tests.values()
               if t.flagged and t.outcome == "not run")
    assert all(t.reason is None for t in tests.values() if t.outcome == "passed")
    table = verdict.table()
    assert "not run: " + skipped + " (Keystone says no)" in table
    # capabilities the selection left out are one line, not a page of names
    assert "capabilities not selected for this run: volumes-" in table
    assert "volumes-v3-list" not in table.split("not selected for this run:")[0]
    data = {t["name"]: t for c in verdict.to_dict()["capabilities"] for t in c["tests"]}
    assert data[absent]["reason"] == "not in the installed Tempest"


def test_skip_reason_survives_the_results_file(tmp_path):
    rs = ResultSet([TestResult("a.B.test_x", outcome="skipped", reason="no swift"),
                    TestResult("a.B.test_y")])
    loaded = ResultSet.load(rs.save(tmp_path / "r.json"))
    assert {r.name: r.reason for r in loaded} == {"a.B.test_x": "no swift", "a.B.test_y": None}


def test_a_capability_passing_only_because_all_its_tests_are_flagged_says_so(guideline):
    verdict = Verdict.judge(guideline, all_required(guideline))
    table = verdict.table()
    resize = table.split("compute-servers-resize", 1)[1].splitlines()
    assert "PASSED" in resize[0]
    assert "all 4 tests flagged" in resize[1]
    # a capability that passed by running its tests gets no such line
    tokens = table.split("identity-v3-tokens-create", 1)[1].splitlines()
    assert not tokens[1].startswith("      ")
