"""DomainXML / Capabilities on XML our testbed's libvirtd produced (data/, virsh dumpxml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, XMLError
from tcup_pytest.whitebox.libvirt import Capabilities, DomainXML, to_kib

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def domain() -> DomainXML:
    return DomainXML.from_string((DATA / "domain-pinned.xml").read_text())


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5001")
def test_cpu_tuning(domain: DomainXML) -> None:
    assert domain.name == "instance-00000001" and domain.id == 2
    assert domain.vcpus == 4 and domain.vcpu_cpuset is None
    assert domain.vcpu_pins == {0: {2}, 1: {3}, 2: {10}, 3: {11}}
    assert domain.pinned_cpus == {2, 3, 10, 11}
    assert domain.emulator_pins == {0, 1}
    assert domain.iothreads == 1 and domain.iothread_pins == {1: {0, 1}}
    assert domain.vcpu_sched == []


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5002")
def test_numa_memory_and_cpu(domain: DomainXML) -> None:
    assert domain.memnodes == {0: {0}, 1: {1}}
    assert domain.numatune_memory == ("strict", {0, 1})
    assert [(c.id, c.cpus, c.memory_kib) for c in domain.numa_cells] == [
        (0, {0, 1}, 1048576), (1, {2, 3}, 1048576)]
    assert domain.hugepage_sizes == {2048}
    assert domain.memory_kib == 2097152
    assert domain.memory_backing["hugepages"] == "yes"
    assert domain.cpu.mode == "host-model"
    assert domain.cpu.topology == {"sockets": 2, "dies": 1, "cores": 2, "threads": 1}


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5003")
def test_devices_and_nova_metadata(domain: DomainXML) -> None:
    assert [d.tag for d in domain.devices()] == ["disk", "interface", "tpm"]
    assert domain.disks[0].get("driver", "cache") == "none"
    assert domain.interfaces[0].get("target", "dev") == "testnet0"
    assert domain.hostdevs == []
    assert domain.tpm is not None and domain.tpm.element.get("model") == "tpm-crb"
    nova = domain.nova
    assert nova is not None
    assert (nova.flavor_name, nova.flavor_id, nova.flavor["vcpus"]) == ("pinned.numa2", "42", "4")
    assert nova.extra_specs == {"hw:cpu_policy": "dedicated", "hw:numa_nodes": "2"}
    assert domain.instance_uuid == "6f3c1a52-8d0e-4b8a-9d2e-0a6a3d1c0001"


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5004")
def test_realtime_and_custom_cpu_elements() -> None:
    xml = DomainXML.from_string(
        "<domain type='kvm'><name>rt</name><vcpu cpuset='0-1,8-9'>2</vcpu><cputune>"
        "<vcpusched vcpus='1' scheduler='fifo' priority='1'/></cputune>"
        "<cpu mode='custom'><model>Nehalem</model><feature policy='require' name='pcid'/>"
        "<feature policy='disable' name='vmx'/></cpu><memoryBacking><source type='file'/>"
        "<access mode='shared'/></memoryBacking><devices><hostdev mode='subsystem' "
        "type='pci'><source><address bus='0x3b'/></source></hostdev></devices></domain>")
    assert xml.vcpu_cpuset == {0, 1, 8, 9}
    assert [(s.vcpus, s.scheduler, s.priority) for s in xml.vcpu_sched] == [({1}, "fifo", 1)]
    assert xml.cpu.model == "Nehalem"
    assert xml.cpu.features == {"pcid": "require", "vmx": "disable"}
    assert xml.memory_backing == {"source": "file", "access": "shared", "hugepages": None}
    assert xml.hostdevs[0].type == "pci" and xml.hostdevs[0].get("source/address", "bus") == "0x3b"
    assert xml.nova is None and xml.emulator_pins is None and xml.hugepage_sizes == set()


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5005")
def test_capabilities() -> None:
    caps = Capabilities.from_string((DATA / "capabilities.xml").read_text())
    assert [c.id for c in caps.cells] == [0, 1]
    assert caps.cells[1].memory_kib == 4194304
    assert caps.cpus == set(range(16)) and caps.cell_of_cpu[8] == 1
    assert caps.siblings[5] == {5}
    assert caps.page_sizes == {4, 8, 2048, 1048576}
    assert caps.arch is not None


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5006")
@pytest.mark.parametrize(("text", "message"), [
    ((DATA / "capabilities.xml").read_text(), "root <capabilities>, expected <domain>"),
    ("<domain><name>x</name>", "not well-formed XML"),
    ("", "not well-formed XML"),
])
def test_xml_that_is_not_a_domain(text: str, message: str) -> None:
    with pytest.raises(XMLError, match=message) as info:
        DomainXML.from_string(text)
    assert info.value.exit_code == ExitCode.INPUT_FILE
    assert "\n" not in str(info.value)


@pytest.mark.idempotent_id("7c2e4a1b-5d3f-4b6a-9c8d-1e2f3a4b5007")
def test_units() -> None:
    assert to_kib("1", "GiB") == 1048576 and to_kib(2048, "KiB") == 2048
    assert to_kib("2", "M") == 2048 and to_kib("4096", None) == 4096
    with pytest.raises(XMLError):
        to_kib("1", "parsecs")
