"""The whitebox invariant checks on real libvirt XML: each passes on what Nova wrote and fails,
with a message naming the problem, on a domain libvirt accepted with the invariant broken.

The XML, DB rows and allocations in tests/data/whitebox/ come from the testbed's Nova and
libvirtd (see make_dumps.py there).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcup_pytest.whitebox.checks import (
    InvariantViolation,
    check_allocations,
    check_dedicated_pinning,
    check_emulator_threads,
    check_hugepages,
    check_no_shared_pcpus,
    check_numa_placement,
    check_realtime,
    check_shared_floating,
    check_topology_matches_db,
    sum_allocations,
)
from tcup_pytest.whitebox.cpuset import parse_cpuset
from tcup_pytest.whitebox.flavors import FlavorSpec, page_size_kib
from tcup_pytest.whitebox.libvirt import Capabilities, DomainXML
from tcup_pytest.whitebox.numa import InstanceNUMATopology

DATA = Path(__file__).resolve().parents[2] / "data" / "whitebox"
DEDICATED = parse_cpuset("2-7,10-15")
SHARED = parse_cpuset("0-1,8-9")
PINNED = {"hw:cpu_policy": "dedicated"}
FLAVORS = {
    "pinned-numa2-share": FlavorSpec("numa2", 4, 512, {**PINNED, "hw:numa_nodes": "2",
                                                       "hw:emulator_threads_policy": "share"}),
    "pinned-isolate": FlavorSpec("isolate", 2, 512, {**PINNED,
                                                     "hw:emulator_threads_policy": "isolate"}),
    "pinned-realtime": FlavorSpec("rt", 4, 512, {**PINNED, "hw:cpu_realtime": "yes",
                                                 "hw:cpu_realtime_mask": "^0"}),
    "pinned-other": FlavorSpec("other", 2, 512, dict(PINNED)),
    "shared": FlavorSpec("shared", 2, 512, {}),
}


def xml(name: str) -> DomainXML:
    return DomainXML.from_string((DATA / f"{name}.xml").read_bytes())


def topology(case: str) -> InstanceNUMATopology | None:
    data = json.loads((DATA / f"nova-{case}.numa_topology.json").read_text())
    return None if data is None else InstanceNUMATopology.from_json(data)


def host_cells() -> dict[int, set[int]]:
    caps = Capabilities.from_string((DATA / "capabilities.xml").read_bytes())
    return {cell.id: set(cell.cpus) for cell in caps.cells}


def violation(check, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvariantViolation) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# -- pinning ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["pinned-numa2-share", "pinned-isolate", "pinned-realtime",
                                  "pinned-other"])
def test_nova_pins_dedicated_guests_one_to_one(case: str) -> None:
    check_dedicated_pinning(xml(f"nova-{case}"), DEDICATED)


def test_a_vcpu_on_a_shared_cpu_is_reported_with_its_pcpu() -> None:
    message = violation(check_dedicated_pinning, xml("bad-pin-shared-cpu"), DEDICATED)
    assert "tcup-bad-pin-shared-cpu: vCPUs must be pinned 1:1 inside cpu_dedicated_set" in message
    assert any(line.split()[:3] == ["1", "0", "outside"] for line in message.splitlines())


def test_two_vcpus_on_one_pcpu_are_reported() -> None:
    message = violation(check_dedicated_pinning, xml("bad-pin-doubled"), DEDICATED)
    assert "also the pCPU of vcpu 0" in message


def test_shared_guest_floats_over_the_shared_set() -> None:
    check_shared_floating(xml("nova-shared"), SHARED)


def test_shared_guest_on_dedicated_cpus_is_reported() -> None:
    message = violation(check_shared_floating, xml("bad-shared-on-dedicated"), SHARED)
    assert "outside cpu_shared_set: 2-3" in message


def test_a_pinned_guest_is_not_a_floating_one() -> None:
    message = violation(check_shared_floating, xml("nova-pinned-other"), SHARED)
    assert "outside cpu_shared_set" in message


def test_dedicated_guests_of_one_host_are_disjoint_in_xml_and_db() -> None:
    guests = [(xml(f"nova-{c}"), FLAVORS[c]) for c in ("pinned-numa2-share", "pinned-other")]
    topologies = {c: topology(c) for c in ("pinned-numa2-share", "pinned-other")}
    check_no_shared_pcpus(guests, {k: v for k, v in topologies.items() if v})


def test_a_guest_taking_another_guests_pcpu_is_reported() -> None:
    first = xml("nova-pinned-numa2-share")
    guests = [(first, FLAVORS["pinned-numa2-share"]),
              (xml("bad-pin-overlap-guest"), FLAVORS["pinned-other"])]
    message = violation(check_no_shared_pcpus, guests)
    assert "share pCPUs (from the XML)" in message
    assert str(first.vcpu_pins[0].copy().pop()) in message.splitlines()[-1]


def test_db_rows_claiming_one_pcpu_twice_are_reported() -> None:
    numa2 = topology("pinned-numa2-share")
    assert numa2 is not None
    message = violation(check_no_shared_pcpus, [], {"a": numa2, "b": numa2})
    assert "(from the database)" in message


# -- emulator threads and realtime -----------------------------------------------------------

@pytest.mark.parametrize("case", ["pinned-numa2-share", "pinned-isolate", "pinned-realtime",
                                  "pinned-other"])
def test_nova_pins_emulator_threads_by_policy(case: str) -> None:
    check_emulator_threads(xml(f"nova-{case}"), FLAVORS[case], shared=SHARED,
                           dedicated=DEDICATED)


def test_share_policy_with_emulator_on_the_vcpus_is_reported() -> None:
    message = violation(check_emulator_threads, xml("bad-emulator-share"),
                        FLAVORS["pinned-numa2-share"], shared=SHARED, dedicated=DEDICATED)
    assert "share: emulator threads on cpu_shared_set" in message
    assert "expected emulatorpin  0-1,8-9" in message


def test_isolate_policy_with_emulator_on_a_vcpu_is_reported() -> None:
    message = violation(check_emulator_threads, xml("bad-emulator-isolate"),
                        FLAVORS["pinned-isolate"], shared=SHARED, dedicated=DEDICATED)
    assert "isolate: emulator threads on one extra pCPU" in message


def test_nova_schedules_realtime_vcpus_fifo() -> None:
    check_realtime(xml("nova-pinned-realtime"), FLAVORS["pinned-realtime"])
    check_realtime(xml("nova-pinned-other"), FLAVORS["pinned-other"])


def test_a_realtime_vcpu_without_vcpusched_is_reported() -> None:
    message = violation(check_realtime, xml("bad-realtime"), FLAVORS["pinned-realtime"])
    assert "vcpusched must cover exactly the realtime vCPUs 1-3" in message
    assert any(line.split() == ["3", "fifo/rr", "none"] for line in message.splitlines())


# -- NUMA, pages, database, placement ---------------------------------------------------------

@pytest.mark.parametrize("case", ["pinned-numa2-share", "pinned-isolate", "pinned-other"])
def test_nova_guest_cells_follow_numatune(case: str) -> None:
    check_numa_placement(xml(f"nova-{case}"), host_cells(), FLAVORS[case])


def test_guest_cell_memory_on_the_wrong_host_node_is_reported() -> None:
    message = violation(check_numa_placement, xml("bad-numa-memnode"), host_cells(),
                        FLAVORS["pinned-numa2-share"])
    assert "guest NUMA cells must map onto host cells as numatune says" in message
    assert "outside host node" in message


def test_hugepages_follow_the_flavor() -> None:
    two_mb = FlavorSpec("2m", 4, 512, {**PINNED, "hw:mem_page_size": "2MB"})
    check_hugepages(xml("good-hugepages-2m"), two_mb)
    check_hugepages(xml("nova-pinned-numa2-share"), FLAVORS["pinned-numa2-share"])
    message = violation(check_hugepages, xml("bad-hugepages-1g"), two_mb)
    assert "memoryBacking must follow hw:mem_page_size=2MB" in message
    assert "expected  2048 KiB pages" in message and "actual    1048576 KiB" in message


def test_small_page_guest_with_hugepages_is_reported() -> None:
    message = violation(check_hugepages, xml("good-hugepages-2m"), FLAVORS["pinned-other"])
    assert "expected  no huge pages" in message


@pytest.mark.parametrize("case", ["pinned-numa2-share", "pinned-isolate", "pinned-realtime",
                                  "pinned-other", "shared"])
def test_db_topology_agrees_with_the_live_xml(case: str) -> None:
    check_topology_matches_db(xml(f"nova-{case}"), topology(case))


def test_xml_pins_differing_from_the_db_are_reported_per_vcpu() -> None:
    message = violation(check_topology_matches_db, xml("bad-pin-shared-cpu"),
                        topology("pinned-numa2-share"))
    assert "live XML and instance_extra.numa_topology of" in message
    db_pcpu = topology("pinned-numa2-share").cpu_pinning[1]  # type: ignore[union-attr]
    assert any(line.split() == ["vcpu", "1", "0", str(db_pcpu)] for line in message.splitlines())


def test_memnodes_differing_from_the_db_are_reported() -> None:
    message = violation(check_topology_matches_db, xml("bad-numa-memnode"),
                        topology("pinned-numa2-share"))
    assert "guest cell 0 host node" in message


def test_isolated_emulator_differing_from_cpuset_reserved_is_reported() -> None:
    message = violation(check_topology_matches_db, xml("bad-emulator-isolate"),
                        topology("pinned-isolate"))
    assert "emulator (cpuset_reserved)" in message


@pytest.mark.parametrize("case", list(FLAVORS))
def test_placement_allocations_match_the_flavor(case: str) -> None:
    allocations = json.loads((DATA / f"nova-{case}.allocations.json").read_text())
    check_allocations(sum_allocations(allocations), FLAVORS[case])


def test_vcpu_allocations_for_a_pinned_flavor_are_reported() -> None:
    allocations = json.loads((DATA / "nova-shared.allocations.json").read_text())
    message = violation(check_allocations, sum_allocations(allocations),
                        FlavorSpec("pinned", 2, 512, dict(PINNED)), "server-1")
    assert "server-1: placement allocations must match flavor pinned" in message
    assert any(line.split() == ["PCPU", "2", "0"] for line in message.splitlines())


def test_isolate_allocation_without_the_extra_pcpu_is_reported() -> None:
    allocations = json.loads((DATA / "nova-pinned-other.allocations.json").read_text())
    message = violation(check_allocations, sum_allocations(allocations),
                        FLAVORS["pinned-isolate"])
    assert any(line.split() == ["PCPU", "3", "2"] for line in message.splitlines())


# -- flavors -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "kib"), [("2MB", 2048), ("1GB", 1048576), ("2048", 2048),
                                            ("large", "large"), ("4KiB", 4)])
def test_page_sizes_are_read_as_nova_reads_them(value: str, kib: int | str) -> None:
    assert page_size_kib(value) == kib


def test_mixed_policy_dedicates_the_masked_vcpus() -> None:
    spec = FlavorSpec("mixed", 4, 512, {"hw:cpu_policy": "mixed",
                                        "hw:cpu_dedicated_mask": "^0"})
    assert spec.dedicated_vcpus == {1, 2, 3}
