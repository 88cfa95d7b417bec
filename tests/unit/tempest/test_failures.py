"""testtools tests under pytest show their real exception, details, class errors once."""

from __future__ import annotations

import pytest

TESTS = '''
import testtools
from testtools import content


class Failing(testtools.TestCase):
    def test_detail(self):
        self.addDetail("my-detail", content.text_content("hello detail"))
        self.assertEqual(1, 2)

    def test_error(self):
        {}["missing-key"]

    def test_passes(self):
        self.addCleanup(lambda: None)


class BadSetup(testtools.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise RuntimeError("resource_setup exploded")

    def test_a(self):
        pass

    def test_b(self):
        pass

    def test_c(self):
        pass


class Skipped(testtools.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise cls.skipException("Glance is not available")

    def test_a(self):
        pass


class XFail(testtools.TestCase):
    def test_expected(self):
        self.expectFailure("known bug", self.assertEqual, 1, 2)
'''


@pytest.fixture
def result(pytester: pytest.Pytester) -> pytest.RunResult:
    pytester.makepyfile(test_tt=TESTS)
    return pytester.runpytest("-rA", "-p", "no:cacheprovider")


def test_real_exception_not_incompatible_representation(result: pytest.RunResult):
    out = result.stdout.str()
    assert "Incompatible Exception Representation" not in out
    assert "_StringException" not in out
    result.stdout.fnmatch_lines([
        "FAILED test_tt.py::Failing::test_detail - testtools.matchers._impl.MismatchEr*",
        "FAILED test_tt.py::Failing::test_error - KeyError: 'missing-key'",
    ])


def test_details_become_report_sections(result: pytest.RunResult):
    result.stdout.fnmatch_lines(["E * 1 != 2", "*Captured detail: my-detail call*",
                                 "hello detail"])


def test_class_setup_error_reported_once_with_its_cause(result: pytest.RunResult):
    out = result.stdout.str()
    assert out.count('raise RuntimeError("resource_setup exploded")') == 1
    result.stdout.fnmatch_lines([
        "ERROR test_tt.py::BadSetup::test_a - RuntimeError: resource_setup exploded",
        "ERROR test_tt.py::BadSetup::test_b - BadSetup.setUpClass failed (reported onc*",
    ])


def test_class_skip_shows_tempests_reason_at_the_test(result: pytest.RunResult):
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_tt.py:*: Glance is not available"])
    assert "_pytest/unittest.py" not in result.stdout.str()


def test_outcomes_are_counted_like_before(result: pytest.RunResult):
    result.assert_outcomes(passed=1, failed=2, errors=3, skipped=1, xfailed=1)
