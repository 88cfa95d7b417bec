"""`tcup demo`: the whole interop flow on this machine, with no cloud of one's own.

Brings up the local testbed (real keystone, glance, placement and a RefStack server), runs the
identity and image parts of the 2020.06 interop guideline through `tcup run` as the testbed's
admin, uploads the result to the local RefStack server, prints the verdict and where every
artifact is, then tears the testbed down (``--keep`` leaves it running; a testbed that was
already running is always left as found).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

GUIDELINE = "2020.06"
#: the parts of the guideline the testbed has services for
PARTS = r"^tempest\.api\.(identity|image)\."
COMPONENTS = ("keystone", "glance", "placement", "refstack")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo", help="the interop flow end to end against a local testbed",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true",
                        help="leave the testbed running afterwards (stop: tcup testbed down)")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="where results go (default: ./tcup-results/demo-<time>)")
    parser.add_argument("-j", "--workers", type=int, default=2, help="xdist workers")
    parser.set_defaults(func=demo)


def step(text: str) -> None:
    print(f"==> {text}", flush=True)


def demo(args: argparse.Namespace) -> int:
    from tcup_pytest.testbed import ADMIN_CLOUD, Testbed

    out = args.output_dir or Path("tcup-results") / f"demo-{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    testbed = Testbed(components=COMPONENTS)
    was_running = testbed.state_dir.joinpath("state.json").exists() and testbed.running
    step(f"starting the local testbed ({', '.join(COMPONENTS)}) in {testbed.state_dir}")
    timings = testbed.up()
    print(f"    {'reused' if testbed.reused else 'up'} in "
          f"{timings.get('total', timings.get('reuse', 0)):.1f} s; keystone "
          f"{testbed.auth_url}, RefStack {testbed.url('refstack')}", flush=True)
    try:
        run_dir = (out / "run").resolve()
        step(f"tcup run: interop guideline {GUIDELINE}, its identity and image tests, "
             f"{args.workers} workers, upload to the local RefStack")
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update(testbed.env(ADMIN_CLOUD))
        proc = subprocess.run(
            [sys.executable, "-m", "tcup_pytest.cli", "run", "--guideline", GUIDELINE,
             "--include", PARTS, "-j", str(args.workers), "--run-dir", str(run_dir),
             "--url", testbed.url("refstack"), "--", "-p", "no:cacheprovider",
             "--progress-interval=5"],
            env=env, stdin=subprocess.DEVNULL, cwd=out)
        show_outcome(run_dir, testbed)
        return proc.returncode
    finally:
        if args.keep or was_running:
            step(f"testbed left running; clouds.yaml: {testbed.clouds_yaml}; "
                 f"stop it with: tcup testbed down --state-dir {testbed.state_dir}")
        else:
            testbed.down()
            step("testbed stopped")


def show_outcome(run_dir: Path, testbed) -> None:
    """The verdict's last line, the RefStack receipt (read back from the server) and the
    artifacts, with absolute paths."""
    from tcup_pytest.refstack.client import RefStackClient

    step("outcome")
    verdict = _json(run_dir / "verdict.json")
    if verdict:
        required = [c for c in verdict["capabilities"] if c["status"] == "required"]
        print(f"    verdict: {'PASS' if verdict['passed'] else 'FAIL'} for guideline "
              f"{verdict['guideline']} ({verdict['target']}): "
              f"{sum(c['state'] == 'passed' for c in required)} of {len(required)} required "
              "capabilities passed; this testbed has no compute, network or storage service")
        parts = [c for c in required
                 if any(re.match(PARTS, t["name"]) for t in c["tests"])]
        print(f"    of its identity and image parts: "
              f"{sum(c['state'] == 'passed' for c in parts)} of {len(parts)} passed")
        for cap in parts:
            reasons = {t["reason"] for t in cap["tests"] if t["outcome"] != "passed"}
            if cap["state"] != "passed":
                print(f"      {cap['name']}: {cap['state']} ({'; '.join(sorted(reasons))})")
    upload = _json(run_dir / "run.json").get("upload") or {}
    if upload.get("test_id"):
        stored = RefStackClient(testbed.url("refstack")).result(upload["test_id"])
        print(f"    RefStack: run {upload['test_id']} stored with "
              f"{len(stored.get('results', []))} passed tests: {upload['result_url']}")
    elif upload.get("error"):
        print(f"    RefStack: upload failed: {upload['error']}")
    print("    artifacts:")
    for path in sorted(run_dir.iterdir()):
        print(f"      {path.resolve()}")
    print(f"    testbed logs: {testbed.state_dir}/<service>/")


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}

