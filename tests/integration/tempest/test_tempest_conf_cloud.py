"""tempest.conf rendered from the testbed: discovery, credentials, masking, removal."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from tests.integration.tempest.conftest import tcup

pytestmark = pytest.mark.integration


def parse(text: str) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.read_string(text)
    return parser


def test_admin_gets_discovered_services_and_dynamic_credentials(admin_user, tmp_path: Path):
    proc = tcup(admin_user, "config", "tempest", "--tempest-option",
                "compute.build_timeout=77", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    parser = parse(proc.stdout)
    assert parser.get("service_available", "glance") == "True"  # found in the catalog
    assert parser.get("service_available", "nova") == "False"
    assert parser.get("identity", "uri_v3") == admin_user["OS_AUTH_URL"].rstrip("/")
    assert parser.get("compute", "build_timeout") == "77"
    assert parser.get("compute", "image_ref")  # tempestconf uploaded our local image
    assert not parser.has_option("auth", "test_accounts_file")
    assert parser.get("auth", "admin_password") == "***"
    assert admin_user["OS_PASSWORD"] not in proc.stdout
    assert not list(Path(admin_user["TMPDIR"]).glob("tcup-*"))


def test_member_gets_a_preprovisioned_accounts_file(member_user, tmp_path: Path):
    proc = tcup(member_user, "config", "tempest", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    parser = parse(proc.stdout)
    assert parser.get("auth", "use_dynamic_credentials") == "False"
    accounts = Path(parser.get("auth", "test_accounts_file"))
    assert accounts.name == "accounts.yaml" and accounts.parent.name.startswith("tcup-tempest-")
    assert not accounts.exists()  # removed with its private directory
    assert member_user["OS_PASSWORD"] not in proc.stdout + proc.stderr


def test_broken_tempest_option_before_anything_starts(admin_user, tmp_path: Path):
    proc = tcup(admin_user, "run", "--tempest-option", "build_timeout=1", cwd=tmp_path)
    assert proc.returncode == 10
    assert proc.stderr.strip().count("\n") == 0 and "section.key=value" in proc.stderr
