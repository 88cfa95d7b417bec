"""--progress shows ran/passed/failed/skipped of the total and elapsed time."""

import pytest

pytest_plugins = ["pytester"]

TESTS = """
import pytest

def test_ok(): pass
def test_ok2(): pass
def test_bad(): assert 0
@pytest.mark.skip(reason="no")
def test_skip(): pass
@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")
def test_teardown_error(broken_teardown): pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_plain_mode_prints_periodic_and_final_lines(pytester, workers):
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("--progress=plain", "--progress-interval=0",
                                           "-p", "no:cacheprovider", *workers)
    out = result.stdout.str()
    assert "progress: [5/5]  2 passed  2 failed  1 skipped" in out
    assert out.count("progress: [") >= 5  # one per outcome at interval 0
    assert "FAILED test_plain_mode_prints_periodic_and_final_lines.py::test_bad" in out
    assert "\r" not in out
    assert "..F" not in out  # no per-test letters
    result.stdout.fnmatch_lines(["*1 failed, 3 passed, 1 skipped, 1 error*"])  # pytest's own
    assert out.count("progress: [5/5]  2 passed  2 failed  1 skipped") == 1


def test_line_mode_rewrites_one_line(pytester):
    import subprocess
    import sys

    pytester.makepyfile(TESTS)
    out = subprocess.run([sys.executable, "-m", "pytest", "--progress=line", "-p",
                          "no:cacheprovider"], cwd=pytester.path,
                         capture_output=True).stdout.decode()
    assert "\r[5/5]  2 passed  2 failed  1 skipped" in out
    assert "\rFAILED test_line_mode_rewrites_one_line.py::test_bad" in out
    assert "progress:" not in out


def test_long_interval_prints_only_the_final_line(pytester):
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("--progress=plain", "-p", "no:cacheprovider")
    assert result.stdout.str().count("progress: [") == 1


def test_off_by_default_leaves_pytest_output_alone(pytester):
    pytester.makepyfile(TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert "progress:" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*..Fs.E*"])
