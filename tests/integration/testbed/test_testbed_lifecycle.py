"""`tcup testbed up/status/down` as a user runs them; down leaves no process behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.testbed import ADMIN_CLOUD, Testbed
from tcup_pytest.testbed.base import pid_alive

pytestmark = pytest.mark.integration


def process_groups(pgids: set[int]) -> list[int]:
    """PIDs of every live process in these process groups (servers and their workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) in pgids:
            found.append(int(entry.name))
    return found


def recorded_pids(state_dir: Path) -> set[int]:
    state = Testbed(state_dir).state
    return {p["pid"] for c in state["components"].values() for p in c["processes"]}


def test_cli_up_status_down_then_up_again(bed_dir, tcup):
    state_dir = bed_dir
    some = ("--state-dir", str(state_dir), "--components", "keystone,placement")
    up = tcup("testbed", "up", *some)
    assert up.returncode == 0, up.stdout + up.stderr
    bed = Testbed(state_dir)
    assert f"OS_CLIENT_CONFIG_FILE={bed.clouds_yaml}" in up.stdout
    assert "keystone.db_sync" in up.stdout and "total" in up.stdout
    for secret in (bed.admin_password, bed.member_password):
        assert secret not in up.stdout + up.stderr

    status = tcup("testbed", "status", "--state-dir", str(state_dir))
    assert status.returncode == 0, status.stdout + status.stderr
    assert "running" in status.stdout and bed.url("placement") in status.stdout

    again = tcup("testbed", "up", *some)
    assert again.returncode == 0 and "already running" in again.stdout

    # The default components: glance joins the running keystone and placement.
    keystone_pid = bed.state["components"]["keystone"]["processes"][0]["pid"]
    more = tcup("testbed", "up", "--state-dir", str(state_dir))
    assert more.returncode == 0 and "glance.start" in more.stdout, more.stdout + more.stderr
    assert "keystone.bootstrap" not in more.stdout
    state = Testbed(state_dir).state["components"]
    assert list(state) == ["keystone", "glance", "placement"]
    assert state["keystone"]["processes"][0]["pid"] == keystone_pid

    pids = recorded_pids(state_dir)
    assert len(process_groups(pids)) >= 2 * len(pids)  # gunicorn master + worker each
    down = tcup("testbed", "down", "--state-dir", str(state_dir))
    assert down.returncode == 0, down.stdout + down.stderr
    assert not [pid for pid in pids if pid_alive(pid)]
    assert process_groups(pids) == []
    assert not (state_dir / "state.json").exists() and not bed.clouds_yaml.exists()

    gone = tcup("testbed", "status", "--state-dir", str(state_dir))
    assert gone.returncode == ExitCode.TESTBED and "no testbed" in gone.stdout

    # The same directory starts again after down (a keystone-only testbed keeps this short).
    second = Testbed(state_dir, components=["keystone"])
    try:
        timings = second.up()
        assert not second.reused and "keystone.bootstrap" in timings
        assert second.connect(ADMIN_CLOUD).auth_token
        pids = recorded_pids(state_dir)
    finally:
        second.down()
    assert process_groups(pids) == []


def test_refstack_component_up_and_down(bed_dir, tcup):
    """The RefStack server as a testbed component: it answers, another process stops it,
    and its database goes with it (nothing else in the shared MariaDB is touched)."""
    import pymysql

    from tcup_pytest.refstack.client import RefStackClient

    up = tcup("testbed", "up", "--state-dir", str(bed_dir), "--components", "keystone,refstack")
    assert up.returncode == 0, up.stdout + up.stderr
    bed = Testbed(bed_dir)
    state = bed.state["components"]["refstack"]
    assert RefStackClient(bed.url("refstack")).list_results()["results"] == []

    def exists(database: str) -> bool:
        with pymysql.connect(host="127.0.0.1", user="root", password="") as conn, \
                conn.cursor() as cur:
            cur.execute("SHOW DATABASES LIKE %s", (database,))
            return bool(cur.fetchall())

    assert exists(state["database"])
    assert tcup("testbed", "down", "--state-dir", str(bed_dir)).returncode == 0
    assert not [r["pid"] for r in state["processes"] if pid_alive(r["pid"])]
    assert not exists(state["database"])
