"""tests_api/ passes against the real keystone, glance and placement, and cleans up."""

import xml.etree.ElementTree as ET

from tcup_pytest.testbed import ADMIN_CLOUD, MEMBER_CLOUD


def resources(admin) -> set[str]:
    """Everything a test run could create and forget, by kind and name."""
    return ({f"project {p.name}" for p in admin.identity.projects()}
            | {f"user {u.name}" for u in admin.identity.users()}
            | {f"image {i.name}" for i in admin.image.images()}
            | {f"provider {r.name}" for r in admin.placement.resource_providers()}
            | {f"class {c.name}" for c in admin.placement.resource_classes()})


def junit_cases(path) -> dict[str, str]:
    """{test name: outcome} from a junit file."""
    outcomes = {}
    for case in ET.parse(path).iter("testcase"):
        kinds = {child.tag for child in case} & {"failure", "error", "skipped"}
        outcomes[f"{case.get('classname')}.{case.get('name')}"] = kinds.pop() if kinds else "ok"
    return outcomes


def test_api_tests_pass_as_admin_under_xdist(testbed, run, tmp_path, admin):
    before = resources(admin)
    result = run("pytest", "--pyargs", "tests_api", "-n", "2", "-p", "no:cacheprovider",
                 f"--junitxml={tmp_path}/junit.xml", env=testbed.env(ADMIN_CLOUD))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    outcomes = junit_cases(tmp_path / "junit.xml")
    assert len(outcomes) >= 14
    assert set(outcomes.values()) == {"ok"}, outcomes
    assert resources(admin) - before == set()


def test_api_tests_as_member_skip_admin_only_tests_with_the_reason(testbed, run, tmp_path,
                                                                   admin):
    before = resources(admin)
    result = run("pytest", "--pyargs", "tests_api", "-p", "no:cacheprovider", "-rs",
                 f"--junitxml={tmp_path}/junit.xml", env=testbed.env(MEMBER_CLOUD))
    assert result.returncode == 0, result.stdout[-3000:]
    outcomes = junit_cases(tmp_path / "junit.xml")
    skipped = {name for name, outcome in outcomes.items() if outcome == "skipped"}
    assert any("test_project_lifecycle" in name for name in skipped)
    assert any("test_member_cannot_create_a_project" in name for name in outcomes
               if outcomes[name] == "ok")
    assert "needs admin credentials" in result.stdout
    assert resources(admin) - before == set()


def test_junit_carries_name_and_uuid_properties(testbed, run, tmp_path):
    result = run("pytest", "--pyargs", "tests_api.identity.test_tokens", "-p",
                 "no:cacheprovider", f"--junitxml={tmp_path}/junit.xml",
                 "-k", "6f8e4436-fc96-4282-8122-e41df57197a9", env=testbed.env(MEMBER_CLOUD))
    assert result.returncode == 0, result.stdout[-2000:]
    (case,) = ET.parse(tmp_path / "junit.xml").iter("testcase")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props == {"uuid": "6f8e4436-fc96-4282-8122-e41df57197a9",
                     "test_name": "tests_api.identity.test_tokens."
                                  "test_token_is_issued_and_validates"}
