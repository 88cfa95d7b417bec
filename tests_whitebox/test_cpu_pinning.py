"""CPU pinning as a Nova/NFV engineer checks it: dedicated guests own their pCPUs, shared
guests float, emulator threads and realtime vCPUs go where the flavor says, and placement
and the database tell the same story as the live XML."""

from __future__ import annotations

import pytest

from tests_whitebox.facts import require_dedicated, require_shared
from tests_whitebox.guests import check_guest

pytestmark = pytest.mark.whitebox


@pytest.mark.idempotent_id("0b5f1c1e-5a8e-4d5e-9c41-7f0a3c2d6e01")
def test_dedicated_guest_is_pinned_one_to_one_in_the_dedicated_set(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_dedicated(computes, 2)
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated"))
    seen = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert seen.allocations.get("PCPU") == 2 and "VCPU" not in seen.allocations


@pytest.mark.idempotent_id("0b5f1c1e-5a8e-4d5e-9c41-7f0a3c2d6e02")
def test_two_dedicated_guests_on_one_host_share_no_pcpu(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot, server_group):
    require_dedicated(computes, 4)
    flavor = make_flavor(2, hw__cpu_policy="dedicated")
    group = server_group("affinity")
    first, second = boot(flavor, group=group), boot(flavor, group=group)
    assert first.host_name == second.host_name
    facts = facts_for(first.host_name)
    seen = [check_guest(admin_conn, g, facts, nova_db) for g in (first, second)]
    assert not seen[0].xml.pinned_cpus & seen[1].xml.pinned_cpus
    assert seen[0].topology and seen[1].topology
    assert not seen[0].topology.pinned_cpus & seen[1].topology.pinned_cpus


@pytest.mark.idempotent_id("0b5f1c1e-5a8e-4d5e-9c41-7f0a3c2d6e03")
def test_shared_guest_floats_over_the_shared_set(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_shared(computes)
    guest = boot(make_flavor(2))
    facts = facts_for(guest.host_name)
    seen = check_guest(admin_conn, guest, facts, nova_db)
    assert seen.xml.vcpu_cpuset == facts.shared
    assert seen.allocations.get("VCPU") == 2 and "PCPU" not in seen.allocations


@pytest.mark.idempotent_id("0b5f1c1e-5a8e-4d5e-9c41-7f0a3c2d6e04")
def test_emulator_threads_share_policy_runs_on_the_shared_set(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_shared(require_dedicated(computes, 2))
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated",
                             hw__emulator_threads_policy="share"))
    facts = facts_for(guest.host_name)
    seen = check_guest(admin_conn, guest, facts, nova_db)
    assert seen.xml.emulator_pins == facts.shared


@pytest.mark.idempotent_id("0b5f1c1e-5a8e-4d5e-9c41-7f0a3c2d6e05")
def test_emulator_threads_isolate_policy_takes_one_more_pcpu(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_dedicated(computes, 3)
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated",
                             hw__emulator_threads_policy="isolate"))
    seen = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert seen.allocations.get("PCPU") == 3
    assert seen.topology is not None
    reserved = set().union(*(c.cpuset_reserved or set() for c in seen.topology.cells))
    assert seen.xml.emulator_pins == reserved and not reserved & seen.xml.pinned_cpus


@pytest.mark.idempotent_id("0b5f1c1e-5a8e-4d5e-9c41-7f0a3c2d6e06")
def test_realtime_vcpus_get_a_fifo_scheduler(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_dedicated(computes, 4)
    guest = boot(make_flavor(4, hw__cpu_policy="dedicated", hw__cpu_realtime="yes",
                             hw__cpu_realtime_mask="^0"))
    seen = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert {v for s in seen.xml.vcpu_sched for v in s.vcpus} == {1, 2, 3}
    assert seen.xml.emulator_pins == seen.xml.vcpu_pins[0]
