"""libvirt XML as typed objects: a guest's ``<domain>`` and a host's ``<capabilities>``.

Whitebox assertions compare what Nova asked libvirt for (pins, NUMA, pages, devices) with the
flavor and the database; these classes turn ``virsh dumpxml`` / ``virsh capabilities`` into
plain Python values so tests compare sets, not strings::

    >>> xml = host.domain_xml("instance-00000001")  # doctest: +SKIP
    >>> xml.vcpu_pins                              # doctest: +SKIP
    {0: {2}, 1: {3}, 2: {10}, 3: {11}}
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from tcup_pytest.errors import XMLError
from tcup_pytest.whitebox.cpuset import parse_cpuset

_UNIT_KIB = {"b": 1 / 1024, "bytes": 1 / 1024, "k": 1, "kib": 1, "kb": 1000 / 1024,
             "m": 1024, "mib": 1024, "mb": 1000 ** 2 / 1024, "g": 1024 ** 2, "gib": 1024 ** 2,
             "gb": 1000 ** 3 / 1024, "t": 1024 ** 3, "tib": 1024 ** 3}


def to_kib(value: str | int, unit: str | None = "KiB") -> int:
    """Convert a libvirt size with its ``unit`` attribute to KiB (libvirt's default unit)."""
    try:
        return int(int(value) * _UNIT_KIB[(unit or "KiB").lower()])
    except (KeyError, ValueError):
        raise XMLError(f"invalid size {value!r} {unit!r} in libvirt XML") from None


def _parse(text: str | bytes, root_tag: str, what: str) -> etree._Element:
    data = text.encode() if isinstance(text, str) else text
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                              no_network=True))
    except etree.XMLSyntaxError as exc:
        raise XMLError(f"{what} is not well-formed XML: {exc}") from None
    tag = etree.QName(root).localname if isinstance(root.tag, str) else str(root.tag)
    if tag != root_tag:
        command = "dumpxml" if root_tag == "domain" else "capabilities"
        raise XMLError(f"{what} has root <{tag}>, expected <{root_tag}>",
                       hint=f"Pass the output of 'virsh {command}'")
    return root


def _cpus(element: etree._Element | None, attribute: str = "cpuset") -> set[int] | None:
    if element is None or element.get(attribute) is None:
        return None
    return parse_cpuset(element.get(attribute))


@dataclass(frozen=True)
class GuestNUMACell:
    id: int
    cpus: set[int]
    memory_kib: int
    mem_access: str | None = None


@dataclass(frozen=True)
class VCPUSched:
    vcpus: set[int]
    scheduler: str
    priority: int | None


@dataclass(frozen=True)
class CPUSpec:
    """``<cpu>``: mode (host-model, host-passthrough, custom), model, topology, features."""

    mode: str | None
    model: str | None
    topology: dict[str, int]
    features: dict[str, str]


@dataclass(frozen=True)
class Device:
    """One element under ``<devices>``: its tag, ``type`` and the attributes tests look at."""

    tag: str
    type: str | None
    element: etree._Element = field(repr=False, compare=False)

    def get(self, path: str, attribute: str) -> str | None:
        """``device.get("source", "file")`` → the attribute of a child, or ``None``."""
        child = self.element.find(path)
        return None if child is None else child.get(attribute)


@dataclass(frozen=True)
class NovaMetadata:
    """Nova's ``<metadata><nova:instance>``; matched by local name, any namespace version."""

    name: str | None
    flavor_name: str | None
    flavor_id: str | None
    flavor: dict[str, str]
    extra_specs: dict[str, str]
    owner: dict[str, str]


class DomainXML:
    """A guest's ``<domain>``: typed accessors over an lxml tree (``.root`` for the rest)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    @classmethod
    def from_string(cls, text: str | bytes) -> DomainXML:
        """Parse ``virsh dumpxml`` output; :class:`XMLError` if it is not a domain."""
        return cls(_parse(text, "domain", "domain XML"))

    def __repr__(self) -> str:
        return f"DomainXML(name={self.name!r}, uuid={self.uuid!r})"

    def tostring(self) -> str:
        return etree.tostring(self.root, encoding="unicode")

    # identity -------------------------------------------------------------------------
    @property
    def name(self) -> str | None:
        return self.root.findtext("name")

    @property
    def uuid(self) -> str | None:
        return self.root.findtext("uuid")

    @property
    def domain_type(self) -> str | None:
        return self.root.get("type")

    @property
    def id(self) -> int | None:
        value = self.root.get("id")
        return int(value) if value is not None else None

    # CPUs -------------------------------------------------------------------------------
    @property
    def vcpus(self) -> int:
        text = self.root.findtext("vcpu")
        return int(text) if text else 0

    @property
    def vcpu_cpuset(self) -> set[int] | None:
        """``<vcpu cpuset=...>``: where unpinned (shared) guests may float."""
        return _cpus(self.root.find("vcpu"))

    @property
    def vcpu_pins(self) -> dict[int, set[int]]:
        return {int(e.get("vcpu")): parse_cpuset(e.get("cpuset"))
                for e in self.root.iterfind("cputune/vcpupin")}

    @property
    def pinned_cpus(self) -> set[int]:
        """Union of all vCPU pins: the host CPUs this guest owns."""
        return set().union(*self.vcpu_pins.values()) if self.vcpu_pins else set()

    @property
    def emulator_pins(self) -> set[int] | None:
        return _cpus(self.root.find("cputune/emulatorpin"))

    @property
    def iothreads(self) -> int:
        text = self.root.findtext("iothreads")
        return int(text) if text else 0

    @property
    def iothread_pins(self) -> dict[int, set[int]]:
        return {int(e.get("iothread")): parse_cpuset(e.get("cpuset"))
                for e in self.root.iterfind("cputune/iothreadpin")}

    @property
    def vcpu_sched(self) -> list[VCPUSched]:
        return [VCPUSched(parse_cpuset(e.get("vcpus")), e.get("scheduler", ""),
                          int(e.get("priority")) if e.get("priority") else None)
                for e in self.root.iterfind("cputune/vcpusched")]

    @property
    def cpu(self) -> CPUSpec:
        cpu = self.root.find("cpu")
        if cpu is None:
            return CPUSpec(None, None, {}, {})
        topology = cpu.find("topology")
        return CPUSpec(
            mode=cpu.get("mode"), model=cpu.findtext("model"),
            topology={k: int(v) for k, v in topology.attrib.items()} if topology is not None
            else {},
            features={f.get("name"): f.get("policy", "require") for f in cpu.iterfind("feature")})

    # NUMA and memory ------------------------------------------------------------------------
    @property
    def numa_cells(self) -> list[GuestNUMACell]:
        return [GuestNUMACell(int(c.get("id", index)), parse_cpuset(c.get("cpus", "")),
                              to_kib(c.get("memory", "0"), c.get("unit")), c.get("memAccess"))
                for index, c in enumerate(self.root.iterfind("cpu/numa/cell"))]

    @property
    def numatune_memory(self) -> tuple[str | None, set[int]] | None:
        memory = self.root.find("numatune/memory")
        if memory is None:
            return None
        return memory.get("mode"), parse_cpuset(memory.get("nodeset", ""))

    @property
    def memnodes(self) -> dict[int, set[int]]:
        """``{guest cell id: host NUMA nodes}`` from ``<numatune><memnode>``."""
        return {int(e.get("cellid")): parse_cpuset(e.get("nodeset"))
                for e in self.root.iterfind("numatune/memnode")}

    @property
    def memory_kib(self) -> int:
        memory = self.root.find("memory")
        return 0 if memory is None else to_kib(memory.text or "0", memory.get("unit"))

    @property
    def hugepage_sizes(self) -> set[int]:
        """Huge page sizes (KiB) backing the guest; empty when it uses normal pages."""
        return {to_kib(p.get("size"), p.get("unit"))
                for p in self.root.iterfind("memoryBacking/hugepages/page")}

    @property
    def memory_backing(self) -> dict[str, str | None]:
        backing = self.root.find("memoryBacking")
        if backing is None:
            return {}
        source, access = backing.find("source"), backing.find("access")
        return {"source": None if source is None else source.get("type"),
                "access": None if access is None else access.get("mode"),
                "hugepages": "yes" if backing.find("hugepages") is not None else None}

    # devices ---------------------------------------------------------------------------------
    def devices(self, tag: str | None = None) -> list[Device]:
        """Devices, optionally only one tag (``disk``, ``interface``, ``hostdev``, ``tpm``...)."""
        found = self.root.find("devices")
        if found is None:
            return []
        return [Device(e.tag, e.get("type"), e) for e in found
                if isinstance(e.tag, str) and (tag is None or e.tag == tag)]

    @property
    def disks(self) -> list[Device]:
        return self.devices("disk")

    @property
    def interfaces(self) -> list[Device]:
        return self.devices("interface")

    @property
    def hostdevs(self) -> list[Device]:
        return self.devices("hostdev")

    @property
    def tpm(self) -> Device | None:
        found = self.devices("tpm")
        return found[0] if found else None

    # Nova metadata ----------------------------------------------------------------------------
    @property
    def nova(self) -> NovaMetadata | None:
        instance = self._local(self.root, "metadata/instance")
        if instance is None:
            return None
        flavor = self._local(instance, "flavor")
        flavor_values: dict[str, str] = {}
        extra_specs: dict[str, str] = {}
        if flavor is not None:
            for child in flavor:
                if not isinstance(child.tag, str):
                    continue
                name = etree.QName(child).localname
                if name in ("extraSpecs", "extra_specs"):
                    extra_specs = {s.get("name"): (s.text or "") for s in child
                                   if isinstance(s.tag, str)}
                else:
                    flavor_values[name] = (child.text or "").strip()
        owner = self._local(instance, "owner")
        owner_values = {} if owner is None else {
            etree.QName(c).localname: (c.text or "") for c in owner if isinstance(c.tag, str)}
        name = self._local(instance, "name")
        return NovaMetadata(name=None if name is None else name.text,
                            flavor_name=None if flavor is None else flavor.get("name"),
                            flavor_id=None if flavor is None else flavor.get("id"),
                            flavor=flavor_values, extra_specs=extra_specs, owner=owner_values)

    @property
    def instance_uuid(self) -> str | None:
        """Nova names the domain ``instance-XXXXXXXX`` and gives it the instance's uuid."""
        return self.uuid

    @staticmethod
    def _local(element: etree._Element, path: str) -> etree._Element | None:
        # Nova bumps its metadata namespace (1.1, 1.2...): match on local names.
        expression = "/".join(f"*[local-name()='{part}']" for part in path.split("/"))
        found = element.xpath(expression)
        return found[0] if found else None


@dataclass(frozen=True)
class HostCPU:
    id: int
    socket_id: int | None
    core_id: int | None
    siblings: set[int]


@dataclass(frozen=True)
class HostNUMACell:
    id: int
    memory_kib: int
    cpus: dict[int, HostCPU]
    pages: dict[int, int]  # page size KiB -> count


class Capabilities:
    """A host's ``virsh capabilities``: NUMA cells, CPUs, SMT siblings, page sizes."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    @classmethod
    def from_string(cls, text: str | bytes) -> Capabilities:
        return cls(_parse(text, "capabilities", "capabilities XML"))

    @property
    def arch(self) -> str | None:
        return self.root.findtext("host/cpu/arch")

    @property
    def cpu_model(self) -> str | None:
        return self.root.findtext("host/cpu/model")

    @property
    def cells(self) -> list[HostNUMACell]:
        cells = []
        for cell in self.root.iterfind("host/topology/cells/cell"):
            memory = cell.find("memory")
            cpus = {}
            for cpu in cell.iterfind("cpus/cpu"):
                cpu_id = int(cpu.get("id"))
                socket, core = cpu.get("socket_id"), cpu.get("core_id")
                cpus[cpu_id] = HostCPU(cpu_id, int(socket) if socket else None,
                                       int(core) if core else None,
                                       parse_cpuset(cpu.get("siblings", str(cpu_id))))
            pages = {to_kib(p.get("size"), p.get("unit")): int(p.text or 0)
                     for p in cell.iterfind("pages")}
            cells.append(HostNUMACell(
                int(cell.get("id")),
                0 if memory is None else to_kib(memory.text or "0", memory.get("unit")),
                cpus, pages))
        return cells

    @property
    def cpus(self) -> set[int]:
        return {cpu for cell in self.cells for cpu in cell.cpus}

    @property
    def siblings(self) -> dict[int, set[int]]:
        return {cpu.id: cpu.siblings for cell in self.cells for cpu in cell.cpus.values()}

    @property
    def cell_of_cpu(self) -> dict[int, int]:
        return {cpu: cell.id for cell in self.cells for cpu in cell.cpus}

    @property
    def page_sizes(self) -> set[int]:
        """Page sizes (KiB) the host CPU supports."""
        return {to_kib(p.get("size"), p.get("unit")) for p in self.root.iterfind("host/cpu/pages")}
