"""Regenerate the whitebox check fixtures in this directory from the testbed's real Nova.

Run against a testbed started with ``tcup testbed up --components keystone,glance,placement,nova
--state-dir DIR``::

    python tests/data/whitebox/make_dumps.py DIR

Good cases (``nova-*.xml``, ``nova-*.numa_topology.json``, ``nova-*.allocations.json``) are
guests Nova booted with each flavor below: the live ``virsh dumpxml`` over SSH from the host
the API names, the ``instance_extra.numa_topology`` row and placement's allocations.
Violating cases (``bad-*.xml``) are those Nova domains edited (wrong pins, NUMA, pages,
emulator or scheduler settings, see ``MUTATIONS``), then defined and started on the same
namespace host's libvirtd and dumped back, so each is XML libvirt accepted, not hand-written.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lxml import etree

from tcup_pytest.testbed import ADMIN_CLOUD, Testbed
from tcup_pytest.whitebox.inventory import Inventory
from tcup_pytest.whitebox.pool import HostPool

HERE = Path(__file__).parent
DEDICATED = {"hw:cpu_policy": "dedicated"}
FLAVORS = {
    "pinned-numa2-share": (4, {**DEDICATED, "hw:numa_nodes": "2",
                               "hw:emulator_threads_policy": "share"}),
    "pinned-isolate": (2, {**DEDICATED, "hw:emulator_threads_policy": "isolate"}),
    "pinned-realtime": (4, {**DEDICATED, "hw:cpu_realtime": "yes",
                            "hw:cpu_realtime_mask": "^0"}),
    "pinned-other": (2, dict(DEDICATED)),
    "shared": (2, {}),
}


def _set(path: str, attribute: str, value: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        root.find(path).set(attribute, value)
    return change


def _remove(path: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        element = root.find(path)
        element.getparent().remove(element)
    return change


def _hugepages(size_kib: str) -> Callable[[etree._Element], None]:
    def change(root: etree._Element) -> None:
        backing = etree.Element("memoryBacking")
        pages = etree.SubElement(backing, "hugepages")
        etree.SubElement(pages, "page", size=size_kib, unit="KiB", nodeset="0-1")
        root.insert(list(root).index(root.find("vcpu")), backing)
    return change


#: bad case -> (good case it starts from, edit). The pCPU numbers are checked against the dump.
MUTATIONS = {
    "bad-pin-shared-cpu": ("pinned-numa2-share", _set("cputune/vcpupin[@vcpu='1']", "cpuset",
                                                      "0")),
    "bad-pin-doubled": ("pinned-numa2-share", None),  # vcpu 1 on vcpu 0's pCPU, set below
    "bad-pin-overlap-guest": ("pinned-other", None),  # a pCPU of pinned-numa2-share
    "bad-shared-on-dedicated": ("shared", _set("vcpu", "cpuset", "2-3")),
    "bad-emulator-share": ("pinned-numa2-share", None),  # emulator on the vCPUs' pCPUs
    "bad-emulator-isolate": ("pinned-isolate", None),  # emulator on vcpu 0's pCPU
    "bad-realtime": ("pinned-realtime", _remove("cputune/vcpusched[last()]")),
    "bad-numa-memnode": ("pinned-numa2-share", None),  # memnode 0 on the other host node
    "good-hugepages-2m": ("pinned-numa2-share", _hugepages("2048")),
    "bad-hugepages-1g": ("pinned-numa2-share", _hugepages("1048576")),
}


def main(state_dir: str) -> None:
    testbed = Testbed(state_dir)
    conn = testbed.connect(ADMIN_CLOUD)
    inventory = Inventory.load(testbed.state["components"]["nova"]["inventory"])
    pool = HostPool(inventory)
    database = pool.database()
    image = conn.image.create_image("tcup-dumps", data=b"\0" * 1024 * 1024, disk_format="raw",
                                    container_format="bare", allow_duplicates=True)
    made: list = []
    roots: dict[str, etree._Element] = {}
    try:
        for case, (vcpus, specs) in FLAVORS.items():
            flavor = conn.compute.create_flavor(name=f"tcup-dumps-{case}", vcpus=vcpus,
                                                ram=512, disk=1)
            made.append(("flavor", flavor))
            conn.compute.create_flavor_extra_specs(flavor, specs)
            server = conn.compute.create_server(name=f"tcup-dumps-{case}", flavor_id=flavor.id,
                                                image_id=image.id, networks="none")
            made.append(("server", server))
            server = conn.compute.wait_for_server(server, wait=120)
            host = pool.for_server(server)
            text = host.virsh("dumpxml", server.id)
            (HERE / f"nova-{case}.xml").write_text(text)
            roots[case] = etree.fromstring(text.encode())
            with database.session("nova") as nova:
                row = nova.one("SELECT numa_topology FROM instance_extra WHERE instance_uuid "
                               "= %s", (server.id,))
            (HERE / f"nova-{case}.numa_topology.json").write_text(
                json.dumps(json.loads(row["numa_topology"]) if row["numa_topology"] else None,
                           indent=1) + "\n")
            allocations = conn.placement.get(f"/allocations/{server.id}").json()
            (HERE / f"nova-{case}.allocations.json").write_text(
                json.dumps(allocations["allocations"], indent=1) + "\n")
        host = pool["compute-1"]
        (HERE / "capabilities.xml").write_text(host.virsh("capabilities"))
        for bad, (good, change) in MUTATIONS.items():
            root = copy.deepcopy(roots[good])
            (change or _special(bad, roots))(root)
            name = f"tcup-{bad}"
            root.find("name").text = name
            uuid = f"00000000-0000-4000-8000-{int(time.time() * 1e6) % 10**12:012d}"
            root.find("uuid").text = uuid
            for entry in root.iterfind(".//sysinfo/system/entry[@name='uuid']"):
                entry.text = uuid
            root.attrib.pop("id", None)
            xml = etree.tostring(root, encoding="unicode")
            path = f"/tmp/{name}.xml"
            host.write_file(path, xml.encode())
            host.check_output(f"virsh define {path} && virsh start {name}")
            (HERE / f"{bad}.xml").write_text(host.virsh("dumpxml", name))
            host.check_output(f"virsh destroy {name}; virsh undefine {name}; rm -f {path}")
    finally:
        for kind, resource in reversed(made):
            if kind == "server":
                conn.compute.delete_server(resource)
                conn.compute.wait_for_delete(resource, wait=120)
            else:
                conn.compute.delete_flavor(resource)
        conn.image.delete_image(image)
        pool.close()


def _special(bad: str, roots: dict[str, etree._Element]) -> Callable[[etree._Element], None]:
    def pins(root: etree._Element) -> dict[str, etree._Element]:
        return {e.get("vcpu"): e for e in root.iterfind("cputune/vcpupin")}

    def change(root: etree._Element) -> None:
        if bad == "bad-pin-doubled":
            pins(root)["1"].set("cpuset", pins(root)["0"].get("cpuset"))
        elif bad == "bad-pin-overlap-guest":
            taken = pins(roots["pinned-numa2-share"])["0"].get("cpuset")
            pins(root)["0"].set("cpuset", taken)
        elif bad == "bad-emulator-share":
            cpus = ",".join(e.get("cpuset") for e in pins(root).values())
            root.find("cputune/emulatorpin").set("cpuset", cpus)
        elif bad == "bad-emulator-isolate":
            root.find("cputune/emulatorpin").set("cpuset", pins(root)["0"].get("cpuset"))
        elif bad == "bad-numa-memnode":
            memnodes = root.findall("numatune/memnode")
            first, second = memnodes[0].get("nodeset"), memnodes[1].get("nodeset")
            memnodes[0].set("nodeset", second)
            memnodes[1].set("nodeset", first)
    return change


if __name__ == "__main__":
    main(sys.argv[1])
