"""The whitebox testbed: two namespace compute hosts (sshd + libvirtd test driver) running
pinned guests, and Nova's real schemas on the machine's MariaDB seeded with the same pins."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tcup_pytest.errors import TcupError
from tcup_pytest.testbed.guests import DEMO_GUESTS, pinned_guest_xml
from tcup_pytest.testbed.hosts import ComputeHosts
from tcup_pytest.testbed.novadb import NovaDatabases
from tcup_pytest.whitebox.inventory import Inventory
from tcup_pytest.whitebox.pool import HostPool
from tests.conftest import service_unavailable

pytestmark = pytest.mark.integration

MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}
MARIADB_SOCKET = "/run/mysqld/mysqld.sock"

GUESTS = DEMO_GUESTS


def _unavailable(what: str, error: BaseException) -> None:
    service_unavailable(f"{what} could not be started", error)


def _cells(pins: dict[int, int]) -> list[dict[str, Any]]:
    """Guest cells as Nova places them: vCPUs pinned in cell N of the host are guest cell N."""
    cells: list[dict[str, Any]] = []
    for node in (0, 1):
        vcpus = sorted(v for v, p in pins.items() if (p >= 8) == bool(node))
        cells.append({"id": node, "vcpus": vcpus, "pins": {v: pins[v] for v in vcpus},
                      "memory": 1024, "pagesize": 2048})
    return cells


@pytest.fixture(scope="session")
def compute_hosts() -> Iterator[ComputeHosts]:
    hosts = ComputeHosts(count=2)
    try:
        hosts.up()
        for host_name, name, uuid, pins, emulator in GUESTS:
            host = next(h for h in hosts.hosts if h.name == host_name)
            cells = _cells(pins)
            hosts.define_guest(host, pinned_guest_xml(
                name=name, uuid=uuid, pins=pins, emulator=emulator,
                cells=[{"id": c["id"], "cpus": c["vcpus"], "memnode": c["id"]} for c in cells],
                extra_specs={"hw:cpu_policy": "dedicated", "hw:numa_nodes": "2",
                             "hw:mem_page_size": "2MB"}))
        hosts.relay_unix_socket(hosts.hosts[1], 3306, MARIADB_SOCKET)
        for host in hosts.hosts:
            start = hosts.echo_commands(host)["start"]
            subprocess.run(["ip", "netns", "exec", host.namespace, "sh", "-c", start],
                           check=True)
    except (TcupError, OSError, subprocess.SubprocessError) as error:
        hosts.down()
        _unavailable("the namespace compute hosts", error)
    yield hosts
    hosts.down()


@pytest.fixture(scope="session")
def nova_databases() -> Iterator[NovaDatabases]:
    databases = NovaDatabases(**MARIADB)
    try:
        databases.up()
        dedicated = [c for c in range(16) if c not in (0, 1, 8, 9)]
        databases.seed(
            instances={uuid: {"host": host, "name": name, "cells": _cells(pins),
                              "emulator_threads_policy": "share" if len(emu) > 2 else None}
                       for host, name, uuid, pins, emu in GUESTS},
            hosts={host: {"cells": [
                {"id": 0, "cpus": list(range(8)), "memory": 2048,
                 "pinned": [p for p in pins.values() if p < 8]},
                {"id": 1, "cpus": list(range(8, 16)), "memory": 4096,
                 "pinned": [p for p in pins.values() if p >= 8]}],
                "dedicated": dedicated, "shared": [0, 1, 8, 9]}
                for host, _, _, pins, _ in GUESTS})
    except (TcupError, OSError) as error:
        databases.down()
        _unavailable("the Nova databases", error)
    yield databases
    databases.down()


@pytest.fixture(scope="session")
def inventory_writer(compute_hosts: ComputeHosts, nova_databases: NovaDatabases):
    """``writer(path, **database)``: the testbed's inventory, database settings overridable."""
    def writer(path: Path, **database: Any) -> Path:
        names = {role: nova_databases.names[role] for role in ("nova", "nova_api", "placement")}
        return compute_hosts.write_inventory(path, {"database": {**MARIADB, "names": names,
                                                                **database}})
    return writer


@pytest.fixture(scope="session")
def inventory_file(tmp_path_factory: pytest.TempPathFactory, inventory_writer) -> Path:
    return inventory_writer(tmp_path_factory.mktemp("inventory") / "inventory.yaml")


@pytest.fixture(scope="session")
def pool(inventory_file: Path) -> Iterator[HostPool]:
    hosts = HostPool(Inventory.load(inventory_file))
    yield hosts
    hosts.close()


@pytest.fixture
def run_pytest(tmp_path: Path):
    """Run an inner pytest session (our plugin on) on ``source`` in a fresh directory."""
    def runner(source: str, *args: str, env: dict[str, str] | None = None,
               ) -> subprocess.CompletedProcess[str]:
        (tmp_path / "test_inner.py").write_text(source)
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("OS_", "PYTEST_", "TCUP_WHITEBOX"))}
        clean.pop("CI", None)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
             str(tmp_path / "test_inner.py"), *args],
            cwd=tmp_path, env={**clean, **(env or {})}, capture_output=True, text=True,
            timeout=300)
    return runner

