"""A small real run: our fixtures inside a Tempest-style class, in the same session as
Tempest's own tests, with tempest.conf discovered from the testbed (no file given)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.tempest.conftest import tcup

pytestmark = pytest.mark.integration

TEMPEST_STYLE = '''
from tempest.api.identity import base


class CatalogAgreesWithSdk(base.BaseIdentityV3AdminTest):
    """Tempest's admin client and our openstacksdk fixture see the same services."""

    @classmethod
    def resource_setup(cls):
        super().resource_setup()
        cls.sdk = cls.tcup_fixture("conn")

    def test_services_match(self):
        tempest_types = {s["type"] for s in self.services_client.list_services()["services"]}
        sdk_types = {s.type for s in self.sdk.identity.services()}
        self.assertEqual(tempest_types, sdk_types)
'''

LIST = ("tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"
        "[id-6f8e4436-fc96-4282-8122-e41df57197a9]\n"
        "tempest.api.identity.v3.test_tokens.TokensV3Test.test_renamed_long_ago"
        "[id-00000000-1111-4222-8333-444444444444]\n")


def test_fixture_reachable_from_tempest_style_class(admin_user, tmp_path: Path):
    (tmp_path / "test_catalog_sdk.py").write_text(TEMPEST_STYLE)
    (tmp_path / "list.txt").write_text(LIST)
    proc = tcup(admin_user, "run", "--test-list", "list.txt", "-j", "2", "--no-upload",
                "--junitxml", "junit.xml", "--", "test_catalog_sdk.py", cwd=tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "2 passed" in out
    # the list entry that is not installed is named, not silently dropped
    assert "WARNING: 1 tests on the list are not in the installed Tempest" in out
    assert "test_renamed_long_ago" in out
    names = {c.get("name") for c in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")}
    assert names == {"test_create_token", "test_services_match"}
    assert not list(Path(admin_user["TMPDIR"]).glob("tcup-*"))
