"""The TCUP container: image build times, image size, and launcher start -> first test.

- build, cached layers: the checkout's image as CI meets it (layers in the cached data root);
- build after a code change: the image from a freshly built wheel whose code differs, so only
  the last layers are rebuilt;
- build, cold (``--cold``): an empty throw-away data root, every layer from scratch;
- start: ``tcup.py`` with a warm image and a fresh container, tempest.conf discovered from the
  local testbed's keystone as in any run, from the launcher's start to the first test starting
  (pytest -v prints a test's id when it starts; with xdist, ``--workers`` > 1, only when it
  ends). Also printed: when the container runs, nox's session starts and pytest's session
  starts (after tempest.conf discovery).

    python benchmarks/container_start.py [--cold] [--repeat 5] [--workers 1]

The launcher runs from a snapshot of the checkout, so edits made to the working tree meanwhile
do not turn a warm start into a build. Everything runs on a private dockerd (stopped at the
end); the testbed is reused from $TCUP_TESTBED_DIR or started in a temporary directory and
stopped. Prints; asserts nothing.
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
SOURCES = ("pyproject.toml", "README.md", "tcup_pytest", "tests_api", "tests_whitebox")
TEST = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"
#: output that marks a moment of the start, in the order they happen
MARKS = {"container": b"tcup.py: running", "nox": b"nox > Running session",
         "pytest": b"test session starts", "first_test": b"::test_create_token"}


def snapshot(dest: Path, *, change: bool = False) -> Path:
    """A copy of the checkout's sources and launcher (``change``: with one module changed,
    as a code change does to the image); returns its launcher."""
    for name in (*SOURCES, "container/tcup.py"):
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, dest / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(ROOT / name, dest / name)
    if change:
        with open(dest / "tcup_pytest" / "container.py", "a") as out:
            out.write(f"\n# benchmark change {time.time()}\n")
    return dest / "container" / "tcup.py"


def launcher_env(engine: DockerEngine, cloud: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "DOCKER_", "TCUP_"))}
    return {**env, "DOCKER_HOST": engine.url, "PYTHONUNBUFFERED": "1", **cloud}


def build(engine: DockerEngine, launcher: Path, *extra: str) -> tuple[float, str]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, str(launcher), "--base-image", BASE_IMAGE,
                           "--build-only", *extra], env=launcher_env(engine, {}),
                          capture_output=True, text=True, check=True)
    return time.monotonic() - start, proc.stdout.split()[-1]


def changed_wheel(work: Path) -> Path:
    """A wheel of this tree with one changed module: what a code change does to the image."""
    snapshot(work / "src", change=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(work / "dist"), str(work / "src")], check=True, capture_output=True)
    return next((work / "dist").glob("*.whl"))


def first_test(engine: DockerEngine, launcher: Path, cloud: dict[str, str], work: Path,
               workers: int) -> dict[str, float]:
    """Seconds from the launcher's start to each of :data:`MARKS` and to its exit."""
    listing = work / "list.txt"
    listing.write_text(TEST + "\n")
    argv = [sys.executable, str(launcher), "--base-image", BASE_IMAGE, "--no-upload",
            "--test-list", str(listing), "-j", str(workers), "--results",
            str(work / "results"), "--", "--", "-v"]
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
            for key, text in MARKS.items():
                if text in seen:
                    marks.setdefault(key, now)
        marks["exit"] = time.monotonic() - start
    if proc.returncode:
        print(f"(a run exited with {proc.returncode})")
    if b"tcup.py: building" in seen:
        print("(a run built the image: not a warm start)")
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cold", action="store_true", help="also build with empty layers")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="tcup run -j (default 1)")
    opts = parser.parse_args()
    had_rootfs = rootfs_tarball().exists()
    with tempfile.TemporaryDirectory(prefix="tcup-bench-") as tmp:
        work = Path(tmp)
        launcher = snapshot(work / "checkout")
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
                seconds, tag = build(engine, launcher)
                print(f"image build, checkout, cached layers: {seconds:.1f} s")
                size = engine.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout
                print(f"image size: {int(size) / 1e6:.0f} MB ({tag})")
                seconds, wheel_tag = build(engine, launcher, "--package",
                                           str(changed_wheel(work)))
                print(f"image build after a code change (last layers): {seconds:.1f} s")
                engine.docker("rmi", wheel_tag)
                runs = [first_test(engine, launcher, bed.env(MEMBER_CLOUD), work, opts.workers)
                        for _ in range(opts.repeat)]
                print(f"warm start, -j {opts.workers}:")
                for key in (*MARKS, "exit"):
                    values = [r[key] for r in runs if key in r]
                    if values:
                        print(f"launcher start -> {key}: median {statistics.median(values):.2f}"
                              f" s (runs: {', '.join(f'{v:.2f}' for v in values)})")
            if opts.cold:
                with DockerEngine(work / "cold", data_root=work / "cold-data") as engine:
                    engine.ensure_base_image()
                    seconds, _ = build(engine, launcher)
                    print(f"image build, cold (empty data root): {seconds:.1f} s "
                          f"(+ base import {engine.timings.get('base.import', 0):.1f} s)")
        finally:
            if not shared:
                bed.down()


if __name__ == "__main__":
    main()
