"""Invariants of CPU pinning, NUMA and memory pages, as plain functions over typed objects.

Each check compares what Nova promised (flavor, host config, database, placement) with what
libvirt was given (the live domain XML) and raises :class:`InvariantViolation`, an
``AssertionError`` whose message names the guest and lays the two sides out per vCPU or per
cell, so a failure reads like a diff, not like ``assert {2, 3} == {2, 5}``::

    >>> check_dedicated_pinning(DomainXML.from_string(xml), dedicated={2, 3})  # doctest: +SKIP
    InvariantViolation: instance-00000001: vCPUs must be pinned 1:1 inside cpu_dedicated_set 2-3
      vcpu  pinned to  problem
         1  0          outside cpu_dedicated_set
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import combinations

from tcup_pytest.whitebox.cpuset import format_cpuset
from tcup_pytest.whitebox.flavors import FlavorSpec
from tcup_pytest.whitebox.libvirt import DomainXML
from tcup_pytest.whitebox.numa import InstanceNUMATopology

SMALL_PAGE_KIB = 4


class InvariantViolation(AssertionError):
    """A whitebox invariant does not hold; the message is the readable diff."""


def _cpus(cpus: Iterable[int] | None) -> str:
    return "-" if cpus is None else (format_cpuset(cpus) or "(none)")


def _fail(guest: str | None, rule: str, rows: Sequence[Sequence[object]] = (),
          header: Sequence[str] = ()) -> None:
    lines = [f"{guest or 'guest'}: {rule}"]
    if rows:
        table = [list(map(str, header)), *[list(map(str, r)) for r in rows]] if header else \
            [list(map(str, r)) for r in rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        lines += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in table]
    raise InvariantViolation("\n".join(lines))


def _allowed(xml: DomainXML) -> dict[int, set[int] | None]:
    """Where each vCPU may run: its ``vcpupin``, else ``<vcpu cpuset>``, else anywhere."""
    pins = xml.vcpu_pins
    return {v: pins.get(v, xml.vcpu_cpuset) for v in range(xml.vcpus)}


# -- CPUs ------------------------------------------------------------------------------------

def check_dedicated_pinning(xml: DomainXML, dedicated: Iterable[int],
                            vcpus: Iterable[int] | None = None) -> None:
    """Each dedicated vCPU (all, unless ``vcpus`` says which) is pinned to exactly one pCPU of
    ``cpu_dedicated_set``, and no two vCPUs share one."""
    dedicated = set(dedicated)
    wanted = set(range(xml.vcpus)) if vcpus is None else set(vcpus)
    allowed = _allowed(xml)
    owner: dict[int, int] = {}
    rows = []
    for vcpu in sorted(wanted):
        cpus = allowed.get(vcpu)
        if cpus is None or len(cpus) != 1:
            rows.append((vcpu, _cpus(cpus), "not pinned to a single pCPU"))
            continue
        (pcpu,) = cpus
        if pcpu not in dedicated:
            rows.append((vcpu, pcpu, "outside cpu_dedicated_set"))
        if pcpu in owner:
            rows.append((vcpu, pcpu, f"also the pCPU of vcpu {owner[pcpu]}"))
        owner.setdefault(pcpu, vcpu)
    if rows:
        _fail(xml.name, f"vCPUs must be pinned 1:1 inside cpu_dedicated_set {_cpus(dedicated)}",
              rows, ("vcpu", "pinned to", "problem"))


def check_shared_floating(xml: DomainXML, shared: Iterable[int],
                          vcpus: Iterable[int] | None = None) -> None:
    """Shared-policy vCPUs float over ``cpu_shared_set``: never outside it, never on one pCPU
    (unless the set, or its part on the guest's NUMA node, has just one)."""
    shared = set(shared)
    wanted = set(range(xml.vcpus)) if vcpus is None else set(vcpus)
    allowed = _allowed(xml)
    rows = []
    for vcpu in sorted(wanted):
        cpus = allowed.get(vcpu)
        if cpus is None:
            rows.append((vcpu, "any", "not confined to cpu_shared_set"))
        elif not cpus or not cpus <= shared:
            rows.append((vcpu, _cpus(cpus), f"outside cpu_shared_set: {_cpus(cpus - shared)}"))
        elif len(cpus) == 1 and len(shared) > 1 and not xml.memnodes:
            rows.append((vcpu, _cpus(cpus), "pinned to one pCPU instead of floating"))
    if rows:
        _fail(xml.name, f"shared vCPUs must float over cpu_shared_set {_cpus(shared)}", rows,
              ("vcpu", "may run on", "problem"))


def check_guests_disjoint(guests: Mapping[str, Iterable[int]], source: str = "XML") -> None:
    """No pCPU belongs to two guests (``{guest: its dedicated pCPUs}``)."""
    rows = []
    for (a, cpus_a), (b, cpus_b) in combinations(guests.items(), 2):
        both = set(cpus_a) & set(cpus_b)
        if both:
            rows.append((a, b, _cpus(both)))
    if rows:
        _fail(None, f"dedicated guests on one host share pCPUs (from the {source})", rows,
              ("guest", "guest", "shared pCPUs"))


def owned_cpus(xml: DomainXML, flavor: FlavorSpec) -> set[int]:
    """pCPUs a guest holds exclusively: its dedicated vCPUs' pins, plus an isolated emulator."""
    pins = xml.vcpu_pins
    owned = set().union(*(pins.get(v, set()) for v in flavor.dedicated_vcpus)) \
        if flavor.dedicated_vcpus else set()
    if flavor.extra_pcpus:
        owned |= xml.emulator_pins or set()
    return owned


def check_no_shared_pcpus(guests: Sequence[tuple[DomainXML, FlavorSpec]],
                          topologies: Mapping[str, InstanceNUMATopology] | None = None) -> None:
    """Dedicated guests on one host never share a pCPU, by the XML and by Nova's DB
    (``topologies`` by instance uuid: ``instance_extra.numa_topology``)."""
    check_guests_disjoint({f"{x.name} ({x.uuid})": owned_cpus(x, f) for x, f in guests})
    if topologies:
        check_guests_disjoint(
            {uuid: t.pinned_cpus | set().union(*(c.cpuset_reserved or set() for c in t.cells))
             for uuid, t in topologies.items()}, source="database")


def check_emulator_threads(xml: DomainXML, flavor: FlavorSpec, *,
                           shared: Iterable[int] | None, dedicated: Iterable[int]) -> None:
    """``hw:emulator_threads_policy``: ``share`` → the emulator runs on ``cpu_shared_set``
    (the guest's pCPUs when none is set); ``isolate`` → on one extra dedicated pCPU; unset →
    with the vCPUs (the non-realtime ones for a realtime guest)."""
    actual = xml.emulator_pins
    pins = xml.vcpu_pins
    dedicated = set(dedicated)
    guest_pcpus = set().union(*pins.values()) if pins else set()
    policy = flavor.emulator_threads_policy
    if policy == "share" and shared:
        expected, rule = set(shared), "share: emulator threads on cpu_shared_set"
    elif policy == "isolate":
        extra = (actual or set()) - guest_pcpus
        if actual is None or len(actual) != 1 or extra != actual or not actual <= dedicated:
            _fail(xml.name, "isolate: emulator threads on one extra pCPU of cpu_dedicated_set,"
                  " apart from the vCPUs", [("emulatorpin", _cpus(actual)),
                                            ("vCPU pCPUs", _cpus(guest_pcpus)),
                                            ("cpu_dedicated_set", _cpus(dedicated))])
        return
    elif flavor.realtime_vcpus:
        others = set(range(xml.vcpus)) - flavor.realtime_vcpus
        expected = set().union(*(pins.get(v, set()) for v in others)) if others else set()
        rule = "realtime: emulator threads on the non-realtime vCPUs' pCPUs"
    else:
        expected = guest_pcpus
        rule = f"{policy or 'no policy'}: emulator threads on the guest's own pCPUs"
    if actual != expected:
        _fail(xml.name, rule, [("expected emulatorpin", _cpus(expected)),
                               ("actual emulatorpin", _cpus(actual))])


def check_realtime(xml: DomainXML, flavor: FlavorSpec) -> None:
    """Each realtime vCPU gets a ``<vcpusched>`` with a realtime scheduler, the others none."""
    scheduled: dict[int, str] = {}
    for sched in xml.vcpu_sched:
        for vcpu in sched.vcpus:
            scheduled[vcpu] = f"{sched.scheduler} priority {sched.priority}"
    rows = []
    for vcpu in range(xml.vcpus):
        want = vcpu in flavor.realtime_vcpus
        got = scheduled.get(vcpu)
        if want and (got is None or got.split()[0] not in ("fifo", "rr")):
            rows.append((vcpu, "fifo/rr", got or "none"))
        elif not want and got is not None:
            rows.append((vcpu, "none", got))
    if rows:
        _fail(xml.name, f"vcpusched must cover exactly the realtime vCPUs "
                        f"{_cpus(flavor.realtime_vcpus)}", rows, ("vcpu", "expected", "actual"))


# -- NUMA and memory -------------------------------------------------------------------------

def check_numa_placement(xml: DomainXML, host_cells: Mapping[int, Iterable[int]],
                         flavor: FlavorSpec | None = None) -> None:
    """Guest NUMA cells map onto host cells as ``numatune`` says: each guest cell's memory
    comes strictly from one host node, and its vCPUs run on that node's CPUs."""
    cells = xml.numa_cells
    memnodes = xml.memnodes
    hosts = {n: set(c) for n, c in host_cells.items()}
    rows: list[tuple[object, ...]] = []
    if flavor is not None and flavor.numa_nodes and len(cells) != flavor.numa_nodes:
        rows.append(("-", f"{flavor.numa_nodes} cells (hw:numa_nodes)", f"{len(cells)} cells",
                     "wrong number of guest cells"))
    allowed = _allowed(xml)
    for cell in cells:
        nodes = memnodes.get(cell.id)
        if nodes is None or len(nodes) != 1:
            rows.append((cell.id, _cpus(cell.cpus), _cpus(nodes), "no memnode on one host node"))
            continue
        (node,) = nodes
        if node not in hosts:
            rows.append((cell.id, _cpus(cell.cpus), node, "no such host NUMA node"))
            continue
        off = {v: allowed.get(v) for v in cell.cpus
               if allowed.get(v) is None or not allowed[v] <= hosts[node]}
        for vcpu, cpus in sorted(off.items()):
            rows.append((cell.id, vcpu, node, f"vcpu {vcpu} runs on {_cpus(cpus)}, outside "
                                              f"host node {node} ({_cpus(hosts[node])})"))
    memory = xml.numatune_memory
    used = set().union(*memnodes.values()) if memnodes else set()
    if cells and (memory is None or memory[0] != "strict" or memory[1] != used):
        found = f"{memory[0]} {_cpus(memory[1])}" if memory else "none"
        rows.append(("all", "-", _cpus(used),
                     f"numatune memory must be strict on {_cpus(used)}, is {found}"))
    if cells and sum(c.memory_kib for c in cells) != xml.memory_kib:
        rows.append(("all", "-", "-", f"cells hold {sum(c.memory_kib for c in cells)} KiB, "
                                      f"the guest {xml.memory_kib} KiB"))
    if rows:
        _fail(xml.name, "guest NUMA cells must map onto host cells as numatune says", rows,
              ("guest cell", "vCPUs", "host node", "problem"))


def check_hugepages(xml: DomainXML, flavor: FlavorSpec) -> None:
    """``memoryBacking`` pages match ``hw:mem_page_size`` (none for small or unset)."""
    wanted = flavor.mem_page_size
    sizes = xml.hugepage_sizes
    if wanted == "any":
        return
    if wanted is None or wanted == "small" or wanted == SMALL_PAGE_KIB:
        ok, expected = not (sizes - {SMALL_PAGE_KIB}), "no huge pages"
    elif wanted == "large":
        ok, expected = bool(sizes) and SMALL_PAGE_KIB not in sizes, "huge pages of any size"
    else:
        ok, expected = sizes == {wanted}, f"{wanted} KiB pages"
    if not ok:
        actual = ", ".join(f"{s} KiB" for s in sorted(sizes)) or "no huge pages"
        _fail(xml.name, f"memoryBacking must follow hw:mem_page_size="
              f"{flavor.extra_specs.get('hw:mem_page_size', '(unset)')}",
              [("expected", expected), ("actual", actual)])


def check_topology_matches_db(xml: DomainXML, topology: InstanceNUMATopology | None) -> None:
    """``instance_extra.numa_topology`` agrees with the live XML: per-vCPU pins, the host node
    of each guest cell (matched by position), page size and the isolated emulator pCPU."""
    if topology is None:
        if xml.memnodes or xml.numa_cells:
            _fail(xml.name, "the XML has NUMA cells but the database has no numa_topology")
        return
    rows: list[tuple[object, ...]] = []
    db_pins = topology.cpu_pinning
    xml_pins = xml.vcpu_pins
    if db_pins:
        for vcpu in sorted(set(db_pins) | set(xml_pins)):
            in_xml = xml_pins.get(vcpu)
            in_db = db_pins.get(vcpu)
            if in_xml != ({in_db} if in_db is not None else None):
                rows.append((f"vcpu {vcpu}", _cpus(in_xml), "-" if in_db is None else in_db))
    memnodes = xml.memnodes
    for index, cell in enumerate(topology.cells):
        in_xml = memnodes.get(index)
        if in_xml != {cell.id}:
            rows.append((f"guest cell {index} host node", _cpus(in_xml), cell.id))
        if cell.pagesize_kb and cell.pagesize_kb != SMALL_PAGE_KIB \
                and xml.hugepage_sizes != {cell.pagesize_kb}:
            rows.append((f"guest cell {index} page KiB", _cpus(xml.hugepage_sizes) or "small",
                         cell.pagesize_kb))
    if len(memnodes) != len(topology.cells):
        rows.append(("guest cells", len(memnodes), len(topology.cells)))
    reserved = set().union(*(c.cpuset_reserved or set() for c in topology.cells))
    if reserved and xml.emulator_pins != reserved:
        rows.append(("emulator (cpuset_reserved)", _cpus(xml.emulator_pins), _cpus(reserved)))
    if rows:
        _fail(xml.name, f"live XML and instance_extra.numa_topology of "
              f"{topology.instance_uuid or xml.uuid}"
              " disagree", rows, ("what", "XML", "database"))


# -- placement -------------------------------------------------------------------------------

def check_allocations(allocations: Mapping[str, int], flavor: FlavorSpec,
                      consumer: str = "server") -> None:
    """Placement holds PCPU for dedicated vCPUs (+1 for an isolated emulator), VCPU for the
    rest, and the flavor's RAM (``{resource class: amount}`` summed over providers)."""
    pcpus = len(flavor.dedicated_vcpus) + flavor.extra_pcpus
    expected = {"PCPU": pcpus, "VCPU": flavor.vcpus - len(flavor.dedicated_vcpus),
                "MEMORY_MB": flavor.ram_mb}
    rows = [(rc, amount, allocations.get(rc, 0)) for rc, amount in expected.items()
            if allocations.get(rc, 0) != amount]
    if rows:
        _fail(consumer, f"placement allocations must match flavor {flavor.name} "
              f"({flavor.cpu_policy}, {flavor.vcpus} vCPUs)", rows,
              ("resource class", "expected", "allocated"))


def sum_allocations(allocations: Mapping[str, Mapping[str, object]]) -> dict[str, int]:
    """Placement's ``{rp uuid: {"resources": {rc: n}}}`` summed into ``{rc: n}``."""
    total: dict[str, int] = {}
    for provider in allocations.values():
        resources = provider.get("resources", {})
        assert isinstance(resources, Mapping)
        for rc, amount in resources.items():
            total[rc] = total.get(rc, 0) + int(amount)
    return total
