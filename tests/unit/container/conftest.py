"""Load container/tcup.py as a module: it is a single file, not part of the package."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]
LAUNCHER = ROOT / "container" / "tcup.py"


def load_launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tcup_launcher", LAUNCHER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("tcup_launcher", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def launcher() -> ModuleType:
    return load_launcher()
