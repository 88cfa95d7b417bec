"""Moves keep the invariants: every check passes before and after cold migration, evacuation,
resize, reboot and live migration, on the host the API names after the move."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tcup_pytest.whitebox.services import Service, host_lock, wait_until
from tests_whitebox.facts import require_dedicated, require_hosts, require_live_migration
from tests_whitebox.guests import BOOT_TIMEOUT, Guest, check_guest, wait_status

pytestmark = pytest.mark.whitebox


def _gone_from(host: Any, guest: Guest) -> bool:
    return host.run(["virsh", "domstate", guest.id]).rc != 0


def _lift_forced_down(conn: Any, host: str) -> bool:
    try:
        conn.compute.update_service_forced_down(None, host=host, binary="nova-compute",
                                                forced=False)
    except exceptions.BadRequestException:
        return False
    return True


def _settled_elsewhere(conn: Any, guest: Guest, source: str) -> bool:
    guest.server = conn.compute.get_server(guest.id)
    if guest.server.status == "ERROR":
        raise AssertionError(f"server {guest.id} went to ERROR: {guest.server.fault}")
    return (guest.server.status in ("ACTIVE", "SHUTOFF") and guest.server.task_state is None
            and guest.host_name != source)


@pytest.mark.idempotent_id("9a3c6e12-7b4d-4f1a-b2c8-d5e6f7a8b901")
def test_cold_migration_keeps_pins_on_the_new_host(
        admin_conn, nova_db, computes, facts_for, hosts, make_flavor, boot):
    require_hosts(require_dedicated(computes, 2))
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated",
                             hw__emulator_threads_policy="share"))
    before = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    admin_conn.compute.migrate_server(guest.server)
    wait_status(admin_conn, guest, "VERIFY_RESIZE")
    admin_conn.compute.confirm_server_resize(guest.server)
    wait_status(admin_conn, guest, "ACTIVE")
    assert guest.host_name != before.host
    check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert _gone_from(hosts[before.host], guest)


@pytest.mark.disruptive
@pytest.mark.idempotent_id("9a3c6e12-7b4d-4f1a-b2c8-d5e6f7a8b902")
def test_evacuation_keeps_pins_and_the_source_cleans_up(
        admin_conn, nova_db, computes, facts_for, hosts, make_flavor, boot,
        nova_service_lister):
    require_hosts(require_dedicated(computes, 2))
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated"))
    source = guest.host_name
    before = check_guest(admin_conn, guest, facts_for(source), nova_db)
    source_host = hosts[source]
    compute = Service(source_host, "nova-compute", nova_service_lister)
    with host_lock(source_host):
        compute.stop()
        try:
            admin_conn.compute.update_service_forced_down(None, host=source,
                                                          binary="nova-compute", forced=True)
            admin_conn.compute.evacuate_server(guest.server)
            wait_until(lambda: _settled_elsewhere(admin_conn, guest, source),
                       timeout=BOOT_TIMEOUT, what=f"server {guest.id} evacuated from {source}")
            check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db,
                        allocations=False)
        finally:
            compute.start()
            # Nova refuses to lift forced_down until the restarted source has cleaned up
            # after the evacuation (its migration records moved from done to completed).
            wait_until(lambda: _lift_forced_down(admin_conn, source), timeout=120,
                       what=f"{source} accepted back after the evacuation")
            compute.wait_healthy()
        assert _gone_from(source_host, guest), f"{source} kept the evacuated guest"
    check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert guest.host_name != before.host


@pytest.mark.idempotent_id("9a3c6e12-7b4d-4f1a-b2c8-d5e6f7a8b903")
def test_resize_to_more_dedicated_vcpus_repins_the_guest(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot):
    require_hosts(require_dedicated(computes, 4))
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated"))
    check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    bigger = make_flavor(4, hw__cpu_policy="dedicated")
    admin_conn.compute.resize_server(guest.server, bigger.name)
    wait_status(admin_conn, guest, "VERIFY_RESIZE")
    admin_conn.compute.confirm_server_resize(guest.server)
    wait_status(admin_conn, guest, "ACTIVE")
    guest.flavor = bigger
    seen = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert len(seen.xml.vcpu_pins) == 4 and seen.allocations.get("PCPU") == 4


@pytest.mark.parametrize("kind", ["SOFT", "HARD"])
@pytest.mark.idempotent_id("9a3c6e12-7b4d-4f1a-b2c8-d5e6f7a8b904")
def test_reboot_keeps_the_same_pins(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot, kind):
    require_dedicated(computes, 2)
    guest = boot(make_flavor(2, hw__cpu_policy="dedicated"))
    before = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    admin_conn.compute.reboot_server(guest.server, kind)
    wait_until(lambda: admin_conn.compute.get_server(guest.id).status == "REBOOT"
               or _rebooted(admin_conn, guest), timeout=60, what="reboot started")
    wait_status(admin_conn, guest, "ACTIVE")
    after = check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    assert after.xml.vcpu_pins == before.xml.vcpu_pins
    assert after.topology == before.topology


def _rebooted(conn: Any, guest: Guest) -> bool:
    server = conn.compute.get_server(guest.id)
    return server.status == "ACTIVE" and server.task_state is None


@pytest.mark.idempotent_id("9a3c6e12-7b4d-4f1a-b2c8-d5e6f7a8b905")
def test_live_migration_onto_a_busy_host_keeps_pcpus_disjoint(
        admin_conn, nova_db, computes, facts_for, make_flavor, boot, server_group):
    require_live_migration(require_dedicated(computes, 4))
    flavor = make_flavor(2, hw__cpu_policy="dedicated", hw__emulator_threads_policy="share")
    group = server_group("anti-affinity")
    staying, moving = boot(flavor, group=group), boot(flavor)
    if moving.host_name == staying.host_name:
        pytest.skip("the scheduler put both guests on one host; nothing to migrate onto")
    for guest in (staying, moving):
        check_guest(admin_conn, guest, facts_for(guest.host_name), nova_db)
    admin_conn.compute.live_migrate_server(moving.server, host=staying.host_name,
                                           block_migration="auto")
    wait_until(lambda: _settled_elsewhere(admin_conn, moving, moving.host_name)
               or moving.host_name == staying.host_name, timeout=BOOT_TIMEOUT,
               what="live migration")
    wait_status(admin_conn, moving, "ACTIVE")
    assert moving.host_name == staying.host_name
    facts = facts_for(staying.host_name)
    seen = [check_guest(admin_conn, g, facts, nova_db) for g in (staying, moving)]
    assert not seen[0].xml.pinned_cpus & seen[1].xml.pinned_cpus
