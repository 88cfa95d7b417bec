"""Guest XML shaped like what Nova's libvirt driver writes for a pinned NUMA guest.

The namespace hosts' libvirtd (test driver) defines and "runs" it, so whitebox tests read
pins back from a live domain's ``virsh dumpxml``, not from a file we wrote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lxml import etree

NOVA_NS = "http://openstack.org/xmlns/libvirt/nova/1.1"

#: The testbed's pinned guests, one per host: (host, libvirt name, instance uuid,
#: {vcpu: pcpu}, emulator pins). Pins lie in the hosts' cpu_dedicated_set, emulator threads
#: of the second follow ``hw:emulator_threads_policy=share`` (the cpu_shared_set).
DEMO_GUESTS = [
    ("compute-1", "instance-00000001", "6f3c1a52-8d0e-4b8a-9d2e-0a6a3d1c0001",
     {0: 2, 1: 3, 2: 10, 3: 11}, [0, 1]),
    ("compute-2", "instance-00000002", "6f3c1a52-8d0e-4b8a-9d2e-0a6a3d1c0002",
     {0: 4, 1: 5, 2: 12, 3: 13}, [0, 1, 8, 9]),
]


def _cpuset(cpus: Sequence[int] | set[int]) -> str:
    return ",".join(str(c) for c in sorted(cpus))


def pinned_guest_xml(*, name: str, uuid: str, pins: Mapping[int, int],
                     emulator: Sequence[int], cells: Sequence[Mapping[str, object]],
                     flavor: str = "pinned.numa2",
                     extra_specs: Mapping[str, str] | None = None,
                     memory_mb: int = 2048, hugepage_kib: int | None = 2048) -> str:
    """``cells``: ``[{"id": guest cell, "cpus": [vcpus], "memnode": host node}]``."""
    domain = etree.Element("domain", type="test")
    etree.SubElement(domain, "name").text = name
    etree.SubElement(domain, "uuid").text = uuid
    metadata = etree.SubElement(domain, "metadata")
    nova = etree.SubElement(metadata, f"{{{NOVA_NS}}}instance", nsmap={"nova": NOVA_NS})
    etree.SubElement(nova, f"{{{NOVA_NS}}}name").text = name
    meta_flavor = etree.SubElement(nova, f"{{{NOVA_NS}}}flavor", name=flavor, id="42")
    etree.SubElement(meta_flavor, f"{{{NOVA_NS}}}memory").text = str(memory_mb)
    etree.SubElement(meta_flavor, f"{{{NOVA_NS}}}vcpus").text = str(len(pins))
    specs = etree.SubElement(meta_flavor, f"{{{NOVA_NS}}}extraSpecs")
    for key, value in (extra_specs or {}).items():
        etree.SubElement(specs, f"{{{NOVA_NS}}}extraSpec", name=key).text = value
    etree.SubElement(domain, "memory", unit="KiB").text = str(memory_mb * 1024)
    etree.SubElement(domain, "currentMemory", unit="KiB").text = str(memory_mb * 1024)
    nodes = _cpuset({int(str(c["memnode"])) for c in cells})
    if hugepage_kib:
        backing = etree.SubElement(domain, "memoryBacking")
        etree.SubElement(etree.SubElement(backing, "hugepages"), "page",
                         size=str(hugepage_kib), unit="KiB", nodeset=nodes)
    etree.SubElement(domain, "vcpu", placement="static").text = str(len(pins))
    etree.SubElement(domain, "iothreads").text = "1"
    cputune = etree.SubElement(domain, "cputune")
    etree.SubElement(cputune, "shares").text = str(1024 * len(pins))
    for vcpu, pcpu in sorted(pins.items()):
        etree.SubElement(cputune, "vcpupin", vcpu=str(vcpu), cpuset=str(pcpu))
    etree.SubElement(cputune, "emulatorpin", cpuset=_cpuset(emulator))
    etree.SubElement(cputune, "iothreadpin", iothread="1", cpuset=_cpuset(emulator))
    numatune = etree.SubElement(domain, "numatune")
    etree.SubElement(numatune, "memory", mode="strict", nodeset=nodes)
    for cell in cells:
        etree.SubElement(numatune, "memnode", cellid=str(cell["id"]), mode="strict",
                         nodeset=str(cell["memnode"]))
    os_el = etree.SubElement(domain, "os")
    etree.SubElement(os_el, "type", arch="x86_64", machine="pc").text = "hvm"
    etree.SubElement(os_el, "boot", dev="hd")
    cpu = etree.SubElement(domain, "cpu", mode="host-model")
    etree.SubElement(cpu, "topology", sockets=str(len(cells)), dies="1",
                     cores=str(len(pins) // max(len(cells), 1)), threads="1")
    numa = etree.SubElement(cpu, "numa")
    cell_memory = memory_mb * 1024 // max(len(cells), 1)
    for cell in cells:
        etree.SubElement(numa, "cell", id=str(cell["id"]),
                         cpus=_cpuset(cell["cpus"]),  # type: ignore[arg-type]
                         memory=str(cell_memory), unit="KiB", memAccess="shared")
    etree.SubElement(domain, "clock", offset="utc")
    devices = etree.SubElement(domain, "devices")
    disk = etree.SubElement(devices, "disk", type="file", device="disk")
    etree.SubElement(disk, "driver", name="qemu", type="qcow2", cache="none")
    etree.SubElement(disk, "source", file=f"/var/lib/nova/instances/{uuid}/disk")
    etree.SubElement(disk, "target", dev="vda", bus="virtio")
    interface = etree.SubElement(devices, "interface", type="network")
    etree.SubElement(interface, "mac", address="fa:16:3e:00:00:01")
    etree.SubElement(interface, "source", network="default")
    etree.SubElement(interface, "model", type="virtio")
    tpm = etree.SubElement(devices, "tpm", model="tpm-crb")
    etree.SubElement(tpm, "backend", type="emulator", version="2.0")
    return etree.tostring(domain, pretty_print=True, encoding="unicode")
