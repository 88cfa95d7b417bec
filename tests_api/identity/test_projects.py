"""Identity v3 projects: create, read, list, update, delete; 404 and 403."""

import uuid

import pytest
from openstack import exceptions

from tcup_pytest.plugins.cloud import unique_name

pytestmark = pytest.mark.requires_service("identity")


@pytest.mark.idempotent_id("0f8a6b5e-2c1d-4e8f-9a7b-3c5d1e2f4a60")
def test_project_lifecycle(admin_conn, resource_cleanup):
    identity = admin_conn.identity
    name = unique_name("tcup-project")
    project = identity.create_project(name=name, domain_id="default", description="created")
    resource_cleanup.add(f"project {name}", identity.delete_project, project)

    fetched = identity.get_project(project.id)
    assert (fetched.name, fetched.description, fetched.is_enabled) == (name, "created", True)
    assert project.id in {p.id for p in identity.projects(name=name)}

    identity.update_project(project, description="updated", is_enabled=False)
    fetched = identity.get_project(project.id)
    assert (fetched.description, fetched.is_enabled) == ("updated", False)

    identity.delete_project(project)
    with pytest.raises(exceptions.NotFoundException):
        identity.get_project(project.id)


@pytest.mark.idempotent_id("5b0e8c4a-7d3f-4f2b-8e6a-1c9d2b3a4f51")
def test_missing_project_is_404(admin_conn):
    # A member asking for any foreign project id gets 403 before existence is checked.
    with pytest.raises(exceptions.NotFoundException):
        admin_conn.identity.get_project(uuid.uuid4().hex)


@pytest.mark.idempotent_id("c3e2f1a0-9b8d-4c7e-a6f5-e4d3c2b1a098")
def test_member_cannot_create_a_project(member_conn):
    with pytest.raises(exceptions.ForbiddenException):
        member_conn.identity.create_project(name=unique_name("tcup-forbidden"),
                                            domain_id="default")
