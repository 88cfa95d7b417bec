"""Config change + restart + byte-for-byte restore on a real service in a namespace host."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tcup_pytest.errors import HostError
from tcup_pytest.testbed.hosts import ComputeHosts
from tcup_pytest.whitebox.pool import HostPool
from tcup_pytest.whitebox.services import Service, config_change

pytestmark = pytest.mark.integration


def greeting(compute_hosts: ComputeHosts, index: int) -> str:
    """What the running tcw-echo service answers: proves which config it loaded."""
    host = compute_hosts.hosts[index]
    with socket.create_connection((host.address, host.echo_port), timeout=5) as conn:
        return conn.recv(100).decode().strip()


@pytest.mark.idempotent_id("9b8d6c1a-2f4e-4d7b-8a0c-3e5f6a7b2001")
def test_option_changed_restarted_and_restored_byte_for_byte(
        pool: HostPool, compute_hosts: ComputeHosts) -> None:
    host = pool["compute-1"]
    path = str(compute_hosts.hosts[0].echo_conf)
    original = host.read_file(path)
    assert greeting(compute_hosts, 0) == "hello"
    with config_change(host, "tcw-echo", {"DEFAULT": {"greeting": "changed"},
                                          "extra": {"added": 1}}) as config:
        assert config.get("DEFAULT", "greeting") == "changed"
        assert config.get("extra", "added") == "1"
        assert "# tcw-echo test service" in config.read().decode()  # comments kept
        assert greeting(compute_hosts, 0) == "changed"  # the restart loaded it
    assert host.read_file(path) == original
    assert greeting(compute_hosts, 0) == "hello"


@pytest.mark.idempotent_id("9b8d6c1a-2f4e-4d7b-8a0c-3e5f6a7b2002")
def test_restore_happens_when_the_body_raises(pool: HostPool,
                                              compute_hosts: ComputeHosts) -> None:
    host = pool["compute-2"]
    path = str(compute_hosts.hosts[1].echo_conf)
    original = host.read_file(path)
    with pytest.raises(ZeroDivisionError), config_change(
            host, "tcw-echo", {"DEFAULT": {"greeting": "boom"}}):
        assert greeting(compute_hosts, 1) == "boom"
        1 / 0  # noqa: B018
    assert host.read_file(path) == original
    assert greeting(compute_hosts, 1) == "hello"


@pytest.mark.idempotent_id("9b8d6c1a-2f4e-4d7b-8a0c-3e5f6a7b2003")
def test_service_errors_are_clear(pool: HostPool) -> None:
    host = pool["compute-1"]
    with pytest.raises(HostError, match="no service 'nova-api'"):
        Service(host, "nova-api")
    with pytest.raises(HostError, match="libvirt on compute-1 has no way to restart"):
        Service(host, "libvirt").restart()


INNER = '''
import os, signal
import pytest

CHANGE = {"DEFAULT": {"greeting": "inner"}}

@pytest.mark.whitebox
def test_fails_after_change(hosts, config_change):
    config = config_change(hosts["compute-1"], "tcw-echo", CHANGE)
    assert config.get("DEFAULT", "greeting") == "inner"
    assert False, "deliberate failure"

@pytest.mark.whitebox
def test_interrupted_after_change(host_for, config_change):
    config_change(host_for({"OS-EXT-SRV-ATTR:host": "compute-2"}), "tcw-echo", CHANGE)
    os.kill(os.getpid(), signal.SIG{signal})
'''


@pytest.mark.idempotent_id("9b8d6c1a-2f4e-4d7b-8a0c-3e5f6a7b2004")
@pytest.mark.parametrize("signal_name", ["INT", "TERM"])
def test_failing_and_interrupted_inner_runs_still_restore(
        run_pytest, inventory_file: Path, compute_hosts: ComputeHosts, signal_name: str) -> None:
    paths = [h.echo_conf for h in compute_hosts.hosts]
    originals = [p.read_bytes() for p in paths]
    result = run_pytest(INNER.replace("{signal}", signal_name),
                        "--whitebox-inventory", str(inventory_file))
    output = result.stdout + result.stderr
    assert "deliberate failure" in output
    assert result.returncode in (1, 2), output  # failed, or interrupted
    assert "KeyboardInterrupt" in output or "Interrupted" in output or "!!!" in output
    assert [p.read_bytes() for p in paths] == originals
    assert greeting(compute_hosts, 0) == greeting(compute_hosts, 1) == "hello"


FIXTURES = '''
import pytest
from tcup_pytest.whitebox.database import instance_numa_topology

@pytest.mark.whitebox
def test_every_fixture(hosts, host_for, nova_db, nova_api_db, placement_db, config_change):
    host = host_for({"OS-EXT-SRV-ATTR:host": "compute-1"})
    assert host is hosts["compute-1"]
    xml = host.domain_xml("{uuid}")
    topology = instance_numa_topology(nova_db, "{uuid}")
    assert {v: {p} for v, p in topology.cpu_pinning.items()} == xml.vcpu_pins
    assert nova_api_db.one("SELECT COUNT(*) AS n FROM cell_mappings")["n"] == 0
    assert placement_db.query("SELECT %s AS ok", ("yes",)) == [{"ok": "yes"}]
    config = config_change(hosts["compute-2"], "tcw-echo", {"DEFAULT": {"greeting": "fx"}})
    assert config.get("DEFAULT", "greeting") == "fx"

@pytest.mark.whitebox
@pytest.mark.parametrize("n", range(4))
def test_parallel_changes_on_one_host_are_serialised(hosts, config_change, n):
    host = hosts["compute-1"]
    config = config_change(host, "tcw-echo", {"DEFAULT": {"greeting": f"w{n}"}})
    probe = "{probe}"
    for _ in range(3):  # nobody else changes the file or restarts the service meanwhile
        assert config.get("DEFAULT", "greeting") == f"w{n}"
        assert host.check_output(probe).strip() == f"w{n}"
'''


@pytest.mark.idempotent_id("9b8d6c1a-2f4e-4d7b-8a0c-3e5f6a7b2005")
def test_fixtures_in_an_inner_run_with_two_workers(run_pytest, inventory_file: Path,
                                                    compute_hosts: ComputeHosts) -> None:
    first = compute_hosts.hosts[0]
    probe = (f"python3 -c \\\"import socket; print(socket.create_connection("
             f"('{first.address}', {first.echo_port}), 5).recv(99).decode())\\\"")
    source = FIXTURES.replace("{uuid}", "6f3c1a52-8d0e-4b8a-9d2e-0a6a3d1c0001") \
        .replace("{probe}", probe)
    originals = [h.echo_conf.read_bytes() for h in compute_hosts.hosts]
    result = run_pytest(source, "-n", "2", "--whitebox-inventory", str(inventory_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
    assert [h.echo_conf.read_bytes() for h in compute_hosts.hosts] == originals


KILLED = '''
import os, signal
import pytest

@pytest.mark.whitebox
def test_killed_after_change(hosts, config_change):
    config_change(hosts["compute-1"], "tcw-echo", {"DEFAULT": {"greeting": "killed"}})
    os.kill(os.getpid(), signal.SIGKILL)  # no finally runs

@pytest.mark.whitebox
def test_next_session(hosts):
    pass
'''


@pytest.mark.idempotent_id("9b8d6c1a-2f4e-4d7b-8a0c-3e5f6a7b2006")
def test_a_killed_run_is_repaired_by_the_next_session(
        run_pytest, inventory_file: Path, compute_hosts: ComputeHosts, tmp_path: Path) -> None:
    conf = compute_hosts.hosts[0].echo_conf
    original = conf.read_bytes()
    env = {"TCUP_WHITEBOX_JOURNAL": str(tmp_path / "journal")}
    args = ("--whitebox-inventory", str(inventory_file))
    killed = run_pytest(KILLED, "-k", "killed", *args, env=env)
    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert b"greeting = killed" in conf.read_bytes()
    assert greeting(compute_hosts, 0) == "killed"
    repaired = run_pytest(KILLED, "-k", "next_session", *args, env=env)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert conf.read_bytes() == original
    assert greeting(compute_hosts, 0) == "hello"
    assert list((tmp_path / "journal").glob("*.json")) == []
