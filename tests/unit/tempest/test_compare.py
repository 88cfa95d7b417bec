"""Counting our junit by stestr's rules: class skips and class errors count once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcup_pytest.tempest.compare import RunCounts

STESTR_OUTPUT = """\
{0} tempest.api.identity.v3.test_a.A.test_one [0.123s] ... ok
{1} tempest.api.identity.v3.test_a.A.test_two[id-6f8e4436-fc96-4282-8122-e41df57197a9,smoke] \
[1.5s] ... ok
{1} setUpClass (tempest.api.identity.v3.test_b.B) ... SKIPPED: no security compliance

======
Totals
======
Ran: 3 tests in 2.0000 sec.
 - Passed: 2
 - Skipped: 1
 - Expected Fail: 0
 - Unexpected Success: 0
 - Failed: 0
"""

TESTS = '''
import testtools


class Passing(testtools.TestCase):
    def test_one(self): pass
    def test_two(self): pass


class SkippedClass(testtools.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise cls.skipException("not configured")

    def test_a(self): pass
    def test_b(self): pass
    def test_c(self): pass


class BrokenClass(testtools.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        raise RuntimeError("no credentials")

    def test_a(self): pass
    def test_b(self): pass


class Mixed(testtools.TestCase):
    def test_skip(self):
        self.skipTest("one test")

    def test_fail(self):
        self.assertTrue(False)
'''


def test_stestr_output():
    counts = RunCounts.from_stestr_output(STESTR_OUTPUT)
    assert counts.as_tuple() == (2, 0, 1)
    assert counts.passed_names == {"tempest.api.identity.v3.test_a.A.test_one",
                                   "tempest.api.identity.v3.test_a.A.test_two"}


def test_junit_counts_class_events_once(pytester: pytest.Pytester, tmp_path: Path):
    pytester.makepyfile(test_counts=TESTS)
    junit = tmp_path / "junit.xml"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--junitxml={junit}")
    result.assert_outcomes(passed=2, skipped=4, failed=1, errors=2)
    counts = RunCounts.from_junit(junit)
    # stestr: 2 passed; 1 class skip + 1 test skip; 1 class error + 1 failure
    assert counts.as_tuple() == (2, 2, 2)
    assert counts.passed_names == {"test_counts.Passing.test_one", "test_counts.Passing.test_two"}
