"""Identity v3 users and role assignments; a member may not list users."""

import secrets

import pytest
from openstack import exceptions

from tcup_pytest.plugins.cloud import unique_name
from tcup_pytest.redaction import register

pytestmark = pytest.mark.requires_service("identity")


@pytest.mark.idempotent_id("8d7c6b5a-4e3f-4a2b-9c1d-0e9f8a7b6c5d")
def test_user_lifecycle_with_role_assignment(admin_conn, resource_cleanup):
    identity = admin_conn.identity
    name = unique_name("tcup-user")
    password = secrets.token_urlsafe(16)
    register(password)
    project = identity.create_project(name=name, domain_id="default")
    resource_cleanup.add(f"project {name}", identity.delete_project, project)
    user = identity.create_user(name=name, password=password, domain_id="default",
                                default_project_id=project.id, email="before@example.org")
    resource_cleanup.add(f"user {name}", identity.delete_user, user)

    assert identity.get_user(user.id).email == "before@example.org"
    identity.update_user(user, email="after@example.org")
    assert identity.get_user(user.id).email == "after@example.org"
    assert user.id in {u.id for u in identity.users(name=name)}

    role = identity.find_role("member", ignore_missing=False)
    identity.assign_project_role_to_user(project, user, role)
    assert identity.validate_user_has_project_role(project, user, role)
    identity.unassign_project_role_from_user(project, user, role)
    assert not identity.validate_user_has_project_role(project, user, role)

    identity.delete_user(user)
    with pytest.raises(exceptions.NotFoundException):
        identity.get_user(user.id)


@pytest.mark.idempotent_id("1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d")
def test_member_cannot_list_users(member_conn):
    with pytest.raises(exceptions.ForbiddenException):
        list(member_conn.identity.users())
