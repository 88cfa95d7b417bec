"""The testbed's real Nova: a pinned guest boots and its live XML, read over SSH from the host
the API names, agrees with the database; and the product's whitebox suite runs end to end
against it (``pytest -m whitebox --pyargs tests_whitebox``, as a user runs it)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from tcup_pytest.testbed import ADMIN_CLOUD, Testbed
from tcup_pytest.whitebox.checks import (
    check_dedicated_pinning,
    check_emulator_threads,
    check_numa_placement,
    check_topology_matches_db,
)
from tcup_pytest.whitebox.cpuset import parse_cpuset
from tcup_pytest.whitebox.database import instance_numa_topology
from tcup_pytest.whitebox.flavors import FlavorSpec
from tcup_pytest.whitebox.pool import HostPool

pytestmark = pytest.mark.integration

#: What must pass on the testbed; the rest may only skip, each for the reason named here.
MUST_PASS = {
    "test_dedicated_guest_is_pinned_one_to_one_in_the_dedicated_set",
    "test_two_dedicated_guests_on_one_host_share_no_pcpu",
    "test_shared_guest_floats_over_the_shared_set",
    "test_emulator_threads_share_policy_runs_on_the_shared_set",
    "test_emulator_threads_isolate_policy_takes_one_more_pcpu",
    "test_realtime_vcpus_get_a_fifo_scheduler",
    "test_two_cell_guest_maps_each_cell_onto_one_host_node",
    "test_single_cell_dedicated_guest_stays_on_one_host_node",
    "test_cold_migration_keeps_pins_on_the_new_host",
    "test_evacuation_keeps_pins_and_the_source_cleans_up",
    "test_resize_to_more_dedicated_vcpus_repins_the_guest",
    "test_reboot_keeps_the_same_pins[SOFT]",
    "test_reboot_keeps_the_same_pins[HARD]",
    "test_new_guests_follow_a_changed_cpu_shared_set",
}
MUST_SKIP = {
    "test_live_migration_onto_a_busy_host_keeps_pcpus_disjoint": "is the test driver",
    "test_hugepage_guest_is_backed_by_pages_of_the_flavor_size": "0 pages",
}


def test_pinned_two_cell_guest_boots_and_its_xml_agrees_with_the_db(
        nova_admin: Any, nova_image: str, nova_pool: HostPool) -> None:
    spec = FlavorSpec("tcup-it-pinned-numa2", 4, 512, {
        "hw:cpu_policy": "dedicated", "hw:numa_nodes": "2",
        "hw:emulator_threads_policy": "share"})
    flavor = nova_admin.compute.create_flavor(name=spec.name, vcpus=4, ram=512, disk=1)
    try:
        nova_admin.compute.create_flavor_extra_specs(flavor, dict(spec.extra_specs))
        started = time.monotonic()
        server = nova_admin.compute.create_server(name="tcup-it-pinned", flavor_id=flavor.id,
                                                  image_id=nova_image, networks="none")
        try:
            server = nova_admin.compute.wait_for_server(server, wait=120, interval=0.5)
            print(f"\n[bench] pinned two-cell guest ACTIVE in {time.monotonic() - started:.1f} s")
            host = nova_pool.for_server(server)
            xml = host.domain_xml(server.id)
            dedicated, shared = parse_cpuset("2-7,10-15"), parse_cpuset("0-1,8-9")
            check_dedicated_pinning(xml, dedicated)
            check_emulator_threads(xml, spec, shared=shared, dedicated=dedicated)
            check_numa_placement(xml, {c.id: set(c.cpus) for c in host.capabilities().cells},
                                 spec)
            database = nova_pool.database()
            with database.session("nova") as nova:
                check_topology_matches_db(xml, instance_numa_topology(nova, server.id))
            assert xml.domain_type == "qemu" and len(xml.numa_cells) == 2
        finally:
            nova_admin.compute.delete_server(server)
            nova_admin.compute.wait_for_delete(server, wait=120)
    finally:
        nova_admin.compute.delete_flavor(flavor)


def test_inventory_names_every_hypervisor_the_api_lists(
        nova_admin: Any, nova_pool: HostPool) -> None:
    hypervisors = {h.name for h in nova_admin.compute.hypervisors()}
    assert hypervisors == set(nova_pool.inventory.hosts) == {"compute-1", "compute-2"}
    with nova_pool.database().session("nova") as nova:
        rows = nova.query("SELECT host FROM compute_nodes WHERE deleted = %s", (0,))
    assert {r["host"] for r in rows} == hypervisors


def test_whitebox_suite_runs_end_to_end(nova_testbed: Testbed, nova_inventory: Path,
                                        tmp_path: Path) -> None:
    junit = tmp_path / "whitebox.xml"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "PYTEST_", "TCUP_WHITEBOX"))}
    env.update(OS_CLIENT_CONFIG_FILE=str(nova_testbed.clouds_yaml), OS_CLOUD=ADMIN_CLOUD)
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-m", "whitebox",
         "--pyargs", "tests_whitebox", "--whitebox-inventory", str(nova_inventory),
         "-n", "2", "-q", "-rfEs", f"--junitxml={junit}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    print(f"\n[bench] whitebox suite (-n 2) {time.monotonic() - started:.1f} s")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    outcomes: dict[str, tuple[str, str]] = {}
    for case in etree.parse(str(junit)).iter("testcase"):
        skipped = case.find("skipped")
        outcomes[case.get("name", "")] = (
            ("skipped", skipped.get("message", "")) if skipped is not None else ("passed", ""))
    assert {n for n, (o, _) in outcomes.items() if o == "passed"} == MUST_PASS
    for name, reason in MUST_SKIP.items():
        outcome, message = outcomes[name]
        assert outcome == "skipped" and reason in message, (name, message)
