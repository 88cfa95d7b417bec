"""Helpers for the testbed's own tests: run ``tcup`` as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tcup_pytest.testbed import Testbed


@pytest.fixture
def tcup() -> Callable[..., subprocess.CompletedProcess]:
    """Run ``tcup ARGS`` in a subprocess, without the caller's OS_* or testbed variables."""
    def run(*args: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OS_", "TCUP_TESTBED"))}
        return subprocess.run([sys.executable, "-m", "tcup_pytest.cli", *args], env=env,
                              capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)
    return run


@pytest.fixture
def bed_dir(tmp_path: Path) -> Iterator[Path]:
    """A state dir for a test's own testbed, stopped afterwards even if the test failed."""
    state_dir = tmp_path / "bed"
    yield state_dir
    Testbed(state_dir).down()
