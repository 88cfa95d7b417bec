"""The TCUP container: image build times, image size, and launcher start -> first test.

- build, cached layers: the checkout's image as CI meets it (layers in the cached data root);
- build after a code change: the image from a freshly built wheel whose code differs, so only
  the last layers are rebuilt;
- build, cold (``--cold``): an empty throw-away data root, every layer from scratch;
- start: ``tcup.py`` with a warm image, from its start to the first test starting (pytest -v
  prints a test's id when it starts), against the local testbed's keystone.

    python benchmarks/container_start.py [--cold] [--repeat 3]

Everything runs on a private dockerd (stopped at the end); the testbed is reused from
$TCUP_TESTBED_DIR or started in a temporary directory and stopped. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tcup_pytest.testbed import MEMBER_CLOUD, Testbed
from tcup_pytest.testbed.docker import BASE_IMAGE, DockerEngine, rootfs_tarball

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "container" / "tcup.py"
TEST = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"


def launcher_env(engine: DockerEngine, cloud: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "DOCKER_", "TCUP_"))}
    return {**env, "DOCKER_HOST": engine.url, "PYTHONUNBUFFERED": "1", **cloud}


def build(engine: DockerEngine, *extra: str) -> tuple[float, str]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(LAUNCHER), "--base-image", BASE_IMAGE,
                           "--build-only", *extra], env=launcher_env(engine, {}),
                          capture_output=True, text=True, check=True)
    return time.monotonic() - start, proc.stdout.split()[-1]


def changed_wheel(work: Path) -> Path:
    """A wheel of this tree with one changed module: what a code change does to the image."""
    src = work / "src"
    src.mkdir(parents=True)
    for name in ("pyproject.toml", "README.md", "tcup_pytest", "tests_api", "tests_whitebox"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(ROOT / name, src / name)
    with open(src / "tcup_pytest" / "container.py", "a") as out:
        out.write(f"\n# benchmark change {time.time()}\n")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(work / "dist"), str(src)], check=True, capture_output=True)
    return next((work / "dist").glob("*.whl"))


def first_test(engine: DockerEngine, cloud: dict[str, str], work: Path) -> dict[str, float]:
    """Seconds from the launcher's start to: the container running, the first test started."""
    listing = work / "list.txt"
    listing.write_text(TEST + "\n")
    argv = [sys.executable, str(LAUNCHER), "--base-image", BASE_IMAGE, "--no-upload",
            "--test-list", str(listing), "-j", "1", "--results", str(work / "results"),
            "--", "--", "-v"]
    start = time.monotonic()
    marks: dict[str, float] = {}
    seen = b""
    # Read raw chunks, not lines: pytest -v writes a test's id when it starts, and its
    # outcome on the same line only when it ends.
    with subprocess.Popen(argv, env=launcher_env(engine, cloud), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                          cwd=work) as proc:
        assert proc.stdout is not None
        while chunk := os.read(proc.stdout.fileno(), 65536):
            now = time.monotonic() - start
            seen += chunk
            if os.environ.get("TCUP_BENCH_VERBOSE"):
                print(f"{now:6.2f} {chunk.decode(errors='replace')}", end="")
            if b"tcup.py: running" in seen:
                marks.setdefault("container", now)
            if b"::test_create_token" in seen:
                marks.setdefault("first_test", now)
        marks["exit"] = time.monotonic() - start
    if proc.returncode:
        print(f"(a run exited with {proc.returncode})")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="also build with empty layers")
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    had_rootfs = rootfs_tarball().exists()
    with tempfile.TemporaryDirectory(prefix="tcup-bench-") as tmp:
        work = Path(tmp)
        shared = os.environ.get("TCUP_TESTBED_DIR")
        bed = Testbed(shared) if shared else Testbed(work / "testbed")
        bed.up()
        try:
            with DockerEngine(work / "dockerd") as engine:
                engine.ensure_base_image()
                print(f"dockerd start: {engine.timings['dockerd.start']:.1f} s; data root "
                      f"{engine.data_root}")
                if not had_rootfs:
                    print(f"rootfs (debootstrap): {engine.timings.get('rootfs.build', 0):.1f} s")
                if "base.import" in engine.timings:
                    print(f"base image import: {engine.timings['base.import']:.1f} s")
                seconds, tag = build(engine)
                print(f"image build, checkout, cached layers: {seconds:.1f} s")
                size = engine.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout
                print(f"image size: {int(size) / 1e6:.0f} MB ({tag})")
                seconds, wheel_tag = build(engine, "--package", str(changed_wheel(work)))
                print(f"image build after a code change (last layers): {seconds:.1f} s")
                engine.docker("rmi", wheel_tag)
                runs = [first_test(engine, bed.env(MEMBER_CLOUD), work)
                        for _ in range(opts.repeat)]
                for key in ("container", "first_test", "exit"):
                    values = [r[key] for r in runs if key in r]
                    if values:
                        print(f"launcher start -> {key}: median {statistics.median(values):.2f}"
                              f" s (runs: {', '.join(f'{v:.2f}' for v in values)})")
            if opts.cold:
                with DockerEngine(work / "cold", data_root=work / "cold-data") as engine:
                    engine.ensure_base_image()
                    seconds, _ = build(engine)
                    print(f"image build, cold (empty data root): {seconds:.1f} s "
                          f"(+ base import {engine.timings.get('base.import', 0):.1f} s)")
        finally:
            if not shared:
                bed.down()


if __name__ == "__main__":
    main()
