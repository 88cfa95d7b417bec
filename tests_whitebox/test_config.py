"""Host configuration drives placement of new guests: after ``cpu_shared_set`` changes and
nova-compute restarts, new guests follow the new set (restored, and restarted, afterwards)."""

from __future__ import annotations

from typing import Any

import pytest

from tcup_pytest.whitebox.cpuset import format_cpuset
from tcup_pytest.whitebox.services import wait_until
from tests_whitebox.facts import ComputeFacts, require_dedicated, require_shared
from tests_whitebox.guests import check_guest

pytestmark = pytest.mark.whitebox


def _smaller_shared_set(facts: ComputeFacts) -> frozenset[int]:
    """One shared CPU per NUMA node that has any: a real change that keeps every node usable."""
    assert facts.shared
    return frozenset(min(facts.shared & cpus) for cpus in facts.cells.values()
                     if facts.shared & cpus)


def _vcpu_total(conn: Any, facts: ComputeFacts) -> int | None:
    providers = conn.placement.get(f"/resource_providers?name={facts.hypervisor}").json()
    if not providers["resource_providers"]:
        return None
    uuid = providers["resource_providers"][0]["uuid"]
    inventories = conn.placement.get(f"/resource_providers/{uuid}/inventories").json()
    return inventories["inventories"].get("VCPU", {}).get("total")


@pytest.mark.disruptive
@pytest.mark.idempotent_id("c4e2a7b0-1d3f-4e5a-9b6c-7d8e9f0a1b01")
def test_new_guests_follow_a_changed_cpu_shared_set(
        admin_conn, nova_db, computes, facts_for, config_change, make_flavor, boot):
    candidates = [f for f in require_shared(require_dedicated(computes, 2))
                  if len(_smaller_shared_set(f)) < len(f.shared or ())]
    if not candidates:
        pytest.skip("needs a host whose cpu_shared_set has two CPUs on one NUMA node")
    target = candidates[0]
    new_shared = _smaller_shared_set(target)
    config_change(target.host, "nova-compute",
                  {"compute": {"cpu_shared_set": format_cpuset(new_shared)}})
    facts = facts_for(target.name)
    assert facts.shared == new_shared
    # Placement shows the new VCPU total once the restarted nova-compute has reported its
    # resources: from then on the scheduler and the compute agree on the host.
    wait_until(lambda: _vcpu_total(admin_conn, target) == len(new_shared), timeout=120,
               what=f"placement showing {len(new_shared)} VCPUs on {target.name}")

    floating = boot(make_flavor(2), host=target.name)
    seen = check_guest(admin_conn, floating, facts, nova_db)
    assert seen.xml.vcpu_cpuset == new_shared

    pinned = boot(make_flavor(2, hw__cpu_policy="dedicated",
                              hw__emulator_threads_policy="share"), host=target.name)
    seen = check_guest(admin_conn, pinned, facts, nova_db)
    assert seen.xml.emulator_pins == new_shared
