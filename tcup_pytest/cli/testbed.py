"""`tcup testbed up|down|status`: the local testbed of real OpenStack services.

Never prints a password: it names the files that hold them (0600, in a 0700 directory).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from tcup_pytest.errors import ExitCode

if TYPE_CHECKING:
    from tcup_pytest.testbed import Testbed

HELP = "start, inspect or stop the local testbed (real keystone, glance, placement)"


def register(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, default=None,
                        help="where the testbed keeps its state (default: $TCUP_TESTBED_DIR "
                             "or ~/.cache/tcup-pytest/testbed/default)")
    parser = subparsers.add_parser("testbed", help=HELP, description=HELP)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    up = actions.add_parser("up", parents=[common],
                            help="start it, or reuse the one running in the state dir")
    up.add_argument("--components", default="keystone,glance,placement",
                    help="comma-separated components (default: %(default)s)")
    up.set_defaults(func=_up)

    status = actions.add_parser("status", parents=[common],
                                help=f"show what runs; exit {int(ExitCode.TESTBED)} if not all")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(func=_status)

    down = actions.add_parser("down", parents=[common],
                              help="stop the processes it started and remove its state")
    down.set_defaults(func=_down)


def _testbed(args: argparse.Namespace, components: str | None = None) -> Testbed:
    from tcup_pytest.testbed import DEFAULT_COMPONENTS, Testbed

    names = [n.strip() for n in components.split(",") if n.strip()] if components else None
    return Testbed(args.state_dir, components=names or DEFAULT_COMPONENTS)


def _up(args: argparse.Namespace) -> int:
    testbed = _testbed(args, args.components)
    timings = testbed.up()
    if testbed.reused:
        print(f"testbed already running in {testbed.state_dir} (reused in "
              f"{timings['reuse']:.2f} s)")
    else:
        print(f"testbed up in {timings.get('total', 0):.1f} s ({testbed.state_dir})")
        print(format_timings(timings))
    print()
    for name, component in testbed.status()["components"].items():
        print(f"  {name:<10} {component.get('url', '')}")
    print(usage(testbed))
    return int(ExitCode.OK)


def format_timings(timings: dict[str, float]) -> str:
    """Per-component phases, then the wall time of each stage; parallel phases overlap."""
    from tcup_pytest.testbed import COMPONENTS

    order = list(COMPONENTS)
    steps = [k for k in timings if "." in k]
    steps.sort(key=lambda k: order.index(c) if (c := k.split(".", 1)[0]) in order else 99)
    stages = [k for k in ("prepare", "services", "total") if k in timings]
    lines = [f"  {k:<28} {timings[k]:6.2f} s" for k in steps]
    lines.append("  (components prepare in parallel; wall time per stage:)")
    lines += [f"  {k:<28} {timings[k]:6.2f} s" for k in stages]
    return "\n".join(lines)


def usage(testbed: Testbed) -> str:
    names = " or ".join(testbed.cloud_names)
    state = f" --state-dir {testbed.state_dir}"
    return "\n".join([
        "",
        "point clients at it (the files hold the passwords; they are private to you):",
        f"  export OS_CLIENT_CONFIG_FILE={testbed.clouds_yaml}",
        f"  export OS_CLOUD={testbed.cloud_names[0]}      # clouds: {names}",
        "or load OS_* variables:",
        *(f"  . {testbed.openrc(c)}" for c in testbed.cloud_names),
        f"stop it: tcup testbed down{state}",
    ])


def _status(args: argparse.Namespace) -> int:
    report = _testbed(args).status()
    if args.json:
        print(json.dumps(report, indent=2))
    elif not report["components"]:
        print(f"no testbed in {report['state_dir']}")
    else:
        overall = "running" if report["running"] else "NOT running (some components are down)"
        print(f"testbed in {report['state_dir']}: {overall}")
        for name, comp in report["components"].items():
            state = "up" if comp["running"] else "down"
            pids = ",".join(map(str, comp.get("pids", [])))
            print(f"  {name:<10} {state:<5} {comp.get('url', ''):<28} pid {pids}  "
                  f"log {comp.get('log', '')}")
        print(f"  clouds.yaml: {report['clouds_yaml']} (clouds: {', '.join(report['clouds'])})")
    return int(ExitCode.OK if report["running"] else ExitCode.TESTBED)


def _down(args: argparse.Namespace) -> int:
    testbed = _testbed(args)
    had = bool(testbed.status()["components"])
    testbed.down()
    print(f"testbed in {testbed.state_dir} stopped" if had
          else f"no testbed in {testbed.state_dir}")
    return int(ExitCode.OK)
