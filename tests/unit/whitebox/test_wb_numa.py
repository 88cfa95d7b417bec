"""Nova's versioned-object JSON (made by nova.objects in our testbed) as typed objects."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcup_pytest.errors import InputFileError
from tcup_pytest.whitebox.numa import HostNUMATopology, InstanceNUMATopology

DATA = Path(__file__).parent / "data"


@pytest.mark.idempotent_id("b1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d6001")
def test_instance_topology() -> None:
    topology = InstanceNUMATopology.from_json((DATA / "instance_numa_topology.json").read_text())
    assert topology.instance_uuid == "6f3c1a52-8d0e-4b8a-9d2e-0a6a3d1c0001"
    assert topology.emulator_threads_policy == "share"
    assert topology.cpu_pinning == {0: 10, 1: 11, 2: 2, 3: 3}
    assert topology.pinned_cpus == {2, 3, 10, 11}
    # guest cell 0 landed on host node 1: order is guest-cell order, ids are host nodes
    assert topology.host_nodes == [1, 0]
    first = topology.cells[0]
    assert (first.pcpuset, first.memory_mb, first.pagesize_kb, first.cpu_policy) == (
        {0, 1}, 512, 2048, "dedicated")


@pytest.mark.idempotent_id("b1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d6002")
def test_host_topology() -> None:
    topology = HostNUMATopology.from_json((DATA / "compute_node_numa_topology.json").read_text())
    assert [c.id for c in topology.cells] == [0, 1]
    assert topology.pinned_cpus == {2, 3, 10, 11}
    assert topology.pcpus == {2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15}
    assert topology.cells[0].cpuset == {0, 1}
    assert topology.cells[1].siblings[0] == {8}
    assert topology.cells[0].mempages[0].size_kb == 4


@pytest.mark.idempotent_id("b1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d6003")
def test_wrong_objects_are_input_errors() -> None:
    host = json.loads((DATA / "compute_node_numa_topology.json").read_text())
    with pytest.raises(InputFileError, match="expected a Nova InstanceNUMATopology object, "
                                             "got 'NUMATopology'"):
        InstanceNUMATopology.from_json(host)
    with pytest.raises(InputFileError, match="not valid JSON"):
        HostNUMATopology.from_json("{nope")
