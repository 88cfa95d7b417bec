"""Same tempest.conf, same test list: `tcup run` reports what `tempest run` reports.

Counted by stestr's rules (see tcup_pytest.tempest.compare): a class skipped in setUpClass is
one skip, a failed setUpClass one failure; passed tests compared by name. The identity API
runs once per session here (about 80 s each on the testbed); other checks use small lists.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tcup_pytest.tempest.compare import RunCounts
from tests.integration.tempest.conftest import BIN, tcup

pytestmark = pytest.mark.integration

IDENTITY_LIST = "^tempest\\.api\\.identity\\.\n"


@pytest.fixture(scope="session")
def identity_runs(tempest_workspace: Path, admin_user: dict[str, str], tmp_path_factory):
    """Both runs of the identity API, 2 workers each, sharing one tempest.conf."""
    work = tmp_path_factory.mktemp("identity-runs")
    test_list = work / "identity.txt"
    test_list.write_text(IDENTITY_LIST)
    conf = tempest_workspace / "etc" / "tempest.conf"
    env = {**admin_user, "TEMPEST_CONFIG_DIR": str(conf.parent), "TEMPEST_CONFIG": conf.name}
    ref = subprocess.run([str(BIN / "tempest"), "run", "--include-list", str(test_list),
                          "--concurrency", "2"], cwd=tempest_workspace, env=env,
                         capture_output=True, text=True, timeout=1800)
    ours = tcup(admin_user, "run", "--tempest-conf", str(conf), "--test-list", str(test_list),
                "-j", "2", "--no-upload", "--junitxml", str(work / "junit.xml"), cwd=work)
    return ref, ours, work / "junit.xml"


def test_identity_same_counts_and_same_passed_tests(identity_runs):
    ref, ours, junit = identity_runs
    assert ref.returncode == 0, ref.stdout[-3000:]
    assert ours.returncode == 0, ours.stdout[-3000:] + ours.stderr[-2000:]
    expected = RunCounts.from_stestr_output(ref.stdout)
    got = RunCounts.from_junit(junit)
    assert expected.passed > 100
    assert got.as_tuple() == expected.as_tuple()
    assert got.passed_names == expected.passed_names


def test_junit_carries_tempest_ids_and_stable_node_ids(identity_runs):
    _, _, junit = identity_runs
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    for case in cases:
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["tempest_id"].startswith("tempest.api.identity.")
        assert f"id-{props['uuid']}" in props["tempest_id"]  # [id-..., smoke, ...] sorted
        assert case.get("classname").startswith("tempest.api.identity.")


def test_private_conf_dir_gone_after_the_run(identity_runs, admin_user):
    assert not list(Path(admin_user["TMPDIR"]).glob("tcup-*"))
