"""The reporting plugin under xdist: upload body, full results, subunit v2 and junit ids."""

import json

import pytest
from lxml import etree

from tcup_pytest.refstack.results import ResultSet

pytest_plugins = ["pytester"]

SUITE = """
import pytest

class TestThings:
    @pytest.mark.idempotent_id("0146f675-ffbd-4208-b3a4-60eb628dbc5e")
    def test_pass(self):
        pass

    @pytest.mark.idempotent_id("6f8e4436-fc96-4282-8122-e41df57197a9")
    def test_fail(self):
        assert 0, "boom plugin-canary-4411"

    @pytest.mark.idempotent_id("e36c0eaa-dff5-4082-ad1f-3f9a80aa3f59")
    def test_skip(self):
        pytest.skip("not here")

    @pytest.mark.parametrize("x", [1, 2, 3])
    def test_param(self, x):
        assert x != 3

    def test_Case(self):
        pass

    def test_case(self):
        pass

@pytest.fixture
def broken():
    raise RuntimeError("setup broke")

def test_setup_error(broken):
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert 0
"""


@pytest.fixture
def run(pytester, monkeypatch):
    for name in list(__import__("os").environ):
        if name.startswith(("OS_", "REFSTACK_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(pytester.path / "none.yaml"))
    pytester.makepyfile(test_suite=SUITE)

    def run(*args):
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2",
                                             "--refstack-json", "out/body.json",
                                             "--results-json", "out/full.json",
                                             "--subunit", "out/run.subunit",
                                             "--junitxml", "out/junit.xml", *args)
    return run


def test_body_full_results_subunit_and_junit_under_xdist(run, pytester):
    result = run("--refstack-cpid", "cpid-1234")
    result.assert_outcomes(passed=5, failed=2, skipped=1, xfailed=1, errors=1)
    out = pytester.path / "out"

    body = json.loads((out / "body.json").read_text())
    assert set(body) == {"cpid", "duration_seconds", "results"}
    assert body["cpid"] == "cpid-1234" and isinstance(body["duration_seconds"], int)
    assert body["results"] == [
        {"name": "test_suite.TestThings.test_Case"},
        {"name": "test_suite.TestThings.test_pass",
         "uuid": "0146f675-ffbd-4208-b3a4-60eb628dbc5e"}]

    full = {r.name.rsplit(".", 1)[1]: r.outcome for r in ResultSet.load(out / "full.json")}
    assert full == {"test_pass": "passed", "test_fail": "failed", "test_skip": "skipped",
                    "test_param": "failed", "test_Case": "passed", "test_case": "passed",
                    "test_setup_error": "failed", "test_xfail": "xfail"}

    from_subunit = {r.name: (r.outcome, r.uuid) for r in ResultSet.load(out / "run.subunit")}
    from_full = {r.name: (r.outcome, r.uuid) for r in ResultSet.load(out / "full.json")}
    assert from_subunit == from_full

    junit = etree.parse(str(out / "junit.xml"))
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
             for case in junit.iter("testcase")}
    assert props["test_pass"] == {"uuid": "0146f675-ffbd-4208-b3a4-60eb628dbc5e",
                                  "test_name": "test_suite.TestThings.test_pass"}
    assert props["test_param[2]"] == {"test_name": "test_suite.TestThings.test_param"}
    assert "--- tcup results" in result.stdout.str() or "tcup results" in result.stdout.str()


def test_tracebacks_in_the_subunit_stream_are_redacted(run, pytester):
    pytester.makeconftest("""
        from tcup_pytest.redaction import REDACTOR
        REDACTOR.register("plugin-canary-4411")
    """)
    run()
    raw = (pytester.path / "out" / "run.subunit").read_bytes()
    assert b"boom" in raw and b"plugin-canary-4411" not in raw


def test_without_cloud_or_cpid_the_body_says_so(run, pytester):
    result = run()
    assert json.loads((pytester.path / "out" / "body.json").read_text())["cpid"] == ""
    assert "no cpid" in result.stdout.str()


def test_verdict_at_the_end_of_the_run(pytester, monkeypatch):
    """Tests carrying the guideline's uuids are matched to it even under other names."""
    from tcup_pytest.interop import Guideline

    for name in list(__import__("os").environ):
        if name.startswith(("OS_", "REFSTACK_")):
            monkeypatch.delenv(name)
    dns = Guideline.bundled("dns.2020.06")
    tests = [t for cap in dns.capabilities.values() for t in cap.tests]
    failing = tests[0]
    source = ["import pytest"]
    for i, test in enumerate(tests):
        source += [f"@pytest.mark.idempotent_id({test.uuid!r})", f"def test_{i}():",
                   f"    assert {test is not failing}"]
    pytester.makepyfile(test_dns="\n".join(source))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2",
                                           "--verdict", "dns.2020.06",
                                           "--verdict-json", "verdict.json")
    result.assert_outcomes(passed=len(tests) - 1, failed=1)
    text = result.stdout.str()
    assert "compliance verdict" in text and "VERDICT: FAIL" in text
    assert f"failed: {failing.name}" in text
    verdict = json.loads((pytester.path / "verdict.json").read_text())
    assert verdict["guideline"] == "dns.2020.06" and verdict["target"] == "dns"
    states = {c["name"]: (c["state"], c["failed_tests"]) for c in verdict["capabilities"]}
    failed_cap = next(c.name for c in dns.capabilities.values() if failing in c.tests)
    assert states[failed_cap] == ("failed", [failing.name])
    assert sum(state == "passed" for state, _ in states.values()) == 1
