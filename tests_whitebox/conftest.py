"""Fixtures of the whitebox tests: an image, flavors and servers made through openstacksdk and
deleted afterwards, facts about each compute host, and the lock that keeps tests which stop or
reconfigure nova-compute apart from the tests whose guests it would disturb.

Fixtures ``admin_conn``, ``hosts``, ``nova_db``, ``config_change`` and ``resource_cleanup``
come from the installed ``tcup`` plugin.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tcup_pytest.plugins.cloud import unique_name
from tcup_pytest.whitebox.flavors import FlavorSpec
from tcup_pytest.whitebox.pool import HostPool
from tests_whitebox.facts import ComputeFacts, compute_facts, compute_hosts
from tests_whitebox.guests import BOOT_TIMEOUT, Guest, wait_status

IMAGE_ENV = "TCUP_WHITEBOX_IMAGE"
#: A raw disk of zeros: nothing boots from it, but Nova and libvirt place the guest the same.
EMPTY_IMAGE_BYTES = 1024 * 1024


def pytest_configure(config: pytest.Config) -> None:
    config.option.tcup_require_cloud = True
    config.addinivalue_line("markers", "disruptive: stops or reconfigures nova-compute; runs "
                                       "while no other whitebox test runs")


@pytest.fixture(scope="session")
def image_id(admin_conn: Any) -> Iterator[str]:
    """``$TCUP_WHITEBOX_IMAGE`` (name or id), else a 1 MiB raw image made for this session."""
    wanted = os.environ.get(IMAGE_ENV)
    if wanted:
        yield admin_conn.image.find_image(wanted, ignore_missing=False).id
        return
    image = admin_conn.image.create_image(
        unique_name("tcup-wb-empty"), data=b"\0" * EMPTY_IMAGE_BYTES, disk_format="raw",
        container_format="bare", allow_duplicates=True)
    yield image.id
    admin_conn.image.delete_image(image, ignore_missing=True)


@pytest.fixture
def make_flavor(admin_conn: Any, resource_cleanup: Any) -> Callable[..., FlavorSpec]:
    """``make_flavor(vcpus, **extra_specs)`` → a new flavor (deleted after the test)."""
    def make(vcpus: int, ram: int = 512, **extra_specs: str) -> FlavorSpec:
        name = unique_name("tcup-wb")  # also its id, so a FlavorSpec names it for the API
        flavor = admin_conn.compute.create_flavor(name=name, id=name, vcpus=vcpus, ram=ram,
                                                  disk=1)
        resource_cleanup.add(f"flavor {flavor.name}", admin_conn.compute.delete_flavor, flavor)
        specs = {key.replace("__", ":"): value for key, value in extra_specs.items()}
        if specs:
            admin_conn.compute.create_flavor_extra_specs(flavor, specs)
        return FlavorSpec(name, vcpus, ram, specs)
    return make


@pytest.fixture
def boot(admin_conn: Any, image_id: str, resource_cleanup: Any) -> Callable[..., Guest]:
    """``boot(flavor, host=None, group=None)`` → an ACTIVE guest (deleted after the test)."""
    def _delete(server: Any) -> None:
        admin_conn.compute.delete_server(server, ignore_missing=True)
        admin_conn.compute.wait_for_delete(server, wait=BOOT_TIMEOUT)

    def start(flavor: FlavorSpec, *, host: str | None = None, group: str | None = None
              ) -> Guest:
        extra: dict[str, Any] = {"host": host} if host else {}
        if group:
            extra["scheduler_hints"] = {"group": group}
        server = admin_conn.compute.create_server(
            name=unique_name("tcup-wb"), flavor_id=flavor.name, image_id=image_id,
            networks="none", **extra)
        resource_cleanup.add(f"server {server.id}", _delete, server)
        guest = Guest(server, flavor)
        wait_status(admin_conn, guest, "ACTIVE")
        return guest
    return start


@pytest.fixture
def server_group(admin_conn: Any, resource_cleanup: Any) -> Callable[[str], str]:
    def make(policy: str) -> str:
        group = admin_conn.compute.create_server_group(name=unique_name("tcup-wb"),
                                                       policy=policy)
        resource_cleanup.add(f"server group {group.id}",
                             admin_conn.compute.delete_server_group, group)
        return str(group.id)
    return make


@pytest.fixture
def facts_for(hosts: HostPool) -> Callable[[str], ComputeFacts]:
    """``facts_for(host name)`` → the host's CPU sets (read now), NUMA cells, pages."""
    return lambda name: compute_facts(hosts, name)


@pytest.fixture
def computes(admin_conn: Any, hosts: HostPool) -> list[ComputeFacts]:
    """Facts of every compute host that is up and enabled in the API."""
    return [compute_facts(hosts, name) for name in compute_hosts(admin_conn, hosts)]


# -- parallel safety: disruptive tests run alone ----------------------------------------------

def _lock_path() -> Path:
    path = Path(tempfile.gettempdir()) / "tcup-whitebox-locks" / "nova-compute.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _flock(mode: int) -> Iterator[None]:
    with open(_lock_path(), "a") as handle:
        fcntl.flock(handle, mode)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(autouse=True)
def _disruption_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Ordinary tests share the lock; ``disruptive`` ones (which stop or restart nova-compute,
    and take the per-host lock of the host they change too) hold it alone, so no other
    worker's guest is mid-operation on a compute service that goes away."""
    exclusive = request.node.get_closest_marker("disruptive") is not None
    with _flock(fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH):
        yield
