"""`tempest run` (stestr) against `tcup run` (pytest + xdist) on the same keystone.

Both get the same tempest.conf and the same identity test list (RefStack format, from
``stestr list``). Printed:

- run: wall time of each with 2 workers, and the ratio tcup / tempest (goal <= 0.85). The
  runs go tempest, tcup, tcup, tempest and the ratio is of the sums: keystone gets slower
  with every run (its revocation events pile up), which would favour whichever ran first;
- overhead: the CPU a serial ``tcup run`` spends in its run loop outside the tests' setup,
  call and teardown (``benchmarks/plugins/harness_cpu.py``), per test (goal <= 5 ms);
- collection: all ``tempest.api`` collected by ``pytest --tempest`` vs ``stestr list``
  (same test set checked; goal ratio <= 1.0).

    python benchmarks/tempest_vs_tcup.py [--skip-overhead] [--json]

Uses the cloud in OS_* when set, else starts a keystone-only testbed in a temporary
directory and stops it at the end. The machine is shared: run it twice, trust neither alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tcup_pytest.config import CloudConfig
from tcup_pytest.tempest import conf, discover
from tcup_pytest.tempest.compare import RunCounts

BIN = Path(sys.executable).parent
PLUGINS = Path(__file__).parent / "plugins"
IDENTITY = r"^tempest\.api\.identity\."


def timed(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[:3]} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout + proc.stderr


def stestr_cmd() -> list[str]:
    base = discover.tempest_dir()
    return [str(BIN / "stestr"), "--test-path", str(base / "test_discover"),
            "--top-dir", str(base.parent)]


def bench(work: Path, env: dict[str, str], overhead: bool) -> dict[str, float]:
    ws = work / "ws"
    # tempest init registers the workspace in ~/.tempest: keep that registry in `work`
    subprocess.run([str(BIN / "tempest"), "init", str(ws)], check=True, capture_output=True,
                   env={**env, "HOME": str(work)})
    cloud = CloudConfig.load(prompt=False)
    conf_path = conf.render(cloud, ws / "etc", options=[])
    env = {**env, "TEMPEST_CONFIG_DIR": str(conf_path.parent), "TEMPEST_CONFIG": "tempest.conf"}
    listing = subprocess.run([*stestr_cmd(), "list", IDENTITY], cwd=ws, env=env,
                             capture_output=True, text=True, check=True).stdout
    ids = [ln for ln in listing.splitlines() if ln.startswith("tempest.")]
    test_list = work / "identity.txt"  # RefStack format, for tcup
    test_list.write_text("\n".join(ids) + "\n")
    stestr_list = work / "identity.regex"  # the same list as stestr needs it (regexes)
    stestr_list.write_text("\n".join(f"^{re.escape(i)}$" for i in ids) + "\n")
    out: dict[str, float] = {"tests": len(ids)}

    # --no-upload: tempest run uploads nothing either; everything else is saved as usual
    tcup = [str(BIN / "tcup"), "run", "--no-upload", "--tempest-conf", str(conf_path)]
    walls: dict[str, list[float]] = {"tempest": [], "tcup": []}
    seen = []  # every run's counts and passed names: all must be equal
    for n, which in enumerate(("tempest", "tcup", "tcup", "tempest")):
        if which == "tempest":
            wall, text = timed([str(BIN / "tempest"), "run", "--include-list", str(stestr_list),
                                "--concurrency", "2"], cwd=ws, env=env)
            counts = RunCounts.from_stestr_output(text)
        else:
            junit = work / f"j2-{n}.xml"
            wall, _ = timed([*tcup, "--test-list", str(test_list), "-j", "2",
                             "--junitxml", str(junit)], cwd=work, env=env)
            counts = RunCounts.from_junit(junit)
        walls[which].append(wall)
        seen.append((counts.as_tuple(), counts.passed_names))
        print(f"{which:<8}: {counts.as_tuple()} (passed, failed, skipped) in {wall:.1f} s")
    out["same_results"] = float(all(run == seen[0] for run in seen))
    t_wall, p_wall = sum(walls["tempest"]), sum(walls["tcup"])
    out.update({"tempest_run_s": t_wall / 2, "tcup_run_s": p_wall / 2,
                "run_ratio": p_wall / t_wall})

    if overhead:  # CPU, not wall: keystone's speed drifts by more than the harness costs
        cpu_file = work / "harness-cpu.json"
        plugin_env = {**env, "TCUP_HARNESS_CPU": str(cpu_file), "PYTHONPATH": os.pathsep.join(
            filter(None, [str(PLUGINS), env.get("PYTHONPATH")]))}
        s_wall, _ = timed([*tcup, "--test-list", str(test_list), "-j", "1", "--junitxml",
                           str(work / "j1.xml"), "--", "-p", "harness_cpu"],
                          cwd=work, env=plugin_env)
        cpu = json.loads(cpu_file.read_text())
        out.update({"serial_s": s_wall, "serial_test_cpu_s": cpu["test_cpu_s"],
                    "overhead_ms_per_test":
                    (cpu["loop_cpu_s"] - cpu["test_cpu_s"]) / cpu["items"] * 1000})

    api_list = work / "api.txt"
    api_list.write_text("tempest.api\n")
    c_wall, c_text = timed([*tcup, "--test-list", str(api_list), "-j", "1",
                            "--junitxml", str(work / "c.xml"), "--", "--collect-only", "-q"],
                           cwd=work, env=env)
    s_wall, s_text = timed([*stestr_cmd(), "list", r"^tempest\.api\."], cwd=ws, env=env)
    ours_n = next((ln.split("/")[0].split()[0] for ln in c_text.splitlines()
                   if "collected" in ln), "?")
    stestr_n = sum(1 for ln in s_text.splitlines() if ln.startswith("tempest.api."))
    out.update({"collect_pytest_s": c_wall, "collect_stestr_s": s_wall,
                "collect_ratio": c_wall / s_wall, "collect_same_count":
                float(str(stestr_n) == ours_n)})
    print(f"collection : pytest {ours_n} tests {c_wall:.2f} s, stestr {stestr_n} {s_wall:.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tcup-bench-") as tmp:
        work = Path(tmp)
        bed = None
        env = dict(os.environ)
        if not env.get("OS_AUTH_URL") and not env.get("OS_CLOUD"):
            from tcup_pytest.testbed import ADMIN_CLOUD, Testbed

            bed = Testbed(work / "bed", components=["keystone"])
            bed.up()
            env.update(bed.env(ADMIN_CLOUD))
            os.environ.update(bed.env(ADMIN_CLOUD))
        try:
            result = bench(work, env, overhead=not args.skip_overhead)
        finally:
            if bed is not None:
                bed.down()
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value:.3f}")


if __name__ == "__main__":
    main()
