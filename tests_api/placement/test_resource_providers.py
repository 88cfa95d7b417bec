"""Placement: resource providers, inventories and custom resource classes; 404 and 403."""

import uuid

import pytest
from openstack import exceptions

from tcup_pytest.plugins.cloud import unique_name

pytestmark = pytest.mark.requires_service("placement")


@pytest.mark.idempotent_id("e5f4d3c2-b1a0-4f9e-8d7c-6b5a4f3e2d1c")
def test_resource_provider_lifecycle_with_inventory(admin_conn, resource_cleanup):
    placement = admin_conn.placement
    name = unique_name("tcup-rp")
    provider = placement.create_resource_provider(name=name)
    resource_cleanup.add(f"resource provider {name}", placement.delete_resource_provider,
                         provider)

    assert placement.get_resource_provider(provider.id).name == name
    assert provider.id in {p.id for p in placement.resource_providers(name=name)}

    placement.create_resource_provider_inventory(provider, resource_class="VCPU", total=8,
                                                 allocation_ratio=2.0)
    inventories = {i.resource_class: i for i in placement.resource_provider_inventories(provider)}
    assert (inventories["VCPU"].total, inventories["VCPU"].allocation_ratio) == (8, 2.0)

    placement.update_resource_provider(provider, name=f"{name}-renamed")
    assert placement.get_resource_provider(provider.id).name == f"{name}-renamed"

    placement.delete_resource_provider(provider)
    with pytest.raises(exceptions.NotFoundException):
        placement.get_resource_provider(provider.id)


@pytest.mark.idempotent_id("f6e5d4c3-b2a1-4098-8f7e-6d5c4b3a2f1e")
def test_custom_resource_class_lifecycle(admin_conn, resource_cleanup):
    placement = admin_conn.placement
    name = f"CUSTOM_TCUP_{uuid.uuid4().hex[:8].upper()}"
    placement.create_resource_class(name=name)
    resource_cleanup.add(f"resource class {name}", placement.delete_resource_class, name)
    names = {rc.name for rc in placement.resource_classes()}
    assert {"VCPU", "MEMORY_MB", name} <= names
    placement.delete_resource_class(name)
    assert name not in {rc.name for rc in placement.resource_classes()}


@pytest.mark.idempotent_id("0a1b2c3d-4e5f-4061-8728-394a5b6c7d8e")
def test_missing_resource_provider_is_404(admin_conn):
    with pytest.raises(exceptions.NotFoundException):
        admin_conn.placement.get_resource_provider(str(uuid.uuid4()))


@pytest.mark.idempotent_id("1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0")
def test_member_cannot_list_resource_providers(member_conn):
    with pytest.raises(exceptions.ForbiddenException):
        list(member_conn.placement.resource_providers())
