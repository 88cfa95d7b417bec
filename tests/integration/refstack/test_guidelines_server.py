"""Our guideline code against the real server: same test lists, same guideline files."""

import pytest

from tcup_pytest.interop.guidelines import Guideline, parse_test_list
from tcup_pytest.refstack import RefStackClient

pytestmark = pytest.mark.integration

CHOICES = [
    # (guideline, target, type, alias, flag)
    ("2020.06", "platform", None, True, True),
    ("2020.06", "platform", "required", True, False),
    ("2020.06", "platform", "required", False, False),
    ("2020.06", "compute", "required,advisory", True, True),
    ("2020.06", "object", None, False, True),
    ("2020.06", "compute", "deprecated,removed", True, True),
    ("2019.11", "platform", "advisory", True, False),
    ("next", "compute", "required", False, True),
    ("dns.2020.06", "dns", None, True, True),
    ("orchestration.2020.06", "orchestration", "required", True, False),
]


@pytest.mark.parametrize(("name", "target", "types", "alias", "flag"), CHOICES)
def test_our_test_list_equals_the_servers(refstack, name, target, types, alias, flag):
    client = RefStackClient(refstack.url)
    served = client.guideline_tests(name, target=target, types=types, alias=alias, flag=flag)
    ours = Guideline.load(name, server_url=refstack.url).test_list(target, types, alias, flag)
    assert ours == parse_test_list(served)
    assert "\n".join(ours) == served
    assert Guideline.bundled(name).test_list(target, types, alias, flag) == ours


def test_invalid_target_is_an_error_on_both_sides(refstack):
    served = RefStackClient(refstack.url).guideline_tests("2020.06", target="dns")
    assert served == "Invalid target: dns"
    with pytest.raises(Exception, match="invalid target 'dns'"):
        Guideline.bundled("2020.06").test_list("dns")


def test_tcup_guidelines_lists_what_the_server_offers(refstack, tcup):
    done = tcup("guidelines", "--url", refstack.url)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "powered        2020.06.json" in lines
    assert "dns            dns.2020.06.json" in lines


def test_tcup_guidelines_tests_from_the_server(refstack, tcup):
    done = tcup("guidelines", "2020.06", "--tests", "--type", "required", "--no-flag",
                "--url", refstack.url)
    assert done.returncode == 0, done.stderr
    served = RefStackClient(refstack.url).guideline_tests("2020.06", types="required",
                                                          flag=False)
    assert done.stdout.rstrip("\n") == served


def test_unknown_guideline_on_the_server(refstack, tcup):
    done = tcup("guidelines", "2031.01", "--url", refstack.url)
    assert done.returncode == 15
    assert done.stderr.strip() == (f"tcup: error: unknown guideline '2031.01': the RefStack "
                                   f"server at {refstack.url} does not have it. List what it "
                                   "offers with: tcup guidelines")
