"""Reading results other tools wrote: subunit v1 and v2, junit XML, and broken files."""

import pytest

from tcup_pytest.errors import ExitCode, InputFileError
from tcup_pytest.refstack.results import ResultSet

from .conftest import UUIDS, subunit_v1, subunit_v2

TESTS = [(f"tempest.api.X.T.test_pass[id-{UUIDS[0]},smoke]", "success"),
         (f"tempest.api.X.T.test_fail[id-{UUIDS[1]}]", "fail"),
         ("tempest.api.X.T.test_skip", "skip"),
         (f"tempest.api.X.T.test_two[id-{UUIDS[2]}]", "success")]


def _load(tmp_path, data: bytes, name: str = "run") -> ResultSet:
    path = tmp_path / name
    path.write_bytes(data)
    return ResultSet.load(path)


@pytest.mark.parametrize("make", [subunit_v1, subunit_v2], ids=["v1", "v2"])
def test_subunit_streams_give_outcomes_names_and_uuids(tmp_path, make):
    rs = _load(tmp_path, make(TESTS))
    got = {r.name: (r.outcome, r.uuid) for r in rs}
    assert got == {"tempest.api.X.T.test_pass": ("passed", UUIDS[0]),
                   "tempest.api.X.T.test_fail": ("failed", UUIDS[1]),
                   "tempest.api.X.T.test_skip": ("skipped", None),
                   "tempest.api.X.T.test_two": ("passed", UUIDS[2])}
    assert rs.body("c")["results"] == [{"name": "tempest.api.X.T.test_pass", "uuid": UUIDS[0]},
                                       {"name": "tempest.api.X.T.test_two", "uuid": UUIDS[2]}]
    assert rs.duration_seconds >= 3


def test_subunit_v2_durations_come_from_timestamps(tmp_path):
    rs = _load(tmp_path, subunit_v2(TESTS[:1], seconds=2.5))
    assert [r.duration for r in rs] == [2.5]


def test_pytest_junit_with_our_properties(tmp_path):
    xml = f"""<?xml version="1.0"?><testsuites><testsuite name="pytest" time="3.5">
      <testcase classname="tests_api.test_x.TestX" name="test_a[p1]" time="1.0"><properties>
        <property name="uuid" value="{UUIDS[0]}"/>
        <property name="test_name" value="tests_api.test_x.TestX.test_a"/></properties>
      </testcase>
      <testcase classname="tests_api.test_x.TestX" name="test_b" time="0.5">
        <failure message="x">boom</failure></testcase>
      <testcase classname="tests_api.test_x.TestX" name="test_c"><skipped message="n"/></testcase>
      <testcase classname="tests_api.test_x" name="test_d"><error message="e"/></testcase>
    </testsuite></testsuites>"""
    rs = _load(tmp_path, xml.encode(), "j.xml")
    got = {r.name: (r.outcome, r.uuid) for r in rs}
    assert got == {"tests_api.test_x.TestX.test_a": ("passed", UUIDS[0]),
                   "tests_api.test_x.TestX.test_b": ("failed", None),
                   "tests_api.test_x.TestX.test_c": ("skipped", None),
                   "tests_api.test_x.test_d": ("failed", None)}
    assert rs.duration_seconds == 3.5


def test_stestr_style_junit_carries_the_uuid_in_the_name(tmp_path):
    xml = (f'<testsuite tests="1"><testcase classname="tempest.api.compute.T" '
           f'name="test_x[id-{UUIDS[3]},smoke]" time="0.1"/></testsuite>')
    (result,) = _load(tmp_path, xml.encode(), "j.xml")
    assert (result.name, result.uuid, result.outcome) == ("tempest.api.compute.T.test_x",
                                                         UUIDS[3], "passed")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "is empty"),
    (b"just some text\n", "neither subunit"),
    (b"<testsuite><testcase", "broken junit XML"),
    (b"<html><body/></html>", "is not junit"),
    (b"{not json", "not a RefStack or tcup results file"),
    (b'{"results": "nope"}', "not a RefStack or tcup results file"),
    (b"time: 2026-01-01 00:00:00Z\n", "no finished test"),
])
def test_broken_files_are_one_clear_error(tmp_path, data, message):
    with pytest.raises(InputFileError, match=message) as err:
        _load(tmp_path, data)
    assert err.value.exit_code == ExitCode.INPUT_FILE
    assert "\n" not in str(err.value)


def test_corrupt_and_truncated_subunit_v2(tmp_path):
    good = subunit_v2(TESTS)
    corrupt = bytearray(good)
    corrupt[30] ^= 0xFF
    with pytest.raises(InputFileError, match="broken subunit v2 stream.*checksum"):
        _load(tmp_path, bytes(corrupt))
    with pytest.raises(InputFileError, match="broken subunit v2 stream"):
        _load(tmp_path, good[: len(good) - 7])


def test_truncated_subunit_v1_marks_the_unfinished_test_failed(tmp_path):
    """As subunit itself does ("lost connection during test"): the rest stays usable."""
    data = subunit_v1(TESTS[:1]) + b"test: tempest.api.X.T.test_cut\n"
    got = {r.name: r.outcome for r in _load(tmp_path, data)}
    assert got == {"tempest.api.X.T.test_pass": "passed", "tempest.api.X.T.test_cut": "failed"}


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        ResultSet.load(tmp_path / "nope.subunit")
