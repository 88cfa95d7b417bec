"""20 commands on a namespace compute host: our reused-connection Host vs the Whitebox
plugin's way (a new SSH connection per command). Prints both times and the ratio.

    sudo .venv/bin/python benchmarks/whitebox_ssh.py [--commands 20] [--rounds 3]

Builds one namespace host (tcup_pytest.testbed.hosts) and removes it afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import time

from fabric import Config, Connection

from tcup_pytest.testbed.hosts import ComputeHosts
from tcup_pytest.whitebox.hosts import Host

#: What whitebox tests typically run on a compute host.
COMMANDS = ["hostname", "virsh list --all --name", "head -1 /proc/meminfo",
            "test -e /etc/hostname"]


def reused(url: str, commands: list[str]) -> float:
    start = time.perf_counter()
    with Host(url) as host:  # connects on the first command, then reuses
        for command in commands:
            host.check_output(command)
    return time.perf_counter() - start


def connection_per_command(address: str, key: str, commands: list[str]) -> float:
    start = time.perf_counter()
    for command in commands:
        conn = Connection(address, user="root", port=22, connect_timeout=10,
                          config=Config(lazy=True, overrides={"load_ssh_configs": False}),
                          connect_kwargs={"key_filename": key, "look_for_keys": False,
                                          "allow_agent": False})
        try:
            result = conn.run(command, hide=True, warn=True, in_stream=False)
            assert result.exited == 0, result.stderr
        finally:
            conn.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    commands = [COMMANDS[i % len(COMMANDS)] for i in range(args.commands)]
    with ComputeHosts(count=1) as testbed:
        target = testbed.hosts[0]
        url = f"ssh://root@{target.address}:22?key={testbed.key}"
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(reused(url, commands))
            theirs.append(connection_per_command(target.address, str(testbed.key), commands))
    mine, plugin = statistics.median(ours), statistics.median(theirs)
    print(f"{args.commands} commands, median of {args.rounds} rounds")
    print(f"  Host (one reused connection):  {mine:.2f} s")
    print(f"  new SSH connection per command: {plugin:.2f} s")
    print(f"  ratio: {mine / plugin:.2f}")


if __name__ == "__main__":
    main()
