"""Tempest stays optional: nothing imports it unless a Tempest run is asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHECK = '''
import sys
import pytest

class Probe:
    def pytest_collection_finish(self, session):
        print("TEMPEST-IMPORTED" if "tempest" in sys.modules else "TEMPEST-ABSENT")

sys.exit(pytest.main(sys.argv[1:], plugins=[Probe()]))
'''


def test_plain_pytest_run_never_imports_tempest(tmp_path: Path):
    (tmp_path / "test_native.py").write_text("def test_ok():\n    pass\n")
    proc = subprocess.run([sys.executable, "-c", CHECK, "-p", "no:cacheprovider", "-q",
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert "TEMPEST-ABSENT" in proc.stdout, proc.stdout + proc.stderr
    assert proc.returncode == 0


@pytest.mark.parametrize("module", ["tcup_pytest.interop.guidelines",
                                    "tcup_pytest.refstack.results",
                                    "tcup_pytest.plugins.tempest", "tcup_pytest.tempest.select",
                                    "tcup_pytest.cli.run"])
def test_modules_import_without_tempest(module: str):
    code = (f"import sys, {module}\n"
            "sys.exit(1 if any(m == 'tempest' or m.startswith('tempest.') "
            "for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
