"""Nova's NUMA objects, decoded from the versioned-object JSON Nova stores in its database.

``instance_extra.numa_topology`` and ``compute_nodes.numa_topology`` hold
``jsonutils.dumps(obj.obj_to_primitive())``: nested ``{"nova_object.name": ...,
"nova_object.data": {...}}`` dicts. We decode the fields tests compare (pins, cells, pages)
into small dataclasses instead of importing Nova, which is neither installed with us nor
version-matched to the cloud under test::

    >>> topology = InstanceNUMATopology.from_json(row["numa_topology"])  # doctest: +SKIP
    >>> topology.cpu_pinning                                             # doctest: +SKIP
    {0: 2, 1: 3, 2: 10, 3: 11}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tcup_pytest.errors import InputFileError

_NAME, _DATA = "nova_object.name", "nova_object.data"


def versioned_data(primitive: Any, expected: str) -> dict[str, Any]:
    """The ``nova_object.data`` of a primitive whose ``nova_object.name`` is ``expected``."""
    if not isinstance(primitive, dict) or primitive.get(_NAME) != expected:
        found = primitive.get(_NAME) if isinstance(primitive, dict) else type(primitive).__name__
        raise InputFileError(f"expected a Nova {expected} object, got {found!r}")
    data = primitive.get(_DATA)
    return data if isinstance(data, dict) else {}


def _load(value: str | bytes | dict[str, Any]) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise InputFileError(f"Nova object JSON is not valid JSON: {exc}") from None
    return loaded


def _ints(values: Any) -> set[int]:
    return {int(v) for v in values or ()}


@dataclass(frozen=True)
class InstanceNUMACell:
    """One guest NUMA cell; ``id`` is the *host* node it landed on."""

    id: int
    cpuset: set[int]
    pcpuset: set[int]
    memory_mb: int
    pagesize_kb: int | None
    cpu_pinning: dict[int, int]  # guest vCPU -> host pCPU
    cpu_policy: str | None
    cpu_thread_policy: str | None
    cpuset_reserved: set[int] | None

    @classmethod
    def from_primitive(cls, primitive: dict[str, Any]) -> InstanceNUMACell:
        data = versioned_data(primitive, "InstanceNUMACell")
        # cpu_pinning_raw since 1.2; keys are strings in JSON.
        pinning = {int(k): int(v) for k, v in (data.get("cpu_pinning_raw") or {}).items()}
        reserved = data.get("cpuset_reserved")
        return cls(id=int(data.get("id", 0)), cpuset=_ints(data.get("cpuset")),
                   pcpuset=_ints(data.get("pcpuset")), memory_mb=int(data.get("memory", 0)),
                   pagesize_kb=data.get("pagesize"), cpu_pinning=pinning,
                   cpu_policy=data.get("cpu_policy"),
                   cpu_thread_policy=data.get("cpu_thread_policy"),
                   cpuset_reserved=None if reserved is None else _ints(reserved))


@dataclass(frozen=True)
class InstanceNUMATopology:
    instance_uuid: str | None
    cells: list[InstanceNUMACell]
    emulator_threads_policy: str | None = None

    @classmethod
    def from_json(cls, value: str | bytes | dict[str, Any]) -> InstanceNUMATopology:
        data = versioned_data(_load(value), "InstanceNUMATopology")
        return cls(instance_uuid=data.get("instance_uuid"),
                   cells=[InstanceNUMACell.from_primitive(c) for c in data.get("cells", [])],
                   emulator_threads_policy=data.get("emulator_threads_policy"))

    @property
    def cpu_pinning(self) -> dict[int, int]:
        """All cells' pins merged: ``{vcpu: pcpu}``, comparable with ``DomainXML.vcpu_pins``."""
        merged: dict[int, int] = {}
        for cell in self.cells:
            merged.update(cell.cpu_pinning)
        return merged

    @property
    def pinned_cpus(self) -> set[int]:
        return set(self.cpu_pinning.values())

    @property
    def host_nodes(self) -> list[int]:
        """Host NUMA node of each guest cell, in guest-cell order (matches ``memnode cellid``)."""
        return [cell.id for cell in self.cells]


@dataclass(frozen=True)
class NUMAPages:
    size_kb: int
    total: int
    used: int = 0
    reserved: int = 0


@dataclass(frozen=True)
class HostNUMACell:
    id: int
    cpuset: set[int]
    pcpuset: set[int]
    memory_mb: int
    cpu_usage: int
    memory_usage: int
    pinned_cpus: set[int]
    siblings: list[set[int]]
    mempages: list[NUMAPages] = field(default_factory=list)
    socket: int | None = None

    @classmethod
    def from_primitive(cls, primitive: dict[str, Any]) -> HostNUMACell:
        data = versioned_data(primitive, "NUMACell")
        pages = [NUMAPages(**{k: int(v) for k, v in versioned_data(p, "NUMAPagesTopology")
                              .items() if k in ("size_kb", "total", "used", "reserved")})
                 for p in data.get("mempages", [])]
        return cls(id=int(data.get("id", 0)), cpuset=_ints(data.get("cpuset")),
                   pcpuset=_ints(data.get("pcpuset")), memory_mb=int(data.get("memory", 0)),
                   cpu_usage=int(data.get("cpu_usage", 0)),
                   memory_usage=int(data.get("memory_usage", 0)),
                   pinned_cpus=_ints(data.get("pinned_cpus")),
                   siblings=[_ints(s) for s in data.get("siblings", [])],
                   mempages=pages, socket=data.get("socket"))


@dataclass(frozen=True)
class HostNUMATopology:
    """``compute_nodes.numa_topology``: the host's cells as Nova's resource tracker sees them."""

    cells: list[HostNUMACell]

    @classmethod
    def from_json(cls, value: str | bytes | dict[str, Any]) -> HostNUMATopology:
        data = versioned_data(_load(value), "NUMATopology")
        return cls([HostNUMACell.from_primitive(c) for c in data.get("cells", [])])

    @property
    def pinned_cpus(self) -> set[int]:
        return set().union(*(c.pinned_cpus for c in self.cells)) if self.cells else set()

    @property
    def pcpus(self) -> set[int]:
        return set().union(*(c.pcpuset for c in self.cells)) if self.cells else set()
