"""Fixtures for the TCUP container tests: a private dockerd, the image, launcher runs.

The engine's data root is cached (~/.cache/tcup-pytest/docker/data), so image layers survive
between sessions and a code change rebuilds only the image's last layers. In CI an engine that
cannot start is a failure, elsewhere a skip (the suite's ``testbed_unavailable``).
"""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tcup_pytest.errors import TestbedError
from tcup_pytest.refstack.signing import SigningKey
from tcup_pytest.testbed import MEMBER_CLOUD, Testbed
from tcup_pytest.testbed.docker import BASE_IMAGE, DockerEngine
from tcup_pytest.testbed.refstack import RefStackServer
from tests.conftest import testbed_unavailable

ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = ROOT / "container" / "tcup.py"
LABEL = "org.openstack.tcup"
#: one quick Tempest test the testbed's keystone passes
TEST_LIST = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token\n"


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerEngine]:
    engine = DockerEngine(tmp_path_factory.mktemp("dockerd"))
    try:
        engine.start()
        engine.ensure_base_image()
    except TestbedError as exc:
        engine.stop()
        testbed_unavailable(f"no Docker engine for the container tests: {exc}")
    before = set(_tcup_images(engine))
    try:
        yield engine
    finally:
        leftovers = engine.docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()
        if leftovers:
            engine.docker("rm", "-f", *leftovers)
        # Keep the cache small: drop tags of earlier trees, keep what this session used.
        stale = [t for t in before if t not in _used_tags]
        if stale:
            engine.docker("rmi", *stale)
        engine.stop()


_used_tags: set[str] = set()


def _tcup_images(engine: DockerEngine) -> list[str]:
    out = engine.docker("images", "--format", "{{.Repository}}:{{.Tag}}", "localhost/tcup")
    return out.stdout.split()


@dataclass
class Launch:
    """One finished tcup.py run: exit code, what the user saw, the results directory."""

    returncode: int
    output: str
    results: Path
    seconds: float

    def image(self) -> str:
        for line in self.output.splitlines():
            if line.startswith("tcup.py: running "):
                return line.split()[2].rstrip(";")
        raise AssertionError(f"no image named in:\n{self.output}")


def user_env(engine: DockerEngine, home: Path, cloud: dict[str, str]) -> dict[str, str]:
    """A user's environment: PATH, HOME, the engine and the cloud's OS_* values."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "PYTEST_", "TEMPEST_", "DOCKER_", "TCUP_"))}
    env.update(HOME=str(home), DOCKER_HOST=engine.url, **cloud)
    return env


def launcher_argv(script: Path, results: Path, test_list: Path, *extra: str) -> list[str]:
    """tcup.py with one quick test; results kept local unless ``extra`` names a --url."""
    upload = [] if "--url" in extra else ["--no-upload"]
    return [sys.executable, str(script), "--base-image", BASE_IMAGE, *upload,
            "--test-list", str(test_list), "-j", "1", "--results", str(results), *extra]


@pytest.fixture(scope="session")
def member_cloud(testbed: Testbed) -> dict[str, str]:
    return testbed.env(MEMBER_CLOUD)


@pytest.fixture(scope="session")
def test_list(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("lists") / "identity.txt"
    path.write_text(TEST_LIST)
    return path


@pytest.fixture(scope="session")
def launch(docker_engine: DockerEngine, member_cloud: dict[str, str], test_list: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Launch]:
    """Run tcup.py to the end as a user would (stdin not a terminal)."""
    def launch(*extra: str, cloud: dict[str, str] | None = None, script: Path = LAUNCHER,
               cwd: Path | None = None, timeout: float = 1500) -> Launch:
        work = tmp_path_factory.mktemp("launch")
        results = work / "results"
        began = time.monotonic()
        proc = subprocess.run(launcher_argv(script, results, test_list, *extra),
                              env=user_env(docker_engine, work, cloud or member_cloud),
                              cwd=cwd or work, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout)
        done = Launch(proc.returncode, proc.stdout, results, time.monotonic() - began)
        with suppress(AssertionError):
            _used_tags.add(done.image())
        return done
    return launch


@pytest.fixture(scope="session")
def checkout_run(launch: Callable[..., Launch]) -> Launch:
    """The launcher from this checkout, one passing test (builds the image if needed)."""
    run = launch()
    assert run.returncode == 0, run.output
    return run


def containers(engine: DockerEngine) -> list[str]:
    return engine.docker("ps", "-aq", "--filter", f"label={LABEL}").stdout.split()


def pty_run(argv: list[str], env: dict[str, str], cwd: Path, *,
            answers: dict[bytes, bytes], timeout: float = 600) -> tuple[int, bytes]:
    """Run ``argv`` on a pseudo-terminal, typing an answer when a prompt shows up;
    returns the exit code and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes the program
        os.chdir(cwd)
        os.execve(argv[0], argv, env)
    shown, pending = b"", dict(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the program ended
                break
            if not chunk:
                break
            shown += chunk
            for prompt in [p for p in pending if p in shown]:
                os.write(fd, pending.pop(prompt))
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown


class GatedProxy:
    """A TCP forwarder in front of keystone that holds every connection until opened:
    it catches the container mid-run (to inspect it, or to interrupt the run)."""

    def __init__(self, auth_url: str) -> None:
        parts = urlsplit(auth_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.server.getsockname()[1]}"))
        self.gate = threading.Event()
        self.reached = threading.Event()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            self.reached.set()
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        while not self.gate.wait(0.2) and not self._closed:
            pass
        if self._closed:
            client.close()
            return
        with client, socket.create_connection(self.target) as upstream:
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
            _pipe(client, upstream)

    def close(self) -> None:
        self._closed = True
        self.server.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


@pytest.fixture(scope="session")
def refstack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefStackServer]:
    """A local RefStack API (refstack 2.1.0 on MariaDB) to upload to instead of the public one."""
    server = RefStackServer(tmp_path_factory.mktemp("refstack"))
    try:
        server.start()
    except TestbedError as exc:
        testbed_unavailable(f"RefStack server: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def signing_key(refstack_server: RefStackServer,
                tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An RSA key registered with the server under a fresh user (0600, like ssh keys)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("keys") / "refstack_rsa"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    openid = f"https://openstackid.test/tcup-{uuid.uuid4().hex[:8]}"
    refstack_server.add_user(openid)
    refstack_server.register_key(openid, SigningKey.load(path).public_key_openssh())
    return path
