"""Session fixtures for the framework's own integration tests: the local testbed.

``$TCUP_TESTBED_DIR`` pointing at a running testbed (``tcup testbed up``) makes the suite
reuse it and leave it running; otherwise one is started in a temporary directory and stopped
at the end. Fixtures of a test area live in ``tests/integration/<area>/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tcup_pytest.errors import TestbedError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.testbed import ADMIN_CLOUD, MEMBER_CLOUD, Testbed


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs the real local testbed services")


def testbed_unavailable(reason: str) -> None:
    """In CI a missing testbed is a failure, never a silent skip."""
    reason = f"the local testbed could not start: {REDACTOR.redact(reason)}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testbed]:
    """A running testbed (keystone, glance, placement); see the module docstring."""
    shared = os.environ.get("TCUP_TESTBED_DIR")
    if shared and Testbed(shared).status()["components"].get("keystone", {}).get("running"):
        bed = Testbed(shared)
        try:
            bed.up()  # reuses it; starts only components that are not running
        except TestbedError as exc:
            testbed_unavailable(str(exc))
        yield bed  # someone else's: left running
        return
    bed = Testbed(tmp_path_factory.mktemp("testbed"))
    try:
        bed.up()
    except TestbedError as exc:
        bed.down()
        testbed_unavailable(str(exc))
    try:
        yield bed
    finally:
        bed.down()


@pytest.fixture(scope="session")
def admin_env(testbed: Testbed) -> dict[str, str]:
    """OS_* variables of the testbed's admin (project ``admin``), for subprocesses."""
    return testbed.env(ADMIN_CLOUD)


@pytest.fixture(scope="session")
def member_env(testbed: Testbed) -> dict[str, str]:
    """OS_* variables of a non-admin user (role ``member`` in its own project)."""
    return testbed.env(MEMBER_CLOUD)
