"""The shared testbed's services work for both users, through the files it writes."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import subprocess
import sys

import pytest
from keystoneauth1 import session
from keystoneauth1.identity import v3
from openstack import exceptions

from tcup_pytest.testbed import ADMIN_CLOUD, MEMBER_CLOUD, Testbed

pytestmark = pytest.mark.integration


def token_session(env: dict[str, str]) -> session.Session:
    auth = v3.Password(auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"],
                       password=env["OS_PASSWORD"], project_name=env["OS_PROJECT_NAME"],
                       user_domain_name=env["OS_USER_DOMAIN_NAME"],
                       project_domain_name=env["OS_PROJECT_DOMAIN_NAME"])
    return session.Session(auth=auth)


@pytest.mark.parametrize(("env_fixture", "role", "is_admin"),
                         [("admin_env", "admin", True), ("member_env", "member", False)])
def test_token_from_os_env(request, env_fixture, role, is_admin):
    sess = token_session(request.getfixturevalue(env_fixture))
    assert len(sess.get_token()) > 100
    roles = sess.auth.get_access(sess).role_names
    assert role in roles
    assert ("admin" in roles) is is_admin


def test_member_env_drives_a_subprocess(member_env, testbed: Testbed, tmp_path):
    """openstacksdk's own loader, in another process, from nothing but the OS_* variables."""
    script = ("import openstack; c = openstack.connect(); "
              "print(c.current_project.name, c.image.get_endpoint())")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(member_env, HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project, endpoint = result.stdout.split()
    assert project == "tcup-member" and endpoint.startswith(testbed.url("glance"))


def test_clouds_yaml_and_openrc_are_private(testbed: Testbed):
    assert stat.S_IMODE(testbed.state_dir.stat().st_mode) == 0o700
    files = [testbed.clouds_yaml, testbed.state_dir / "state.json",
             *(testbed.openrc(c) for c in testbed.cloud_names)]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert testbed.member_password in testbed.openrc(MEMBER_CLOUD).read_text()
    for cloud in testbed.cloud_names:
        assert testbed.connect(cloud).auth_token


def test_member_is_not_admin(testbed: Testbed):
    with pytest.raises(exceptions.ForbiddenException):
        list(testbed.connect(MEMBER_CLOUD).identity.users())


def test_catalog_lists_image_and_placement(testbed: Testbed):
    admin = testbed.connect(ADMIN_CLOUD)
    services = {s.type: s for s in admin.identity.services()}
    assert {"identity", "image", "placement"} <= set(services)
    for component, service_type in (("glance", "image"), ("placement", "placement")):
        endpoints = list(admin.identity.endpoints(service_id=services[service_type].id))
        assert sorted(e.interface for e in endpoints) == ["internal", "public"]
        assert {(e.url, e.region_id) for e in endpoints} == {(testbed.url(component),
                                                              "RegionOne")}
    member = testbed.connect(MEMBER_CLOUD)
    catalog = member.session.auth.get_access(member.session).service_catalog
    assert catalog.url_for(service_type="image", interface="public") == testbed.url("glance")


def test_glance_image_roundtrip(testbed: Testbed):
    conn = testbed.connect(MEMBER_CLOUD)
    data = os.urandom(1024 * 1024)
    image = conn.image.create_image(name="tcup-testbed-roundtrip", data=io.BytesIO(data),
                                    disk_format="raw", container_format="bare",
                                    allow_duplicates=True)
    try:
        image = conn.image.get_image(image)
        assert image.status == "active"
        assert image.checksum == hashlib.md5(data).hexdigest()
        assert conn.image.download_image(image).content == data
    finally:
        conn.image.delete_image(image)
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(image.id)


def test_placement_resource_provider_crud(testbed: Testbed):
    conn = testbed.connect(ADMIN_CLOUD)
    provider = conn.placement.create_resource_provider(name="tcup-testbed-rp")
    try:
        assert conn.placement.get_resource_provider(provider.id).name == "tcup-testbed-rp"
        conn.placement.update_resource_provider(provider, name="tcup-testbed-rp2")
        names = [p.name for p in conn.placement.resource_providers()]
        assert "tcup-testbed-rp2" in names
    finally:
        conn.placement.delete_resource_provider(provider)
    with pytest.raises(exceptions.NotFoundException):
        conn.placement.get_resource_provider(provider.id)


def test_status_reports_running(testbed: Testbed):
    report = Testbed(testbed.state_dir).status()  # as another process would see it
    assert report["running"]
    assert {"keystone", "glance", "placement"} <= set(report["components"])
    assert all(c["answering"] for c in report["components"].values())


def test_up_again_reuses_the_running_testbed(testbed: Testbed):
    again = Testbed(testbed.state_dir)
    timings = again.up()
    assert again.reused and set(timings) == {"reuse"}
    assert again.auth_url == testbed.auth_url
    assert again.env(ADMIN_CLOUD) == testbed.env(ADMIN_CLOUD)
