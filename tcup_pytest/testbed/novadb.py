"""Nova's real database schemas on the machine's MariaDB, seeded with Nova's own objects.

``nova-manage api_db sync`` / ``db sync`` from PyPI ``nova`` (a cached venv) create the
schemas in databases named ``tcup_wb_<id>_*``, so runs never touch anyone else's databases
and two testbeds can coexist; :meth:`NovaDatabases.down` drops exactly those. Seeded NUMA
topologies are built with ``nova.objects`` inside that venv and stored as Nova stores them
(``jsonutils.dumps(obj.obj_to_primitive())``)::

    >>> with NovaDatabases() as dbs:                                   # doctest: +SKIP
    ...     dbs.add_instance(uuid, host="compute-1", cells=[{"id": 0, "pins": {0: 2}}])
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors

from tcup_pytest.errors import TestbedError
from tcup_pytest.testbed.base import Venv, run

NOVA_VENV = Venv("nova", ["nova==34.0.0", "PyMySQL"])
ROLES = ("nova_api", "nova", "nova_cell0", "placement")

# Runs inside the nova venv: specs on stdin, Nova's serialised objects on stdout.
_SERIALISE = r'''
import json, sys
from nova import objects
from oslo_serialization import jsonutils
objects.register_all()
spec = json.load(sys.stdin)
out = {"instances": {}, "hosts": {}}
for uuid, inst in spec["instances"].items():
    cells = []
    for cell in inst["cells"]:
        pins = {int(k): v for k, v in cell["pins"].items()}
        c = objects.InstanceNUMACell(
            id=cell["id"], cpuset=set(), pcpuset=set(pins), cpuset_reserved=None,
            memory=cell.get("memory", 1024), pagesize=cell.get("pagesize"),
            cpu_policy="dedicated", cpu_thread_policy=None)
        c.pin_vcpus(*pins.items())
        cells.append(c)
    topology = objects.InstanceNUMATopology(
        instance_uuid=uuid, cells=cells,
        emulator_threads_policy=inst.get("emulator_threads_policy"))
    out["instances"][uuid] = jsonutils.dumps(topology.obj_to_primitive())
for name, host in spec["hosts"].items():
    cells = []
    for cell in host["cells"]:
        cpus = set(cell["cpus"])
        cells.append(objects.NUMACell(
            id=cell["id"], cpuset=cpus & set(host["shared"]), pcpuset=cpus & set(host["dedicated"]),
            memory=cell["memory"], cpu_usage=0, memory_usage=0,
            pinned_cpus=set(cell.get("pinned", [])), siblings=[{c} for c in sorted(cpus)],
            mempages=[objects.NUMAPagesTopology(size_kb=4, total=cell["memory"] * 256, used=0,
                                                reserved=0)],
            network_metadata=objects.NetworkMetadata(physnets=set(), tunneled=False),
            socket=cell["id"]))
    out["hosts"][name] = jsonutils.dumps(objects.NUMATopology(cells=cells).obj_to_primitive())
print(json.dumps(out))
'''


class NovaDatabases:
    """``tcup_wb_<id>_{nova_api,nova,nova_cell0,placement}`` with Nova's schemas."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 3306, user: str = "root",
                 password: str = "", workdir: Path | None = None) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password
        self.id = secrets.token_hex(3)
        self.prefix = f"tcup_wb_{self.id}"
        self.names = {role: f"{self.prefix}_{role}" for role in ROLES}
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        self.log = self.workdir / "novadb.log"
        self._created: list[str] = []

    def url(self, role: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return (f"mysql+pymysql://{auth}@{self.host}:{self.port}/{self.names[role]}"
                "?charset=utf8")

    def connect(self, role: str | None = None) -> pymysql.connections.Connection:
        return pymysql.connect(host=self.host, port=self.port, user=self.user,
                               password=self.password,
                               database=self.names[role] if role else None, autocommit=True,
                               cursorclass=pymysql.cursors.DictCursor)

    def create(self) -> None:
        """Create the (empty) databases; each is remembered at once for :meth:`down`."""
        with self.connect() as conn, conn.cursor() as cursor:
            for name in self.names.values():
                # Identifiers cannot be parameters; names are ours (tcup_wb_<hex>_<role>).
                cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
                self._created.append(name)

    def up(self) -> NovaDatabases:
        try:
            NOVA_VENV.ensure(log=self.workdir / "venv.log")
            self.create()
            conf = self.workdir / "nova.conf"
            conf.write_text("[DEFAULT]\ntransport_url = fake://\n"
                            f"state_path = {self.workdir}\n"
                            f"[api_database]\nconnection = {self.url('nova_api')}\n"
                            f"[database]\nconnection = {self.url('nova')}\n")
            manage = NOVA_VENV.bin("nova-manage")
            run([manage, "--config-file", conf, "api_db", "sync"], log=self.log,
                what="nova-manage api_db sync")
            run([manage, "--config-file", conf, "db", "sync"], log=self.log,
                what="nova-manage db sync")
        except pymysql.err.Error as exc:
            self.down()
            raise TestbedError(f"MariaDB at {self.host}:{self.port}: {exc}") from None
        except BaseException:
            self.down()
            raise
        return self

    def down(self) -> None:
        if self._created:
            try:
                with self.connect() as conn, conn.cursor() as cursor:
                    for name in self._created:
                        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
            finally:
                self._created.clear()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> NovaDatabases:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()

    # seeding --------------------------------------------------------------------------------
    def serialise(self, instances: dict[str, dict[str, Any]],
                  hosts: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
        """Nova's JSON for instance and host NUMA topologies, made by ``nova.objects``."""
        proc = subprocess.run([NOVA_VENV.bin("python"), "-c", _SERIALISE],
                              input=json.dumps({"instances": instances, "hosts": hosts}),
                              capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise TestbedError(f"serialising Nova objects failed: {proc.stderr.strip()[-300:]}")
        return json.loads(proc.stdout)

    def seed(self, instances: dict[str, dict[str, Any]],
             hosts: dict[str, dict[str, Any]]) -> None:
        """Insert ``compute_nodes`` for ``hosts`` and ``instances`` + ``instance_extra`` rows.

        ``instances``: ``{uuid: {"host", "cells": [{"id", "pins": {vcpu: pcpu}}]}}``;
        ``hosts``: ``{name: {"cells": [{"id", "cpus", "memory"}], "dedicated", "shared"}}``.
        """
        made = self.serialise(instances, hosts)
        with self.connect("nova") as conn, conn.cursor() as cursor:
            for name, host in hosts.items():
                cpus = sum(len(c["cpus"]) for c in host["cells"])
                memory = sum(c["memory"] for c in host["cells"])
                cursor.execute(
                    "INSERT INTO compute_nodes (created_at, uuid, host, hypervisor_hostname, "
                    "hypervisor_type, hypervisor_version, vcpus, memory_mb, local_gb, "
                    "vcpus_used, memory_mb_used, local_gb_used, cpu_info, numa_topology, "
                    "deleted) VALUES (NOW(), UUID(), %s, %s, 'QEMU', 8002002, %s, %s, 100, "
                    "0, 0, 0, %s, %s, 0)",
                    (name, name, cpus, memory,
                     json.dumps({"arch": "x86_64", "model": "Penryn", "vendor": "Intel",
                                 "topology": {"sockets": len(host["cells"]), "cores":
                                              cpus // len(host["cells"]), "threads": 1}}),
                     made["hosts"][name]))
            for uuid, inst in instances.items():
                vcpus = sum(len(c["pins"]) for c in inst["cells"])
                cursor.execute(
                    "INSERT INTO instances (created_at, uuid, host, node, vm_state, "
                    "power_state, vcpus, memory_mb, display_name, deleted) "
                    "VALUES (NOW(), %s, %s, %s, 'active', 1, %s, %s, %s, 0)",
                    (uuid, inst["host"], inst["host"], vcpus,
                     sum(c.get("memory", 1024) for c in inst["cells"]),
                     inst.get("name", uuid[:8])))
                cursor.execute(
                    "INSERT INTO instance_extra (created_at, instance_uuid, numa_topology, "
                    "deleted) VALUES (NOW(), %s, %s, 0)", (uuid, made["instances"][uuid]))


def leftover_databases(host: str = "127.0.0.1", port: int = 3306, user: str = "root",
                       password: str = "") -> list[str]:
    """``tcup_wb_%`` databases present now (tests check nothing is left behind)."""
    with pymysql.connect(host=host, port=port, user=user, password=password) as conn, \
            conn.cursor() as cursor:
        cursor.execute("SHOW DATABASES LIKE %s", ("tcup\\_wb\\_%",))
        return [row[0] for row in cursor.fetchall()]
