"""Guest NUMA topology and memory pages: guest cells land on host cells as numatune says,
with their vCPUs on that node and their memory from it, in pages of the flavor's size."""

from __future__ import annotations

import pytest

from tests_whitebox.facts import require_dedicated, require_hugepages, require_numa
from tests_whitebox.guests import check_guest

pytestmark = pytest.mark.whitebox


@pytest.mark.idempotent_id("5d1e8a40-2f3c-4b7e-8a19-c0d2e4f6a801")
def test_two_cell_guest_maps_each_cell_onto_one_host_node(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_numa(computes, nodes=2, dedicated_per_node=2)
    guest = boot(make_flavor(4, hw__cpu_policy="dedicated", hw__numa_nodes="2",
                             hw__emulator_threads_policy="share"))
    facts = facts_for(guest.host_name)
    seen = check_guest(admin_conn, guest, facts, nova_db)
    assert len(seen.xml.numa_cells) == 2
    host_nodes = [next(iter(seen.xml.memnodes[c.id])) for c in seen.xml.numa_cells]
    assert sorted(host_nodes) == sorted(set(host_nodes)), "both cells on one host node"
    assert seen.topology is not None and seen.topology.host_nodes == host_nodes


@pytest.mark.idempotent_id("5d1e8a40-2f3c-4b7e-8a19-c0d2e4f6a802")
def test_single_cell_dedicated_guest_stays_on_one_host_node(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_dedicated(computes, 2)
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated"))
    facts = facts_for(guest.host_name)
    seen = check_guest(admin_conn, guest, facts, nova_db)
    (node,) = seen.xml.memnodes[0]
    assert seen.xml.pinned_cpus <= facts.cells[node]


@pytest.mark.idempotent_id("5d1e8a40-2f3c-4b7e-8a19-c0d2e4f6a803")
def test_hugepage_guest_is_backed_by_pages_of_the_flavor_size(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_hugepages(require_dedicated(computes, 2), 2048, 256)
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated", hw__mem_page_size="2MB"))
    seen = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert seen.xml.hugepage_sizes == {2048}
