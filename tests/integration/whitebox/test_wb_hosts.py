"""Host handles against real sshd in network namespaces: results, reuse, reconnects, errors."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, HostError, InventoryError
from tcup_pytest.testbed.base import pid_alive
from tcup_pytest.testbed.hosts import NETNS_ETC, ComputeHosts
from tcup_pytest.whitebox.hosts import CommandFailed, Host, SSHBackend
from tcup_pytest.whitebox.pool import HostPool

pytestmark = pytest.mark.integration


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a01")
def test_run_returns_rc_stdout_stderr(pool: HostPool) -> None:
    result = pool["compute-1"].run("echo out; echo err >&2; exit 3")
    assert (result.rc, result.stdout, result.stderr) == (3, "out\n", "err\n")


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a02")
def test_commands_run_on_the_named_host_and_quote_arguments(pool: HostPool) -> None:
    host = pool["compute-2"]
    assert host.check_output("hostname").strip() == "compute-2"
    assert host.check_output(["printf", "%s|", "a b", "$HOME", "it's"]) == "a b|$HOME|it's|"
    assert host.check_output("echo $TCW_HOST").strip() == "compute-2"


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a03")
def test_check_output_raises_one_line_host_error(pool: HostPool) -> None:
    with pytest.raises(CommandFailed) as info:
        pool["compute-1"].check_output(["ls", "/no/such/path"])
    assert info.value.exit_code == ExitCode.HOST
    assert "\n" not in str(info.value) and "exited 2" in str(info.value)


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a04")
def test_one_connection_is_reused_for_many_commands(pool: HostPool) -> None:
    host = pool["compute-1"]
    host.run("true")
    backend = host.backend
    assert isinstance(backend, SSHBackend)
    before = backend.connects
    sessions = set()
    for _ in range(10):
        # $PPID of the command is the per-connection sshd child: the same for every command.
        sessions.add(host.check_output("cat /proc/$PPID/status | grep ^PPid").strip())
    assert backend.connects == before
    assert len(sessions) == 1


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a05")
def test_dropped_connection_is_reestablished(compute_hosts: ComputeHosts,
                                             pool: HostPool) -> None:
    host = pool["compute-2"]
    assert host.check_output("hostname").strip() == "compute-2"
    backend = host.backend
    assert isinstance(backend, SSHBackend)
    before = backend.connects
    sessions = compute_hosts.sshd_session_pids(compute_hosts.hosts[1])
    assert sessions, "our connection should have an sshd session process"
    for pid in sessions:  # the server side of our connection(s) dies
        os.kill(pid, signal.SIGKILL)
    assert host.check_output("hostname").strip() == "compute-2"
    assert backend.connects == before + 1


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a06")
def test_files_round_trip_byte_for_byte(pool: HostPool, compute_hosts: ComputeHosts) -> None:
    host = pool["compute-1"]
    path = str(compute_hosts.hosts[0].dir / "binary.dat")
    data = bytes(range(256)) * 3 + "ünïcödé\r\n".encode() + b"\x00tail-no-newline"
    host.write_file(path, data)
    assert host.read_file(path) == data
    assert host.exists(path) and not host.exists(path + ".missing")


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a07")
def test_unreachable_host_is_one_clear_line(compute_hosts: ComputeHosts) -> None:
    address = compute_hosts.hosts[0].address
    host = Host(f"ssh://root@{address}:2?timeout=5&key={compute_hosts.key}", name="nowhere")
    with pytest.raises(HostError) as info:
        host.run("true")
    assert info.value.exit_code == ExitCode.HOST
    assert f"cannot reach ssh://root@{address}:2" in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a08")
def test_refused_login_is_one_clear_line(compute_hosts: ComputeHosts, tmp_path) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True)
    address = compute_hosts.hosts[0].address
    host = Host(f"ssh://root@{address}:22?key={stranger}")
    with pytest.raises(HostError) as info:
        host.run("true")
    assert "refused the SSH login for root" in str(info.value)
    assert info.value.exit_code == ExitCode.HOST


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a09")
def test_api_host_names_map_to_inventory_hosts(pool: HostPool) -> None:
    server = {"id": "x", "OS-EXT-SRV-ATTR:host": "compute-2"}
    assert pool.for_server(server) is pool["compute-2"]
    assert pool.for_server({"OS-EXT-SRV-ATTR:hypervisor_hostname": "compute-1"}).name == \
        "compute-1"
    with pytest.raises(InventoryError) as info:
        pool.for_server({"OS-EXT-SRV-ATTR:host": "compute-9"})
    assert "unknown hypervisor 'compute-9'" in str(info.value)
    assert info.value.exit_code == ExitCode.INVENTORY


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a10")
def test_testbed_handed_over_and_torn_down_leaves_nothing() -> None:
    testbed = ComputeHosts(count=1).up()
    state = testbed.state()
    pids = [p["pid"] for p in state["processes"]]
    namespace, veth = state["hosts"][0]["namespace"], state["hosts"][0]["veth"]
    try:
        assert namespace in subprocess.run(["ip", "netns"], capture_output=True,
                                           text=True).stdout
    finally:
        ComputeHosts.from_state(state).down()  # as another process would
    assert namespace not in subprocess.run(["ip", "netns"], capture_output=True,
                                           text=True).stdout
    links = subprocess.run(["ip", "link"], capture_output=True, text=True).stdout
    assert veth not in links and state["bridge"] not in links
    assert not any(pid_alive(pid) for pid in pids)
    assert not Path(state["workdir"]).exists()
    assert not (NETNS_ETC / namespace).exists()


@pytest.mark.idempotent_id("0a7e2a4e-3c55-4bb4-8e43-6c1f1b0d2a11")
def test_a_new_host_has_no_guests_whoever_connects() -> None:
    """libvirt's test driver starts with a demo guest, and nova-compute refuses to start as a
    new service beside one: it must stay gone for every later connection."""
    testbed = ComputeHosts(count=1).up()
    try:
        host = testbed.hosts[0]
        for _ in range(3):  # each virsh call is a new connection
            listed = testbed.virsh(host, "list --all --name")
            assert listed.returncode == 0, listed.stderr
            assert listed.stdout.split() == []
    finally:
        testbed.down()
