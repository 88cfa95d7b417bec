"""Session fixtures for the framework's own integration tests: the local testbed.

``$TCUP_TESTBED_DIR`` pointing at a running testbed (``tcup testbed up``) makes the suite
reuse it and leave it running; otherwise one is started in a temporary directory and stopped
at the end. Fixtures of a test area live in ``tests/integration/<area>/conftest.py``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from tcup_pytest.errors import TestbedError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.testbed import ADMIN_CLOUD, MEMBER_CLOUD, Testbed
from tcup_pytest.testbed.base import file_lock


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs the real local testbed services")


#: Nova joins the session's testbed and stays in its catalog (with a network stand-in) for the
#: rest of the session; tests that expect the plain keystone/glance/placement cloud (Tempest
#: discovers services from the catalog) must run before it.
JOINS_THE_TESTBED = ("tests/integration/nova/",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.nodeid.startswith(JOINS_THE_TESTBED))  # stable


def service_unavailable(what: str, reason: object) -> NoReturn:
    """A service a test needs is missing: in CI (``CI=true``) a failure, never a silent skip;
    elsewhere a skip that says why."""
    message = f"{what}: {REDACTOR.redact(str(reason))}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def testbed_unavailable(reason: str) -> NoReturn:
    service_unavailable("the local testbed could not start", reason)


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testbed]:
    """A running testbed (keystone, glance, placement); see the module docstring."""
    shared = os.environ.get("TCUP_TESTBED_DIR")
    if shared and Testbed(shared).status()["components"].get("keystone", {}).get("running"):
        yield start_or_skip(Testbed(shared))  # someone else's: reused and left running
        return
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # One testbed for all workers of this run (2 cores): the last one out stops it.
        with shared_by_workers(tmp_path_factory.getbasetemp().parent / "testbed") as bed:
            yield bed
        return
    bed = start_or_skip(Testbed(tmp_path_factory.mktemp("testbed")))
    try:
        yield bed
    finally:
        bed.down(keep_logs=True)  # pytest's temporary directory keeps them for a while


def start_or_skip(bed: Testbed) -> Testbed:
    """A failed start has stopped what it began; its logs stay for the error message."""
    try:
        bed.up()
    except TestbedError as exc:
        testbed_unavailable(str(exc))
    return bed


@contextlib.contextmanager
def shared_by_workers(state_dir: Path) -> Iterator[Testbed]:
    users = state_dir.with_suffix(".users")
    with file_lock(users.with_suffix(".lock")):
        users.write_text(str(int(users.read_text() or 0) + 1 if users.exists() else 1))
    bed = Testbed(state_dir)
    try:
        yield start_or_skip(bed)
    finally:
        with file_lock(users.with_suffix(".lock")):
            left = int(users.read_text()) - 1
            users.write_text(str(left))
            if left == 0:
                bed.down(keep_logs=True)


@pytest.fixture(scope="session")
def admin_env(testbed: Testbed) -> dict[str, str]:
    """OS_* variables of the testbed's admin (project ``admin``), for subprocesses."""
    return testbed.env(ADMIN_CLOUD)


@pytest.fixture(scope="session")
def member_env(testbed: Testbed) -> dict[str, str]:
    """OS_* variables of a non-admin user (role ``member`` in its own project)."""
    return testbed.env(MEMBER_CLOUD)
