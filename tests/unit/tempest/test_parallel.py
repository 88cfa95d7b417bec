"""With xdist, a Tempest run keeps each class on one worker: setUpClass runs once per class."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = '''
import os
import testtools


class _Base(testtools.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with open(os.environ["SETUP_LOG"], "a") as log:
            log.write(f"{cls.__name__} {os.getpid()}\\n")

    def test_1(self): pass
    def test_2(self): pass
    def test_3(self): pass
    def test_4(self): pass


class TestA(_Base):
    pass


class TestB(_Base):
    pass
'''


def test_set_up_class_once_per_class(tmp_path: Path, tempest_conf: Path):
    (tmp_path / "test_classes.py").write_text(TESTS)
    (tmp_path / "list.txt").write_text("tempest.api.not_installed.test_x.C.test_y\n")
    log = tmp_path / "setup.log"
    env = {**os.environ, "SETUP_LOG": str(log)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "--tempest",
         "--tempest-conf", str(tempest_conf), "--test-list", "list.txt", "test_classes.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "12 passed" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    classes = sorted(line.split()[0] for line in log.read_text().splitlines())
    assert classes == ["TestA", "TestB", "_Base"]  # each once, not once per worker
