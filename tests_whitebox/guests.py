"""Booted guests and the invariants every one of them must satisfy, checked on the host the
API says runs it: live XML, ``instance_extra.numa_topology`` and placement allocations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openstack import exceptions

from tcup_pytest.whitebox.checks import (
    check_allocations,
    check_dedicated_pinning,
    check_emulator_threads,
    check_guests_disjoint,
    check_hugepages,
    check_numa_placement,
    check_realtime,
    check_shared_floating,
    check_topology_matches_db,
    sum_allocations,
)
from tcup_pytest.whitebox.database import DBSession, instance_numa_topology
from tcup_pytest.whitebox.flavors import FlavorSpec
from tcup_pytest.whitebox.libvirt import DomainXML
from tcup_pytest.whitebox.numa import InstanceNUMATopology
from tests_whitebox.facts import ComputeFacts

BOOT_TIMEOUT = 180


@dataclass
class Guest:
    """A server with the flavor it was booted with (the admin view: it names its host)."""

    server: Any
    flavor: FlavorSpec

    @property
    def id(self) -> str:
        return str(self.server.id)

    @property
    def host_name(self) -> str:
        return str(self.server.compute_host)


@dataclass(frozen=True)
class Observed:
    """What one inspection saw, for before/after comparisons."""

    host: str
    xml: DomainXML
    topology: InstanceNUMATopology | None
    allocations: dict[str, int]


def inspect(conn: Any, guest: Guest, facts: ComputeFacts, nova_db: DBSession) -> Observed:
    xml = facts.host.domain_xml(guest.id)
    topology = instance_numa_topology(nova_db, guest.id)
    allocations = conn.placement.get(f"/allocations/{guest.id}").json()["allocations"]
    return Observed(facts.name, xml, topology, sum_allocations(allocations))


def check_guest(conn: Any, guest: Guest, facts: ComputeFacts, nova_db: DBSession, *,
                allocations: bool = True) -> Observed:
    """Every invariant that applies to this guest's flavor; returns what was seen.

    ``allocations=False`` while Nova legitimately holds two (an evacuation, until the source
    compute is back and has cleaned up)."""
    seen = inspect(conn, guest, facts, nova_db)
    xml, spec = seen.xml, guest.flavor
    if spec.dedicated_vcpus:
        check_dedicated_pinning(xml, facts.dedicated, spec.dedicated_vcpus)
        check_emulator_threads(xml, spec, shared=facts.shared, dedicated=facts.dedicated)
    if set(range(spec.vcpus)) - spec.dedicated_vcpus and facts.shared:
        check_shared_floating(xml, facts.shared,
                              set(range(spec.vcpus)) - spec.dedicated_vcpus)
    if spec.realtime_vcpus:
        check_realtime(xml, spec)
    if xml.numa_cells:
        check_numa_placement(xml, facts.cells, spec)
    check_hugepages(xml, spec)
    check_topology_matches_db(xml, seen.topology)
    if allocations:
        check_allocations(seen.allocations, spec, consumer=f"server {guest.id}")
    check_host_disjoint(facts, nova_db)
    return seen


def _dedicated_in_xml(xml: DomainXML, dedicated: frozenset[int]) -> set[int]:
    """pCPUs a domain holds alone: single-CPU vCPU pins and a single-CPU isolated emulator
    inside the dedicated set (shared guests float over sets, so they hold none)."""
    held = {p for cpus in xml.vcpu_pins.values() if len(cpus) == 1 for p in cpus
            if p in dedicated}
    emulator = xml.emulator_pins or set()
    if len(emulator) == 1 and emulator <= dedicated:
        held |= emulator
    return held


def check_host_disjoint(facts: ComputeFacts, nova_db: DBSession) -> None:
    """No pCPU of the host is held by two guests, by every domain's XML and by the DB rows of
    every instance Nova places on the host."""
    xmls = {}
    for name in facts.host.virsh("list", "--name").split():
        dumped = facts.host.for_service("libvirt").run(["virsh", "dumpxml", name])
        if dumped.rc == 0:  # else deleted since the listing (another test's guest)
            xmls[name] = DomainXML.from_string(dumped.stdout)
    check_guests_disjoint({f"{n} ({x.uuid})": _dedicated_in_xml(x, facts.dedicated)
                           for n, x in xmls.items()})
    rows = nova_db.query("SELECT uuid FROM instances WHERE host = %s AND deleted = 0 AND "
                         "vm_state NOT IN ('deleted', 'error')", (facts.name,))
    topologies = {r["uuid"]: instance_numa_topology(nova_db, r["uuid"]) for r in rows}
    check_guests_disjoint(
        {u: t.pinned_cpus | set().union(*(c.cpuset_reserved or set() for c in t.cells))
         for u, t in topologies.items() if t is not None}, source="database")


def wait_status(conn: Any, guest: Guest, status: str, timeout: float = BOOT_TIMEOUT) -> None:
    """Wait for a status (ERROR ends the wait with the fault), then refresh the admin view."""
    try:
        guest.server = conn.compute.wait_for_server(guest.server, status=status,
                                                    failures=["ERROR"], wait=timeout, interval=1)
    except exceptions.ResourceFailure:
        fault = conn.compute.get_server(guest.id).fault or {}
        raise AssertionError(f"server {guest.id} went to ERROR waiting for {status}: "
                             f"{fault.get('message')} {fault.get('details', '')[-600:]}"
                             ) from None


FactsFor = Callable[[str], ComputeFacts]
