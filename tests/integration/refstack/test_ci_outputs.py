"""Our --subunit stream is read by the tools CI systems use: stestr load, subunit2junitxml."""

import os
import subprocess
import sys

import pytest
from lxml import etree

from tcup_pytest.errors import TestbedError
from tcup_pytest.testbed.refstack import subunit_tools_venv

from .conftest import unavailable

pytestmark = pytest.mark.integration

SUITE = '''
import pytest

@pytest.mark.idempotent_id("0146f675-ffbd-4208-b3a4-60eb628dbc5e")
def test_good():
    pass

def test_bad():
    assert 1 == 2

@pytest.mark.parametrize("n", [1, 2])
def test_many(n):
    pass

def test_skipped():
    pytest.skip("not today")
'''


@pytest.fixture(scope="module")
def tools():
    try:
        return subunit_tools_venv().ensure()
    except TestbedError as exc:
        unavailable(str(exc))


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ci")
    (folder / "test_ci.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PYTEST_"))}
    subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2",
                    "--subunit", "run.subunit", "test_ci.py"], cwd=folder, env=env,
                   capture_output=True, timeout=300)
    return folder / "run.subunit"


def test_subunit2junitxml_reads_it(tools, stream):
    done = subprocess.run([tools.bin("subunit2junitxml")], stdin=stream.open("rb"),
                          capture_output=True, timeout=120)
    root = etree.fromstring(done.stdout)
    cases = {f"{c.get('classname')}.{c.get('name')}": c for c in root.iter("testcase")}
    assert set(cases) == {"test_ci.test_good[id-0146f675-ffbd-4208-b3a4-60eb628dbc5e]",
                          "test_ci.test_bad", "test_ci.test_many[1]", "test_ci.test_many[2]",
                          "test_ci.test_skipped"}
    assert cases["test_ci.test_bad"].find("failure") is not None
    assert cases["test_ci.test_skipped"].find("skip") is not None or \
        cases["test_ci.test_skipped"].find("skipped") is not None


def test_stestr_load_reads_it(tools, stream, tmp_path):
    stestr = tools.bin("stestr")
    (tmp_path / ".stestr.conf").write_text("[DEFAULT]\ntest_path=.\n")
    subprocess.run([stestr, "init"], cwd=tmp_path, check=True, capture_output=True, timeout=60)
    load = subprocess.run([stestr, "load"], cwd=tmp_path, stdin=stream.open("rb"),
                          capture_output=True, text=True, timeout=120)
    assert "Ran 5 tests" in load.stdout and "failures=1, skips=1" in load.stdout
    last = subprocess.run([stestr, "last", "--all-attachments"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    text = last.stdout + last.stderr
    assert "Totals" in text and "Passed: 3" in text and "Failed: 1" in text and \
        "Skipped: 1" in text
    assert "assert 1 == 2" in text  # the traceback attachment survived
