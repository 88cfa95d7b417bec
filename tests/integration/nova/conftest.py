"""The session testbed with Nova added: api, conductor, scheduler and a nova-compute on each of
two namespace hosts (libvirt test driver), on the machine's MariaDB and RabbitMQ.

Nova joins the session's ``testbed`` (keystone, glance, placement), so it shares its lifetime:
stopped with it, or left running with a testbed reused from ``$TCUP_TESTBED_DIR``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tcup_pytest.errors import TcupError
from tcup_pytest.testbed import ADMIN_CLOUD, Testbed
from tcup_pytest.whitebox.inventory import Inventory
from tcup_pytest.whitebox.pool import HostPool
from tests.conftest import service_unavailable

pytestmark = pytest.mark.integration


def _unavailable(reason: str) -> None:
    service_unavailable("the testbed's Nova could not start", reason)


@pytest.fixture(scope="session")
def nova_testbed(testbed: Testbed) -> Testbed:
    if os.geteuid() != 0:
        _unavailable("namespace compute hosts need root")
    bed = Testbed(testbed.state_dir, components=(*testbed.components, "nova"))
    started = time.monotonic()
    try:
        timings = bed.up()
    except TcupError as exc:
        _unavailable(str(exc))
    if not bed.reused:
        print(f"\n[bench] nova bring-up {time.monotonic() - started:.1f} s: "
              + ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if k.startswith("nova"))
              + f"; testbed RSS {_rss_mib(bed):.0f} MiB")
    return bed


def _rss_mib(bed: Testbed) -> float:
    """RSS of every process the testbed started: each leads its own session (nova-compute
    too, via setsid), so the sessions of the recorded leaders cover workers and helpers."""
    leaders = {r["pid"] for c in bed.state["components"].values()
               for r in c.get("processes", [])}
    nova = bed.state["components"]["nova"]
    leaders.update(nova["hosts"]["pids"])
    for host in nova["hosts"]["hosts"]:
        pidfile = Path(host["dir"]) / "nova-compute.pid"
        if pidfile.exists():
            leaders.add(int(pidfile.read_text()))
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in leaders:  # session id
            total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")  # rss pages
    return total / 2 ** 20


@pytest.fixture(scope="session")
def nova_inventory(nova_testbed: Testbed) -> Path:
    return Path(nova_testbed.state["components"]["nova"]["inventory"])


@pytest.fixture(scope="session")
def nova_pool(nova_inventory: Path) -> Iterator[HostPool]:
    pool = HostPool(Inventory.load(nova_inventory))
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def nova_admin(nova_testbed: Testbed) -> Iterator[Any]:
    conn = nova_testbed.connect(ADMIN_CLOUD)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def nova_image(nova_admin: Any) -> Iterator[str]:
    image = nova_admin.image.create_image("tcup-nova-it-empty", data=b"\0" * 1024 * 1024,
                                          disk_format="raw", container_format="bare",
                                          allow_duplicates=True)
    yield image.id
    nova_admin.image.delete_image(image, ignore_missing=True)
