"""Record the docs' terminal tours: the real commands on a pseudo-terminal of a fixed size,
saved as asciinema v2 casts and rendered to animated SVG (render.py). ``nox -s casts`` runs
this; ``python docs/casts/record.py demo`` re-makes one tour.

- ``demo``: ``tcup demo`` with a testbed of its own (up, tests, results, down).
- ``container``: ``python container/tcup.py --no-upload ...`` against a testbed, on a private
  dockerd (tcup_pytest.testbed.docker). Without a usable Docker engine the tour shows the
  launcher's ``--help`` instead, and says so.

Nothing is redacted: instead every password of the testbed used (its clouds.yaml and
state.json) is looked for in the cast, and a cast holding one is deleted, not kept.
"""

from __future__ import annotations

import codecs
import fcntl
import json
import os
import pty
import select
import shlex
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from render import render

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WIDTH, HEIGHT = 100, 30
IDLE_TIME_LIMIT = 2.0
PROMPT = "\x1b[1;32m$\x1b[0m "
#: one quick Tempest test the testbed's keystone passes (as in the container tests)
TEST_LIST = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token\n"
SECRET_KEYS = ("password", "secret", "token")


def testbed_secrets(state_dir: Path) -> set[str]:
    """Every password-like value in a testbed's clouds.yaml and state.json."""
    found: set[str] = set()
    for name, load in (("clouds.yaml", yaml.safe_load), ("state.json", json.loads)):
        path = state_dir / name
        if path.is_file():
            found |= set(_secret_values(load(path.read_text())))
    return found


def _secret_values(data: Any, key: str = "") -> Iterator[str]:
    if isinstance(data, dict):
        for name, value in data.items():
            yield from _secret_values(value, str(name))
    elif isinstance(data, list):
        for value in data:
            yield from _secret_values(value, key)
    elif isinstance(data, str) and data and any(k in key.lower() for k in SECRET_KEYS):
        yield data


def check_clean(cast: Path, secrets: set[str]) -> None:
    """Delete ``cast`` and stop if it holds any of ``secrets`` (raw or as shown)."""
    if not secrets:
        raise SystemExit(f"{cast.name}: no testbed passwords were found to check against")
    raw = cast.read_text()
    shown = "".join(json.loads(line)[2] for line in raw.splitlines()[1:] if line.strip())
    if any(secret in raw or secret in shown for secret in secrets):
        cast.unlink()
        raise SystemExit(f"{cast.name} showed a testbed password; deleted it")


def record(cast: Path, argv: list[str], *, env: dict[str, str], cwd: Path, title: str,
           watch: Callable[[], None] = lambda: None, timeout: float = 3600) -> int:
    """Run ``argv`` on a WIDTH x HEIGHT pseudo-terminal, writing what it shows to ``cast``
    (after a prompt line naming the command); ``watch`` is called about once a second.
    Returns the command's exit code."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", HEIGHT, WIDTH, 0, 0))
    header = {"version": 2, "width": WIDTH, "height": HEIGHT, "title": title,
              "idle_time_limit": IDLE_TIME_LIMIT,
              "env": {"TERM": env["TERM"], "SHELL": "/bin/bash"}}
    events = [[0.0, "o", f"{PROMPT}{shlex.join(argv)}\r\n"]]
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    began = last_watch = time.monotonic()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                            start_new_session=True)
    os.close(slave)
    try:
        while True:
            now = time.monotonic()
            if now - began > timeout:
                os.killpg(proc.pid, signal.SIGTERM)
                raise SystemExit(f"{title}: no end after {timeout:.0f} s")
            if now - last_watch >= 1:
                watch()
                last_watch = now
            ready, _, _ = select.select([master], [], [], 0.5)
            chunk = _read(master) if ready else b""
            if chunk:
                events.append([round(time.monotonic() - began + 0.3, 4), "o",
                               decoder.decode(chunk)])
            elif proc.poll() is not None and (ready or not _pending(master)):
                break
    finally:
        os.close(master)
        code = proc.wait()
        watch()
    lines = [json.dumps(header)] + [json.dumps(event) for event in events if event[2]]
    cast.write_text("\n".join(lines) + "\n")
    return code


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:                       # EIO: every writer has closed the terminal
        return b""


def _pending(fd: int) -> bool:
    return bool(select.select([fd], [], [], 0.2)[0])


def user_env(**extra: str) -> dict[str, str]:
    """This environment without cloud, testbed and pytest settings, as a terminal user's."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "TCUP_", "PYTEST_", "DOCKER_", "REFSTACK_"))
           and k not in ("COLUMNS", "LINES", "NO_COLOR", "CI")}
    env.update(TERM="xterm-256color", **extra)
    return env


class SecretWatch:
    """Collects a testbed's passwords while a command that owns the testbed runs."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.secrets: set[str] = set()

    def __call__(self) -> None:
        self.secrets |= testbed_secrets(self.state_dir)


Tour = tuple[Path, set[str], int]   # the cast, the passwords to look for, the exit code


def demo(work: Path) -> Tour:
    """`tcup demo` with a testbed of its own in ``work`` (so it starts and stops it)."""
    watch = SecretWatch(work / "testbed")
    cast = HERE / "demo.cast"
    code = record(cast, ["tcup", "demo"], cwd=work, title="tcup demo", watch=watch,
                  env=user_env(TCUP_TESTBED_DIR=str(watch.state_dir)))
    return cast, watch.secrets, code


def container(work: Path) -> Tour:
    """The launcher from this checkout, one quick test, results kept local."""
    from tcup_pytest.testbed import MEMBER_CLOUD, Testbed
    from tcup_pytest.testbed.docker import BASE_IMAGE

    (work / "container").symlink_to(ROOT / "container")   # `container/tcup.py` as in a clone
    (work / "identity.txt").write_text(TEST_LIST)
    cast, testbed = HERE / "container.cast", Testbed(work / "testbed")
    testbed.up()
    try:
        with docker_engine(work / "dockerd") as engine:
            argv = ["python", "container/tcup.py", "--help"]
            if engine is not None:
                argv = ["python", "container/tcup.py", "--no-upload", "--base-image",
                        BASE_IMAGE, "--test-list", "identity.txt", "-j", "1"]
            env = user_env(**testbed.env(MEMBER_CLOUD), **(engine.env() if engine else {}))
            code = record(cast, argv, env=env, cwd=work, title="container/tcup.py")
        return cast, testbed_secrets(testbed.state_dir), code
    finally:
        testbed.down()


@contextmanager
def docker_engine(run_dir: Path) -> Iterator[Any]:
    """The container tests' private dockerd with the base image, or None if it cannot start."""
    from tcup_pytest.errors import TestbedError
    from tcup_pytest.testbed.docker import DockerEngine

    engine: DockerEngine | None = DockerEngine(run_dir)
    try:
        engine.start()
        engine.ensure_base_image()
    except TestbedError as exc:
        engine.stop()
        engine = None
        print(f"casts: no Docker engine ({exc}); the container tour shows --help only",
              file=sys.stderr)
    try:
        yield engine
    finally:
        if engine is not None:
            engine.stop()


TOURS = {"demo": demo, "container": container}


def main(names: list[str]) -> int:
    unknown = set(names) - set(TOURS)
    if unknown:
        raise SystemExit(f"usage: record.py [{' | '.join(TOURS)}]...; unknown: {sorted(unknown)}")
    for name in names or list(TOURS):
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"tcup-tour-{name}-") as work:
            cast, secrets, code = TOURS[name](Path(work))
        check_clean(cast, secrets)
        if code:
            raise SystemExit(f"{cast.name}: the command exited {code}; see the cast")
        svg = render(cast)
        print(f"casts: {svg.relative_to(ROOT)} ({svg.stat().st_size // 1024} KiB, "
              f"{len(secrets)} passwords checked absent) in {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
