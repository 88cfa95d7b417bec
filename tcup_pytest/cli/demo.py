"""`tcup demo`: the whole flow on this machine with no cloud of one's own.

Brings up the local testbed (real keystone, glance, placement), runs the native API tests
against it as the testbed's admin with two xdist workers, shows the outcome and where every
artifact is, then tears the testbed down (``--keep`` leaves it running).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from tcup_pytest.errors import ExitCode


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the tests against a local testbed",
                                   description=__doc__)
    parser.add_argument("--keep", action="store_true",
                        help="leave the testbed running afterwards (stop: tcup testbed down)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where results go (default: ./tcup-results/demo-<time>)")
    parser.add_argument("-j", "--workers", type=int, default=2, help="xdist workers")
    parser.set_defaults(func=demo)


def demo(args: argparse.Namespace) -> int:
    from tcup_pytest.testbed import ADMIN_CLOUD, Testbed

    out = args.output_dir or Path("tcup-results") / f"demo-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    testbed = Testbed()
    print(f"==> starting the local testbed in {testbed.state_dir} ...", flush=True)
    timings = testbed.up()
    started_here = not testbed.reused
    print(f"    {'reused the running testbed' if testbed.reused else 'up'} in "
          f"{timings.get('total', timings.get('reuse', 0)):.1f} s; keystone at "
          f"{testbed.auth_url}", flush=True)
    try:
        junit = out / "junit.xml"
        print(f"==> running tests_api as {ADMIN_CLOUD} with {args.workers} workers", flush=True)
        began = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(testbed.env(ADMIN_CLOUD))
        proc = subprocess.run([sys.executable, "-m", "pytest", "--pyargs", "tests_api",
                               "-n", str(args.workers), "-p", "no:cacheprovider", "-q",
                               f"--junitxml={junit}", "-o", "junit_family=xunit2"],
                              env=env, stdin=subprocess.DEVNULL)
        elapsed = time.monotonic() - began
        print(f"==> results ({elapsed:.1f} s): {summarise(junit)}")
        print(f"    junit XML: {junit.resolve()}")
        print(f"    testbed logs: {testbed.state_dir}")
        return ExitCode.OK if proc.returncode == 0 else ExitCode.TESTS_FAILED
    finally:
        if args.keep or not started_here:
            print(f"==> testbed left running; clouds.yaml: {testbed.clouds_yaml}; "
                  "stop it with: tcup testbed down")
        else:
            testbed.down()
            print("==> testbed stopped")


def summarise(junit: Path) -> str:
    """'N passed, N failed, N skipped' from a junit file (the plain closing-line form)."""
    if not junit.exists():
        return "no results written"
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for case in ET.parse(junit).iter("testcase"):
        tags = {child.tag for child in case}
        key = ("failed" if tags & {"failure", "error"} else
               "skipped" if "skipped" in tags else "passed")
        counts[key] += 1
    return ", ".join(f"{n} {k}" for k, n in counts.items())
