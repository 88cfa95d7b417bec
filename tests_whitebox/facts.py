"""What the cloud can do, read from the inventory, the hosts and the API, so a test that cannot
run here skips saying exactly what is missing, never on a guess."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tcup_pytest.whitebox.cpuset import format_cpuset, parse_cpuset
from tcup_pytest.whitebox.hosts import Host
from tcup_pytest.whitebox.pool import HostPool
from tcup_pytest.whitebox.services import Service


@dataclass(frozen=True)
class ComputeFacts:
    """One compute host as the tests see it: its CPU sets now, NUMA cells, pages, libvirt."""

    name: str
    host: Host
    #: the hypervisor (and placement resource provider) name the API uses for the host
    hypervisor: str
    dedicated: frozenset[int]
    shared: frozenset[int] | None
    cells: dict[int, frozenset[int]]
    free_pages: dict[int, int]  # page size KiB -> pages over all cells
    libvirt_uri: str

    def dedicated_per_cell(self) -> dict[int, int]:
        return {cell: len(cpus & self.dedicated) for cell, cpus in self.cells.items()}


def _cpu_set(host: Host, pool: HostPool, name: str, option: str) -> frozenset[int] | None:
    """The live ``[compute] option`` from nova-compute's config (it may have been changed),
    else the inventory's value."""
    spec = pool.spec(name)
    if "nova-compute" in host.services and spec.services["nova-compute"].config:
        value = Service(host, "nova-compute").config().get("compute", option)
        return frozenset(parse_cpuset(value)) if value else None
    return getattr(spec, option)


def compute_facts(pool: HostPool, name: str) -> ComputeFacts:
    host = pool[name]
    caps = host.capabilities()
    pages: dict[int, int] = {}
    for cell in caps.cells:
        for size, count in cell.pages.items():
            pages[size] = pages.get(size, 0) + count
    return ComputeFacts(
        name=pool.spec(name).name, host=host,
        hypervisor=pool.spec(name).hypervisor_hostname or pool.spec(name).name,
        dedicated=_cpu_set(host, pool, name, "cpu_dedicated_set") or frozenset(),
        shared=_cpu_set(host, pool, name, "cpu_shared_set"),
        cells={c.id: frozenset(c.cpus) for c in caps.cells}, free_pages=pages,
        libvirt_uri=host.virsh("uri").strip())


def compute_hosts(conn: Any, pool: HostPool) -> list[str]:
    """Inventory names of nova-compute services that are up and enabled in the API."""
    names = []
    for service in conn.compute.services(binary="nova-compute"):
        if service.state == "up" and service.status == "enabled" and not service.is_forced_down:
            names.append(pool.spec(service.host).name)
    return sorted(names)


def _summary(facts: list[ComputeFacts], what: Any) -> str:
    return ", ".join(f"{f.name}: {what(f)}" for f in facts) or "no compute host up"


def require_dedicated(facts: list[ComputeFacts], count: int) -> list[ComputeFacts]:
    fit = [f for f in facts if len(f.dedicated) >= count]
    if not fit:
        pytest.skip(f"needs {count} CPUs in cpu_dedicated_set on one host; have "
                    + _summary(facts, lambda f: format_cpuset(f.dedicated) or "none"))
    return fit


def require_shared(facts: list[ComputeFacts]) -> list[ComputeFacts]:
    fit = [f for f in facts if f.shared]
    if not fit:
        pytest.skip("needs a host with cpu_shared_set; have "
                    + _summary(facts, lambda f: format_cpuset(f.shared or ()) or "unset"))
    return fit


def require_numa(facts: list[ComputeFacts], nodes: int, dedicated_per_node: int
                 ) -> list[ComputeFacts]:
    fit = [f for f in facts
           if sum(1 for n in f.dedicated_per_cell().values() if n >= dedicated_per_node)
           >= nodes]
    if not fit:
        pytest.skip(f"needs {nodes} NUMA nodes with {dedicated_per_node} dedicated CPUs each "
                    "on one host; have " + _summary(
                        facts, lambda f: f"{len(f.cells)} node(s), dedicated per node "
                                         f"{f.dedicated_per_cell()}"))
    return fit


def require_hugepages(facts: list[ComputeFacts], size_kib: int, count: int
                      ) -> list[ComputeFacts]:
    fit = [f for f in facts if f.free_pages.get(size_kib, 0) >= count]
    if not fit:
        pytest.skip(f"needs {count} huge pages of {size_kib} KiB on one host; virsh "
                    "capabilities shows " + _summary(
                        facts, lambda f: f"{f.free_pages.get(size_kib, 0)} pages"))
    return fit


def require_hosts(facts: list[ComputeFacts], count: int = 2) -> list[ComputeFacts]:
    if len(facts) < count:
        pytest.skip(f"needs {count} compute hosts up and enabled; have "
                    + (", ".join(f.name for f in facts) or "none"))
    return facts


def require_live_migration(facts: list[ComputeFacts]) -> list[ComputeFacts]:
    """libvirt's test driver (the local testbed) implements no migration at all."""
    require_hosts(facts)
    test_driver = [f for f in facts if f.libvirt_uri.startswith("test")]
    if test_driver:
        pytest.skip("live migration needs a hypervisor that can migrate; libvirt on "
                    + ", ".join(f"{f.name} is the test driver ({f.libvirt_uri})"
                                for f in test_driver)
                    + ", which has no virDomainMigrate")
    return facts
