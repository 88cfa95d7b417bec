"""Fake compute hosts: a network namespace each, with its own sshd and libvirtd (test driver).

Each host is what a whitebox test expects of a compute node: an SSH address, ``virsh`` that
sees the host's guests (libvirtd with the built-in test driver: pinned domains, no VMs), a
config file and a restartable service. The hosts sit on a private bridge in 198.18.0.0/15
(benchmarking range, unused on the machine), one /24 per testbed so two can coexist; every
name starts with ``tcw`` and the testbed id. Nova services can join later: the libvirt socket
lives on the shared filesystem and each host has its own ``etc/nova/nova-compute.conf``::

    >>> with ComputeHosts(count=2) as hosts:        # doctest: +SKIP
    ...     hosts.write_inventory(path)
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tcup_pytest.errors import TestbedError
from tcup_pytest.testbed.base import (
    ServiceProcess,
    ensure_debian_packages,
    pid_alive,
    run,
    stop_pid,
    wait_for,
)

PACKAGES = {"libvirtd": "libvirt-daemon", "virsh": "libvirt-clients",
            "/usr/sbin/sshd": "openssh-server", "ssh-keygen": "openssh-client",
            "ip": "iproute2", "socat": "socat"}
#: Host CPU layout of the libvirt test driver: 2 NUMA cells of 8 CPUs (0-7, 8-15).
CPU_DEDICATED_SET = "2-7,10-15"
CPU_SHARED_SET = "0-1,8-9"
NETNS_ETC = Path("/etc/netns")

_ECHO_SERVICE = '''\
"""tcw-echo: a tiny TCP service that answers its configured greeting (restart tests)."""
import configparser, os, socket, sys
cfg = configparser.ConfigParser()
cfg.read(sys.argv[1])
server = socket.create_server((cfg.get("server", "address"), cfg.getint("server", "port")))
greeting = cfg.get("DEFAULT", "greeting", fallback="hello")
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
while True:
    conn, _ = server.accept()
    conn.sendall(greeting.encode() + b"\\n")
    conn.close()
'''


@dataclass
class ComputeHost:
    name: str
    namespace: str
    veth: str
    address: str
    port: int
    dir: Path

    @property
    def socket(self) -> Path:
        return self.dir / "run" / "libvirt-sock"

    @property
    def libvirt_uri(self) -> str:
        return f"test+unix:///default?socket={self.socket}"

    @property
    def nova_conf(self) -> Path:
        return self.dir / "etc" / "nova" / "nova-compute.conf"

    @property
    def echo_conf(self) -> Path:
        return self.dir / "etc" / "tcw-echo" / "echo.conf"

    @property
    def echo_port(self) -> int:
        return 8300


class ComputeHosts:
    """``count`` namespace hosts; :meth:`up` builds them, :meth:`down` removes every trace."""

    def __init__(self, count: int = 2, *, names: list[str] | None = None,
                 workdir: Path | None = None) -> None:
        self.id = secrets.token_hex(3)
        self.names = names or [f"compute-{i + 1}" for i in range(count)]
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix=f"tcw{self.id}-"))
        self.bridge = f"tcw{self.id}br"
        self.network: ipaddress.IPv4Network | None = None
        self.hosts: list[ComputeHost] = []
        self.key = self.workdir / "id_ed25519"
        self._processes: list[ServiceProcess] = []
        self.log = self.workdir / "testbed.log"

    # building ------------------------------------------------------------------------------
    def up(self) -> ComputeHosts:
        if os.geteuid() != 0:
            raise TestbedError("namespace compute hosts need root (CAP_NET_ADMIN)")
        ensure_debian_packages(PACKAGES)
        try:
            self.network = _free_network(self.id)
            gateway = str(self.network.network_address + 1)
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key], log=self.log,
                what="making the client key")
            self._ip("link", "add", self.bridge, "type", "bridge")
            self._ip("addr", "add", f"{gateway}/24", "dev", self.bridge)
            self._ip("link", "set", self.bridge, "up")
            Path("/run/sshd").mkdir(exist_ok=True)
            for index, name in enumerate(self.names):
                self._host_up(index, name)
        except BaseException:
            self.down()
            raise
        return self

    def _ip(self, *args: str) -> None:
        run(["ip", *args], log=self.log, what=f"ip {' '.join(args)}")

    def _host_up(self, index: int, name: str) -> None:
        assert self.network is not None
        host = ComputeHost(name=name, namespace=f"tcw{self.id}c{index + 1}",
                           veth=f"tcw{self.id}h{index + 1}",
                           address=str(self.network.network_address + 11 + index), port=22,
                           dir=self.workdir / name)
        for sub in ("drivers", "run", "etc/nova", "etc/tcw-echo", "state"):
            (host.dir / sub).mkdir(parents=True, exist_ok=True)
        self._ip("netns", "add", host.namespace)
        self.hosts.append(host)  # so down() removes it even if the rest fails
        self._own_home(host)
        self._ip("link", "add", host.veth, "type", "veth", "peer", "name", "eth0", "netns",
                 host.namespace)
        self._ip("link", "set", host.veth, "master", self.bridge, "up")
        self._ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", "eth0")
        self._ip("-n", host.namespace, "link", "set", "eth0", "up")
        self._ip("-n", host.namespace, "link", "set", "lo", "up")
        self._start_libvirtd(host)
        self._write_configs(host)
        self._start_sshd(host)

    @staticmethod
    def _own_home(host: ComputeHost) -> None:
        """Give root a home of its own on this host (``ip netns exec`` mounts
        /etc/netns/NS/passwd over /etc/passwd): the machine's ~/.bashrc, which bash sources
        for every SSH command, stays out of the fake host."""
        home = host.dir / "root"
        home.mkdir(exist_ok=True)
        lines = []
        for line in Path("/etc/passwd").read_text().splitlines():
            fields = line.split(":")
            if fields[0] == "root" and len(fields) == 7:
                fields[5] = str(home)
            lines.append(":".join(fields))
        etc = NETNS_ETC / host.namespace
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "passwd").write_text("\n".join(lines) + "\n")

    def _in_namespace(self, host: ComputeHost, command: str) -> list[str]:
        # Own UTS namespace: libvirt's getHostname() (Nova's hypervisor_hostname) = host name.
        return ["ip", "netns", "exec", host.namespace, "unshare", "--uts", "sh", "-c",
                f"hostname {host.name} && exec {command}"]

    def _start_libvirtd(self, host: ComputeHost) -> None:
        conf = host.dir / "libvirtd.conf"
        conf.write_text(f'unix_sock_dir = "{host.dir / "run"}"\nunix_sock_rw_perms = "0770"\n'
                        'auth_unix_rw = "none"\nauth_unix_ro = "none"\n'
                        f'log_outputs = "3:file:{host.dir / "libvirtd.log"}"\n')
        daemon = ServiceProcess(
            f"libvirtd on {host.name}",
            self._in_namespace(host, f"libvirtd --config {conf} "
                                     f"--pid-file {host.dir / 'libvirtd.pid'}"),
            log=host.dir / "libvirtd.out", env={"LIBVIRT_DRIVER_DIR": str(host.dir / "drivers")})
        daemon.start()
        self._processes.append(daemon)
        wait_for(lambda: host.socket.exists() or not pid_alive(daemon.pid or 0), timeout=30,
                 what=f"libvirtd socket of {host.name}", log=daemon.log)
        if not host.socket.exists():
            raise TestbedError(f"libvirtd on {host.name} exited", hint=f"See {daemon.log}")
        # The test driver frees its state when the last client leaves: keep one connected.
        holder = ServiceProcess(f"libvirt holder of {host.name}",
                                ["virsh", "-c", host.libvirt_uri, "event", "--all", "--loop",
                                 "--timestamp"], log=host.dir / "events.log")
        holder.start()
        self._processes.append(holder)
        wait_for(lambda: self.virsh(host, "list --all").returncode == 0, timeout=30,
                 what=f"libvirtd on {host.name} answering")
        # The driver's built-in demo guest must go (nova-compute refuses to start as a new
        # service on a hypervisor that has guests). Removed before the holder has connected,
        # it comes back with the state the last client frees: check from a new connection.
        def demo_guest_gone() -> bool:
            self.virsh(host, "destroy test; undefine test")
            return "test" not in self.virsh(host, "list --all --name").stdout.split()

        wait_for(demo_guest_gone, timeout=30, what=f"the demo guest on {host.name} removed",
                 log=holder.log)

    def _write_configs(self, host: ComputeHost) -> None:
        host.nova_conf.write_text(
            f"[DEFAULT]\nhost = {host.name}\nstate_path = {host.dir / 'state'}\n\n"
            f"[libvirt]\nvirt_type = qemu\nconnection_uri = {host.libvirt_uri}\n\n"
            f"[compute]\ncpu_dedicated_set = {CPU_DEDICATED_SET}\n"
            f"cpu_shared_set = {CPU_SHARED_SET}\n")
        host.echo_conf.write_text(
            "# tcw-echo test service\n[DEFAULT]\ngreeting = hello\n\n"
            f"[server]\naddress = {host.address}\nport = {host.echo_port}\n")
        (host.dir / "echo.py").write_text(_ECHO_SERVICE)

    def _start_sshd(self, host: ComputeHost) -> None:
        host_key = host.dir / "ssh_host_ed25519_key"
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", host_key], log=self.log,
            what="making an sshd host key")
        shutil.copy(f"{self.key}.pub", host.dir / "authorized_keys")
        config = host.dir / "sshd_config"
        config.write_text("\n".join([
            f"Port {host.port}", f"ListenAddress {host.address}", f"HostKey {host_key}",
            f"PidFile {host.dir / 'sshd.pid'}", f"AuthorizedKeysFile {host.dir}/authorized_keys",
            "PasswordAuthentication no", "KbdInteractiveAuthentication no",
            "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no",
            "MaxStartups 100", "MaxSessions 100", "Subsystem sftp internal-sftp",
            f"SetEnv LIBVIRT_DEFAULT_URI={host.libvirt_uri} TCW_HOST={host.name}", ""]))
        sshd = ServiceProcess(f"sshd on {host.name}",
                              self._in_namespace(host, f"/usr/sbin/sshd -D -e -f {config}"),
                              log=host.dir / "sshd.log")
        sshd.start()
        self._processes.append(sshd)

        def listening() -> bool:
            if not pid_alive(sshd.pid or 0):
                raise TestbedError(f"sshd on {host.name} exited", hint=f"See {sshd.log}")
            with contextlib.suppress(OSError), socket.create_connection(
                    (host.address, host.port), timeout=1):
                return True
            return False
        wait_for(listening, timeout=30, what=f"sshd on {host.name}", log=sshd.log)

    # using --------------------------------------------------------------------------------
    def virsh(self, host: ComputeHost, commands: str) -> subprocess.CompletedProcess[str]:
        """Run ``;``-separated virsh commands against a host's libvirtd (from this machine)."""
        return subprocess.run(["virsh", "-q", "-c", host.libvirt_uri, commands],
                              capture_output=True, text=True, timeout=60)

    def define_guest(self, host: ComputeHost, xml: str, *, start: bool = True) -> None:
        path = host.dir / f"guest-{secrets.token_hex(4)}.xml"
        path.write_text(xml)
        name = _domain_name(xml)
        result = self.virsh(host, f"define {path}" + (f"; start {name}" if start else ""))
        if result.returncode != 0:
            raise TestbedError(f"defining a guest on {host.name} failed: {result.stderr.strip()}")

    def echo_commands(self, host: ComputeHost) -> dict[str, str]:
        """start/stop/health of the tcw-echo service, as an inventory describes them."""
        pid = host.dir / "echo.pid"
        start = (f"setsid {sys.executable} {host.dir / 'echo.py'} {host.echo_conf} {pid} "
                 f">>{host.dir / 'echo.log'} 2>&1 </dev/null &")
        # Wait until gone or a zombie (nobody may reap it soon: PID 1 is not ours).
        gone = ("p=$(cat {pid}); timeout 10 sh -c \"while [ -e /proc/$p ] && "
                "! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null; do sleep 0.05; done\"")
        stop = (f"if [ -f {pid} ]; then kill $(cat {pid}) 2>/dev/null; "
                f"{gone.format(pid=pid)}; rm -f {pid}; fi")
        health = (f"{sys.executable} -c \"import socket; "
                  f"socket.create_connection(('{host.address}', {host.echo_port}), 2)\"")
        return {"start": start, "stop": stop, "health": health}

    def inventory(self) -> dict[str, Any]:
        """The whitebox inventory describing these hosts (see tcup_pytest.whitebox.inventory)."""
        hosts: dict[str, Any] = {}
        for host in self.hosts:
            echo = self.echo_commands(host)
            hosts[host.name] = {
                "address": host.address, "ssh": {"port": host.port},
                "hypervisor_hostname": host.name,
                "cpu_dedicated_set": CPU_DEDICATED_SET, "cpu_shared_set": CPU_SHARED_SET,
                "services": {
                    "libvirt": None,
                    "nova-compute": {"config": [str(host.nova_conf)]},
                    "tcw-echo": {"start": echo["start"], "stop": echo["stop"],
                                 "config": [str(host.echo_conf)],
                                 "health": {"command": echo["health"], "timeout": 30}},
                }}
        return {"defaults": {"ssh": {"user": "root", "key": str(self.key), "timeout": 10}},
                "hosts": hosts}

    def write_inventory(self, path: Path, extra: dict[str, Any] | None = None) -> Path:
        path.write_text(yaml.safe_dump({**self.inventory(), **(extra or {})}, sort_keys=False))
        return path

    def relay_unix_socket(self, host: ComputeHost, port: int, path: str) -> None:
        """Serve a local unix socket (e.g. MariaDB's) on the host's own 127.0.0.1:``port``,
        as if the database ran on that host (for SSH tunnel tests)."""
        relay = ServiceProcess(
            f"socket relay on {host.name}",
            ["ip", "netns", "exec", host.namespace, "socat",
             f"TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr", f"UNIX-CONNECT:{path}"],
            log=host.dir / "relay.log")
        relay.start()
        self._processes.append(relay)
        wait_for(lambda: subprocess.run(
            ["ip", "netns", "exec", host.namespace, "ss", "-Hltn", f"sport = :{port}"],
            capture_output=True, text=True).stdout.strip() != "", timeout=15,
            what=f"relay on {host.name}:{port}", log=relay.log)

    def sshd_session_pids(self, host: ComputeHost) -> list[int]:
        """PIDs of the per-connection sshd children (to drop connections in tests)."""
        master = int((host.dir / "sshd.pid").read_text())
        return _children(master)

    # handing over to another process -----------------------------------------------------
    def state(self) -> dict[str, Any]:
        """What :meth:`from_state` needs to rebuild this testbed elsewhere (JSON-able), e.g.
        for ``tcup testbed down`` in a later process."""
        return {"id": self.id, "names": list(self.names), "workdir": str(self.workdir),
                "bridge": self.bridge, "network": str(self.network) if self.network else None,
                "hosts": [{"name": h.name, "namespace": h.namespace, "veth": h.veth,
                           "address": h.address, "port": h.port, "dir": str(h.dir)}
                          for h in self.hosts],
                "processes": [{"name": p.name, "pid": p.pid, "log": str(p.log)}
                              for p in self._processes if p.pid]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ComputeHosts:
        testbed = cls(names=list(state["names"]), workdir=Path(state["workdir"]))
        testbed.id, testbed.bridge = state["id"], state["bridge"]
        testbed.network = ipaddress.IPv4Network(state["network"]) if state.get("network") \
            else None
        testbed.hosts = [ComputeHost(name=h["name"], namespace=h["namespace"], veth=h["veth"],
                                     address=h["address"], port=int(h["port"]),
                                     dir=Path(h["dir"])) for h in state.get("hosts", [])]
        for entry in state.get("processes", []):
            process = ServiceProcess(entry["name"], [], log=Path(entry["log"]))
            process.pid = int(entry["pid"])
            testbed._processes.append(process)
        return testbed

    # tearing down ---------------------------------------------------------------------------
    def down(self) -> None:
        for process in reversed(self._processes):
            with contextlib.suppress(Exception):
                process.stop(timeout=10)
        self._processes.clear()
        for host in self.hosts:
            self._kill_namespace_processes(host)
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True)
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)
            shutil.rmtree(NETNS_ETC / host.namespace, ignore_errors=True)
        self.hosts.clear()
        with contextlib.suppress(OSError):
            NETNS_ETC.rmdir()  # only if empty: another testbed may be using it
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
        shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def _kill_namespace_processes(host: ComputeHost) -> None:
        """Whatever tests started on the host (services run over SSH) lives in its netns."""
        found = subprocess.run(["ip", "netns", "pids", host.namespace], capture_output=True,
                               text=True)
        for pid in (int(p) for p in found.stdout.split() if p.isdigit()):
            stop_pid(pid, timeout=5, sig=signal.SIGTERM)

    def __enter__(self) -> ComputeHosts:
        return self.up()

    def __exit__(self, *exc: object) -> None:
        self.down()


def _domain_name(xml: str) -> str:
    from lxml import etree
    return etree.fromstring(xml.encode()).findtext("name") or ""


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    with contextlib.suppress(OSError):
        return [int(p) for p in path.read_text().split()]
    return []


def _free_network(testbed_id: str) -> ipaddress.IPv4Network:
    """A /24 in 198.18.0.0/15 that nothing on this machine uses, picked from the id."""
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    used += subprocess.run(["ip", "-4", "-o", "route"], capture_output=True, text=True).stdout
    start = int(testbed_id, 16) % 512
    for offset in range(512):
        index = (start + offset) % 512
        network = ipaddress.IPv4Network(f"198.{18 + index // 256}.{index % 256}.0/24")
        if f"198.{18 + index // 256}.{index % 256}." not in used:
            return network
    raise TestbedError("no free /24 left in 198.18.0.0/15 for namespace hosts")
