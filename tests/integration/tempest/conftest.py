"""Fixtures for the Tempest adapter against the real testbed (keystone + glance).

A missing tempest or testbed fails in CI (``CI=true``) and skips elsewhere. The expensive
part, one `tempest run` and one `tcup run` of the whole identity API, runs once per session.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tcup_pytest.testbed import ADMIN_CLOUD, MEMBER_CLOUD, Testbed
from tests.conftest import service_unavailable

BIN = Path(sys.executable).parent


def unavailable(reason: str) -> None:
    service_unavailable("Tempest against the testbed", reason)


def user_env(testbed: Testbed, cloud: str, home: Path) -> dict[str, str]:
    """A user with only this cloud's OS_* values (no clouds.yaml, no stray tempest config)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OS_", "PYTEST_", "TEMPEST_"))}
    env.update(HOME=str(home), OS_CLIENT_CONFIG_FILE=str(home / "no-clouds.yaml"),
               TMPDIR=str(home), PYTHONWARNINGS="ignore")
    env.update(testbed.env(cloud))
    return env


@pytest.fixture(scope="session")
def tempest_installed() -> None:
    if importlib.util.find_spec("tempest") is None:
        unavailable("tempest is not installed (pip install 'tcup-pytest[tempest]')")


@pytest.fixture(scope="session")
def admin_user(testbed: Testbed, tempest_installed, tmp_path_factory) -> dict[str, str]:
    return user_env(testbed, ADMIN_CLOUD, tmp_path_factory.mktemp("admin-home"))


@pytest.fixture(scope="session")
def member_user(testbed: Testbed, tempest_installed, tmp_path_factory) -> dict[str, str]:
    return user_env(testbed, MEMBER_CLOUD, tmp_path_factory.mktemp("member-home"))


@pytest.fixture(scope="session")
def tempest_workspace(admin_user: dict[str, str], tmp_path_factory) -> Path:
    """`tempest init` + a tempest.conf rendered from the testbed (the one both runs share)."""
    ws = tmp_path_factory.mktemp("tempest") / "ws"
    subprocess.run([str(BIN / "tempest"), "init", str(ws)], env=admin_user, check=True,
                   capture_output=True, timeout=120)
    code = ("import sys; from pathlib import Path; from tcup_pytest.config import CloudConfig; "
            "from tcup_pytest.tempest import conf; "
            "conf.render(CloudConfig.load(prompt=False), Path(sys.argv[1]))")
    proc = subprocess.run([sys.executable, "-c", code, str(ws / "etc")], env=admin_user,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        unavailable(f"could not render tempest.conf from the testbed: {proc.stderr[-500:]}")
    return ws


def tcup(env: dict[str, str], *args: str, cwd: Path, timeout: float = 1200
         ) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "tcup"), *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
