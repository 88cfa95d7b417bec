"""nova-compute for a namespace host: the launcher that bridges libvirt's test driver, and the
start/stop/health script the whitebox inventory restarts it with.

nova-compute runs unmodified from PyPI with the real libvirt driver, connected to its host's
libvirtd (test driver). It runs in the machine's network namespace (RabbitMQ, keystone and
placement listen on 127.0.0.1), even when started over SSH from inside the host's namespace:
the testbed names the machine's namespace (``ip netns attach``) and the script enters it.
"""

from __future__ import annotations

import shlex
from pathlib import Path

#: STAND-IN for four answers libvirt's test driver gives differently from QEMU. Each was seen
#: to stop Nova without it (nova-testbed notes): the version (Nova needs QEMU >= 6.2), the
#: hypervisor type (NUMA support is only reported for QEMU/KVM), the online CPU map (the test
#: driver says only 0,2,4 of 8 are online) and the guest capabilities (i686, no machine types).
#: Host NUMA cells, CPUs, memory and everything about domains come from libvirtd unchanged.
LAUNCHER = '''\
"""nova-compute on libvirt's test driver (tcup testbed). STAND-IN for four libvirt answers:
getVersion (QEMU 8.2.2), getType (QEMU), getCPUMap (16 CPUs online), getCapabilities (x86_64
hvm guests with pc/q35 machines). The host topology, domains and their XML are libvirtd's."""
import os
import sys

import libvirt
from lxml import etree

from nova.cmd import compute

with open(os.environ["TCUP_NOVA_PIDFILE"] + ".tmp", "w") as handle:
    handle.write(str(os.getpid()))
os.rename(os.environ["TCUP_NOVA_PIDFILE"] + ".tmp", os.environ["TCUP_NOVA_PIDFILE"])

Connection = libvirt.virConnect
_capabilities = Connection.getCapabilities


def getVersion(self):
    return 8002002


def getType(self):
    return "QEMU"


def getCPUMap(self, flags=0):
    return (16, [True] * 16, 16)


def getCapabilities(self):
    root = etree.fromstring(_capabilities(self).encode())
    root.find("./host/cpu/arch").text = "x86_64"
    for guest in root.findall("./guest"):
        root.remove(guest)
    guest = etree.SubElement(root, "guest")
    etree.SubElement(guest, "os_type").text = "hvm"
    arch = etree.SubElement(guest, "arch", name="x86_64")
    etree.SubElement(arch, "wordsize").text = "64"
    etree.SubElement(arch, "emulator").text = "/usr/bin/qemu-system-x86_64"
    for machine in ("pc", "q35"):
        etree.SubElement(arch, "machine", maxCpus="255").text = machine
    for kind in ("qemu", "kvm"):
        etree.SubElement(arch, "domain", type=kind)
    return etree.tostring(root, encoding="unicode")


for patch in (getVersion, getType, getCPUMap, getCapabilities):
    setattr(Connection, patch.__name__, patch)
sys.exit(compute.main())
'''

_CTL = """\
#!/bin/sh
# nova-compute of {name} (tcup testbed): start | stop | health. Runs in the machine's network
# namespace via '{root_netns}', wherever this script is called from (SSH lands in {name}).
PID={pidfile}
LOG={log}
case "$1" in
start)
  [ -f "$LOG" ] && mv "$LOG" "$LOG.prev"
  rm -f $PID
  TCUP_NOVA_PIDFILE=$PID ip netns exec {root_netns} setsid {command} \\
    >>{out} 2>&1 </dev/null &
  timeout 30 sh -c "while [ ! -f $PID ]; do sleep 0.1; done" ;;
stop)
  [ -f $PID ] || exit 0
  kill -TERM -$(cat $PID) 2>/dev/null
  timeout 10 sh -c "while kill -0 $(cat $PID) 2>/dev/null; do sleep 0.2; done" \\
    || kill -KILL -$(cat $PID) 2>/dev/null
  timeout 5 sh -c "while kill -0 $(cat $PID) 2>/dev/null; do sleep 0.1; done"
  rm -f $PID ;;
health)
  [ -f $PID ] && kill -0 $(cat $PID) 2>/dev/null && ! grep -q CRITICAL "$LOG" 2>/dev/null ;;
*)
  echo "usage: $0 start|stop|health" >&2; exit 2 ;;
esac
"""


def write_compute_files(*, name: str, host_dir: Path, python: str, config_files: list[Path],
                        root_netns: str) -> Path:
    """Write the launcher and ``nova-compute-ctl`` into ``host_dir``; returns the script."""
    launcher = host_dir / "nova-compute-launcher.py"
    launcher.write_text(LAUNCHER)
    argv = [python, str(launcher)]
    for path in config_files:
        argv += ["--config-file", str(path)]
    script = host_dir / "nova-compute-ctl"
    script.write_text(_CTL.format(
        name=name, root_netns=root_netns, pidfile=host_dir / "nova-compute.pid",
        log=host_dir / "nova-compute.log", out=host_dir / "nova-compute.out",
        command=shlex.join(argv)))
    script.chmod(0o755)
    return script


def helper_command(venv_bin: str, config_files: list[Path]) -> str:
    """``[nova_sys_admin] helper_command``: privsep without sudo (we are root already)."""
    argv = [f"{venv_bin}/privsep-helper"]
    for path in config_files:
        argv += ["--config-file", str(path)]
    return shlex.join(argv)
