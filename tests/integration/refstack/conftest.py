"""Real RefStack API servers (refstack 2.1.0 on MariaDB) for the integration tests.

Each server has its own database ``tcup_refstack_<id>``, dropped at teardown. In CI a server
that cannot start fails the tests; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tcup_pytest.errors import TestbedError
from tcup_pytest.refstack.signing import SigningKey
from tcup_pytest.testbed.refstack import RefStackServer
from tests.conftest import service_unavailable


def unavailable(reason: str) -> None:
    service_unavailable("the RefStack test server could not start", reason)


def start_server(workdir: Path, **kwargs) -> RefStackServer:
    server = RefStackServer(workdir, **kwargs)
    try:
        server.start()
    except TestbedError as exc:
        unavailable(str(exc))
    return server


@pytest.fixture(scope="session")
def refstack(tmp_path_factory) -> Iterator[RefStackServer]:
    """A server accepting anonymous uploads, with the bundled guidelines."""
    server = start_server(tmp_path_factory.mktemp("refstack"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def refstack_closed(tmp_path_factory) -> Iterator[RefStackServer]:
    """A server with ``enable_anonymous_upload = false``."""
    server = start_server(tmp_path_factory.mktemp("refstack-closed"), anonymous_upload=False)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rsa_key_file(tmp_path_factory) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path_factory.mktemp("keys") / "refstack_rsa"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def registered_user(refstack, rsa_key_file) -> str:
    """A RefStack user (openid) whose profile holds the test key (one owner per key)."""
    openid = f"https://openstackid.test/user-{uuid.uuid4().hex[:8]}"
    refstack.add_user(openid)
    refstack.register_key(openid, SigningKey.load(rsa_key_file).public_key_openssh())
    return openid


@pytest.fixture
def tcup(tmp_path):
    """Run the ``tcup`` command line as a user would (fresh process, no cloud variables)."""
    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("OS_", "REFSTACK_", "PYTEST_"))}
        return subprocess.run([sys.executable, "-m", "tcup_pytest.cli", *args], cwd=tmp_path,
                              env={**clean, **(env or {})}, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
    return run
