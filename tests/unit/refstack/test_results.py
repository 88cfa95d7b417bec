"""The results model and the upload body rules the RefStack server imposes."""

import json

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.refstack.results import (
    EmptyResults,
    ResultSet,
    TestResult,
    split_test_id,
    worst_per_test,
)

from .conftest import UUIDS

U0, U1 = UUIDS[0], UUIDS[1]


def test_test_id_is_cut_as_refstack_client_cuts_it():
    assert split_test_id(f"a.B.test_y[id-{U0},smoke]") == ("a.B.test_y", U0, ("smoke",))
    assert split_test_id("a.B.test_y(scenario)[x]") == ("a.B.test_y(scenario)", None, ("x",))
    assert split_test_id("a.B.test_z") == ("a.B.test_z", None, ())


def test_result_takes_name_uuid_and_attrs_apart():
    result = TestResult(f"a.B.test_y[id-{U0.upper()},smoke]", outcome="failed", duration=1.5)
    assert (result.name, result.uuid, result.attrs) == ("a.B.test_y", U0, ("smoke",))
    assert TestResult("x", f"id-{U1}").uuid == U1
    with pytest.raises(ValueError, match="unknown outcome"):
        TestResult("x", outcome="exploded")


def test_body_has_only_the_three_keys_and_only_passes():
    rs = ResultSet([TestResult(f"a.B.test_p[id-{U0}]"), TestResult("a.B.test_f", U1, "failed"),
                    TestResult("a.B.test_s", outcome="skipped"),
                    TestResult("a.B.test_x", outcome="xfail")],
                   cpid="c0ffee", duration_seconds=12.7)
    body = rs.body()
    assert set(body) == {"cpid", "duration_seconds", "results"}
    assert body == {"cpid": "c0ffee", "duration_seconds": 12,
                    "results": [{"name": "a.B.test_p", "uuid": U0}]}
    assert isinstance(body["duration_seconds"], int)


def test_body_deduplicates_names_case_insensitively():
    rs = ResultSet([TestResult("a.B.test_one", U0), TestResult("a.b.TEST_ONE", U1),
                    TestResult("a.B.test_one", U0)])
    names = [r["name"] for r in rs.body("x")["results"]]
    assert len(names) == 1 and names[0].lower() == "a.b.test_one"


def test_body_drops_what_the_server_cannot_store():
    rs = ResultSet([TestResult("a.B.test_bad_uuid", "not-a-uuid"),
                    TestResult("a.B.test_日本"), TestResult("a." + "x" * 600)])
    assert rs.body("x")["results"] == [{"name": "a.B.test_bad_uuid"}]


def test_too_long_cpid_is_refused():
    with pytest.raises(Exception, match="cpid is 129"):
        ResultSet([TestResult("a")]).body("c" * 129)


def test_merge_keeps_best_outcome_and_is_order_independent():
    run1 = ResultSet([TestResult("t.a", U0, "failed"), TestResult("t.b", U1)], cpid="c",
                     duration_seconds=10)
    run2 = ResultSet([TestResult("t.a", U0, "passed"), TestResult("t.c")], duration_seconds=5)
    one, two = run1.merge(run2), run2.merge(run1)
    assert [r.to_dict() for r in one] == [r.to_dict() for r in two]
    assert one.counts()["passed"] == 3 and one.duration_seconds == 15 and one.cpid == "c"


def test_full_results_round_trip(tmp_path):
    rs = ResultSet([TestResult("t.a", U0, "failed", 2.0, ("smoke",)), TestResult("t.b")],
                   cpid="c", duration_seconds=3)
    back = ResultSet.load(rs.save(tmp_path / "r.json"))
    assert [r.to_dict() for r in back] == [r.to_dict() for r in rs]
    assert back.cpid == "c" and not back.passes_only


def test_a_body_reads_back_as_passes_only(tmp_path):
    path = tmp_path / "body.json"
    path.write_text(json.dumps({"cpid": "c", "duration_seconds": 4,
                                "results": [{"name": "t.a", "uuid": U0}]}))
    rs = ResultSet.load(path)
    assert rs.passes_only and [r.uuid for r in rs.passed] == [U0]
    assert rs.body() == json.loads(path.read_text())


def test_empty_results_are_refused_before_sending():
    with pytest.raises(EmptyResults, match="no passed test.*1 failed") as err:
        ResultSet([TestResult("t.a", outcome="failed")]).require_passes()
    assert err.value.exit_code == ExitCode.EMPTY_RESULTS


def test_within_one_run_variants_count_as_their_worst():
    variants = [TestResult("t.p[1]", outcome="passed"), TestResult("t.p[2]", outcome="failed"),
                TestResult("t.p[3]", outcome="skipped"), TestResult("t.q", outcome="skipped"),
                TestResult("t.q", outcome="passed")]
    got = {r.name: r.outcome for r in worst_per_test(variants)}
    assert got == {"t.p": "failed", "t.q": "skipped"}
