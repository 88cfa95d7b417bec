"""How long the local testbed takes to start, in the three situations users meet.

- cold: nothing running, virtualenvs cached (the usual test-session start);
- warm: already running in the state dir (``up()`` reuses it), in-process and from a new
  ``tcup testbed up`` process (a second pytest session, say);
- first: an empty virtualenv cache (a fresh machine; pip's own cache and wheelhouse as they
  are), which adds the ``pip install`` of every component.

    python benchmarks/testbed_start.py [--repeat 2] [--skip-first] [--json]

Every testbed it starts lives in a temporary directory and is stopped before it exits.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tcup_pytest.testbed import DEFAULT_COMPONENTS, Testbed


def timed_up(bed: Testbed) -> tuple[float, dict[str, float]]:
    start = time.monotonic()
    timings = bed.up()
    return time.monotonic() - start, timings


def cold_and_warm(root: Path, components: list[str]) -> dict[str, float]:
    bed = Testbed(root / "bed", components=components)
    try:
        cold, timings = timed_up(bed)
        warm, _ = timed_up(Testbed(root / "bed", components=components))
        start = time.monotonic()
        subprocess.run([sys.executable, "-m", "tcup_pytest.cli", "testbed", "up",
                        "--state-dir", str(root / "bed"), "--components", ",".join(components)],
                       check=True, capture_output=True)
        warm_process = time.monotonic() - start
    finally:
        start = time.monotonic()
        bed.down()
        down = time.monotonic() - start
    return {"cold": cold, "cold.prepare": timings["prepare"], "warm": warm,
            "warm.new_process": warm_process, "down": down}


def first_start(root: Path, components: list[str]) -> dict[str, float]:
    """Start with an empty virtualenv cache of our own (the shared one is left alone)."""
    cache = root / "empty-cache"
    os.environ["TCUP_CACHE_DIR"] = str(cache)
    try:
        bed = Testbed(root / "first", components=components)
        try:
            seconds, timings = timed_up(bed)
        finally:
            bed.down()
    finally:
        del os.environ["TCUP_CACHE_DIR"]
        shutil.rmtree(cache, ignore_errors=True)
    venvs = {f"first.{k}": v for k, v in timings.items() if k.endswith(".venv")}
    return {"first_empty_venv_cache": seconds, **venvs}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", default=",".join(DEFAULT_COMPONENTS))
    parser.add_argument("--repeat", type=int, default=2, help="cold/warm rounds (median)")
    parser.add_argument("--skip-first", action="store_true",
                        help="skip the start with an empty virtualenv cache (~1 min)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    components = args.components.split(",")

    if os.environ.get("TCUP_CACHE_DIR"):
        print(f"virtualenv cache: {os.environ['TCUP_CACHE_DIR']}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="tcup-bench-") as tmp:
        root = Path(tmp)
        rounds = [cold_and_warm(root / f"r{i}", components) for i in range(args.repeat)]
        result = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        if not args.skip_first:
            result.update(first_start(root, components))
    result = {k: round(v, 2) for k, v in result.items()}
    load = os.getloadavg()[0]
    if args.json:
        print(json.dumps({"components": components, "load1": load, **result}))
    else:
        print(f"testbed start ({', '.join(components)}; {os.cpu_count()} cores, "
              f"load {load:.1f}; median of {args.repeat})")
        for key, seconds in result.items():
            print(f"  {key:<24} {seconds:7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
