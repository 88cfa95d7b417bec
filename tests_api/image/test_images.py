"""Image v2: upload, read, list, update, download, delete; 404 and 403."""

import hashlib
import os
import uuid

import pytest
from openstack import exceptions

from tcup_pytest.plugins.cloud import unique_name

pytestmark = pytest.mark.requires_service("image")


@pytest.mark.idempotent_id("3c2f8b1e-6a4d-4e9f-8b7c-5d1a2e3f4b6c")
def test_image_lifecycle_with_data(conn, resource_cleanup):
    image_api = conn.image
    data = os.urandom(64 * 1024)
    name = unique_name("tcup-image")
    image = image_api.create_image(name=name, data=data, disk_format="raw",
                                   container_format="bare", allow_duplicates=True)
    resource_cleanup.add(f"image {name}", image_api.delete_image, image)

    fetched = image_api.get_image(image.id)
    assert (fetched.name, fetched.status, fetched.size) == (name, "active", len(data))
    assert fetched.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert image.id in {i.id for i in image_api.images(name=name)}

    image_api.update_image(image, name=f"{name}-renamed")
    image_api.add_tag(image, "tcup")
    fetched = image_api.get_image(image.id)
    assert (fetched.name, fetched.tags) == (f"{name}-renamed", ["tcup"])

    assert image_api.download_image(image).content == data

    image_api.delete_image(image)
    with pytest.raises(exceptions.NotFoundException):
        image_api.get_image(image.id)


@pytest.mark.idempotent_id("7b6a5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5e")
def test_missing_image_is_404(conn):
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(str(uuid.uuid4()))


@pytest.mark.idempotent_id("d4c3b2a1-0f9e-4d8c-b7a6-5e4d3c2b1a0f")
def test_member_cannot_publish_an_image(member_conn, resource_cleanup):
    with pytest.raises(exceptions.ForbiddenException):
        image = member_conn.image.create_image(
            name=unique_name("tcup-public"), visibility="public", disk_format="raw",
            container_format="bare", allow_duplicates=True)
        resource_cleanup.add(f"image {image.name}", member_conn.image.delete_image, image)
