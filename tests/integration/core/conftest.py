"""Helpers for the foundation's integration tests: run pytest or tcup as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcup_pytest.testbed import ADMIN_CLOUD


def user_env(extra: dict[str, str], home: Path) -> dict[str, str]:
    """The environment of a user who only has these OS_* values (no stray config)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "PYTEST_", "TEMPEST_"))}
    env.update(HOME=str(home), OS_CLIENT_CONFIG_FILE=str(home / "no-clouds.yaml"))
    env.update(extra)
    return env


@pytest.fixture
def clean_env(tmp_path):
    """Build the environment of a user who has only the given OS_* values."""
    return lambda extra: user_env(extra, tmp_path)


@pytest.fixture
def run(tmp_path):
    """Run ``python -m <module> args`` in ``tmp_path`` as a user with ``env``."""
    def run(module: str, *args: str, env: dict[str, str], timeout: float = 600,
            cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd or tmp_path,
                              env=user_env(env, tmp_path), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    return run


@pytest.fixture(scope="session")
def admin(testbed):
    """An openstacksdk connection as the testbed's admin, to check what tests left behind."""
    conn = testbed.connect(ADMIN_CLOUD)
    yield conn
    conn.close()
