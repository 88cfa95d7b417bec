"""libvirt XML from live domains over SSH, and Nova's DB topology of the same guests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcup_pytest.errors import DatabaseError, ExitCode, XMLError
from tcup_pytest.testbed.guests import DEMO_GUESTS
from tcup_pytest.testbed.hosts import CPU_DEDICATED_SET, CPU_SHARED_SET
from tcup_pytest.testbed.novadb import NovaDatabases, leftover_databases
from tcup_pytest.whitebox.cpuset import parse_cpuset
from tcup_pytest.whitebox.database import (
    Database,
    compute_node,
    instance_numa_topology,
    instance_row,
)
from tcup_pytest.whitebox.hosts import CommandFailed
from tcup_pytest.whitebox.inventory import Inventory
from tcup_pytest.whitebox.libvirt import DomainXML
from tcup_pytest.whitebox.pool import HostPool

GUESTS = DEMO_GUESTS

pytestmark = pytest.mark.integration


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1001")
@pytest.mark.parametrize("guest", GUESTS, ids=[g[1] for g in GUESTS])
def test_pins_read_from_live_domain_xml(pool: HostPool, guest) -> None:
    host_name, name, uuid, pins, emulator = guest
    host = pool[host_name]
    by_name, by_uuid = host.domain_xml(name), host.domain_xml(uuid)
    assert by_name.vcpu_pins == by_uuid.vcpu_pins == {v: {p} for v, p in pins.items()}
    assert by_name.id is not None  # a running domain, not just a definition
    assert by_name.emulator_pins == set(emulator)
    assert by_name.iothread_pins == {1: set(emulator)}
    assert by_name.memnodes == {0: {0}, 1: {1}}
    assert [c.cpus for c in by_name.numa_cells] == [{0, 1}, {2, 3}]
    assert by_name.hugepage_sizes == {2048}
    assert by_name.pinned_cpus <= parse_cpuset(CPU_DEDICATED_SET)
    assert by_name.nova is not None and by_name.nova.flavor_name == "pinned.numa2"
    assert by_name.nova.extra_specs["hw:cpu_policy"] == "dedicated"
    assert by_name.instance_uuid == uuid
    assert by_name.tpm is not None and by_name.tpm.get("backend", "version") == "2.0"
    assert by_name.disks[0].get("target", "dev") == "vda"


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1002")
def test_guests_on_two_hosts_and_emulator_threads_on_shared_set(pool: HostPool) -> None:
    first = pool["compute-1"].domain_xml(GUESTS[0][1])
    second = pool["compute-2"].domain_xml(GUESTS[1][1])
    assert first.pinned_cpus.isdisjoint(second.pinned_cpus)
    assert second.emulator_pins == parse_cpuset(CPU_SHARED_SET)


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1003")
def test_host_capabilities(pool: HostPool) -> None:
    caps = pool["compute-1"].capabilities()
    assert [c.id for c in caps.cells] == [0, 1]
    assert caps.cpus == set(range(16))
    assert caps.cell_of_cpu[10] == 1
    assert caps.siblings[3] == {3}  # the test driver has no SMT
    assert {4, 2048, 1048576} <= caps.page_sizes


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1004")
def test_xml_that_is_not_a_domain_and_unknown_domain(pool: HostPool) -> None:
    host = pool["compute-1"]
    with pytest.raises(XMLError) as info:
        DomainXML.from_string(host.virsh("capabilities"))
    assert "root <capabilities>, expected <domain>" in str(info.value)
    assert info.value.exit_code == ExitCode.INPUT_FILE
    with pytest.raises(CommandFailed, match="failed to get domain"):
        host.domain_xml("instance-deadbeef")


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1005")
@pytest.mark.parametrize("guest", GUESTS, ids=[g[1] for g in GUESTS])
def test_numa_topology_from_nova_db_matches_the_xml(pool: HostPool, guest) -> None:
    host_name, name, uuid, pins, _ = guest
    database = pool.database()
    try:
        with database.session("nova") as nova:
            topology = instance_numa_topology(nova, uuid)
            row = instance_row(nova, uuid)
    finally:
        database.close()
    assert topology is not None and topology.instance_uuid == uuid
    assert topology.cpu_pinning == pins
    xml = pool[host_name].domain_xml(name)
    assert {v: {p} for v, p in topology.cpu_pinning.items()} == xml.vcpu_pins
    # guest cell i lives on host node cells[i].id == memnode cellid i
    assert {i: {node} for i, node in enumerate(topology.host_nodes)} == xml.memnodes
    assert [c.pagesize_kb for c in topology.cells] == [2048, 2048]
    assert row is not None and row["host"] == host_name


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1006")
def test_compute_node_topology(pool: HostPool) -> None:
    database = pool.database()
    try:
        with database.session("nova") as nova:
            node = compute_node(nova, "compute-1")
    finally:
        database.close()
    assert node is not None and node.hypervisor_hostname == "compute-1"
    assert node.numa_topology is not None
    assert node.numa_topology.pinned_cpus == set(GUESTS[0][3].values())
    assert node.numa_topology.pcpus == parse_cpuset(CPU_DEDICATED_SET)
    assert node.cpu_info["arch"] == "x86_64"


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1007")
def test_database_through_an_ssh_tunnel(tmp_path: Path, inventory_writer,
                                        nova_databases: NovaDatabases) -> None:
    # MariaDB's socket is relayed to compute-2's own 127.0.0.1:3306 (see conftest): reachable
    # only from that host, as a controller's database often is.
    inventory = inventory_writer(tmp_path / "inventory.yaml", via="compute-2")
    tunnelled = HostPool(Inventory.load(inventory))
    database = tunnelled.database()
    try:
        assert database.via is tunnelled["compute-2"]
        with database.session("nova_api") as api:
            tables = api.query("SELECT COUNT(*) AS n FROM information_schema.tables "
                               "WHERE table_schema = %s", (nova_databases.names["nova_api"],))
        with database.session("nova") as nova:
            topology = instance_numa_topology(nova, GUESTS[1][2])
    finally:
        database.close()
        tunnelled.close()
    assert tables[0]["n"] > 20
    assert topology is not None and topology.cpu_pinning == GUESTS[1][3]


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1009")
def test_databases_are_dropped_at_teardown() -> None:
    databases = NovaDatabases()
    databases.create()
    try:
        assert set(databases.names.values()) <= set(leftover_databases())
    finally:
        databases.down()
    assert set(databases.names.values()).isdisjoint(leftover_databases())
    assert not databases.workdir.exists()


@pytest.mark.idempotent_id("5d1f7b0e-7c3a-4a57-a1c9-8f3e2b6c1008")
def test_database_refusing_the_login_is_one_clear_line(nova_databases: NovaDatabases) -> None:
    database = Database(host="127.0.0.1", port=3306, user="tcup_wb_nobody",
                        password="not-the-password", names=nova_databases.names)
    with pytest.raises(DatabaseError) as info:
        database.session("nova")
    assert info.value.exit_code == ExitCode.DATABASE
    assert "refused the login for 'tcup_wb_nobody'" in str(info.value)
    assert "not-the-password" not in str(info.value) and "\n" not in str(info.value)
