"""An installed Tempest plugin (a ``tempest.test_plugins`` entry point) is collected like
Tempest's own tests: found, selected by list, run, reported with its Tempest-style id.

The plugin is a real distribution on ``PYTHONPATH`` (a package plus its ``.dist-info`` with
``entry_points.txt``), which is exactly what ``pip install`` leaves for importlib.metadata.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tcup_pytest.errors import ExitCode

UUID = "5f0e4c39-8e0b-4d36-9b53-3c2f8a2a7d10"
PLUGIN = '''
import os

from tempest.test_discover import plugins


class DemoPlugin(plugins.TempestPlugin):
    def load_tests(self):
        here = os.path.dirname(os.path.abspath(__file__))
        return os.path.join(here, "tests"), os.path.dirname(here)

    def register_opts(self, conf):
        pass

    def get_opt_lists(self):
        return []
'''
TESTS = f'''
from tempest.lib import base, decorators


class DemoTest(base.BaseTestCase):
    @decorators.attr(type="smoke")
    @decorators.idempotent_id("{UUID}")
    def test_plugin_works(self):
        self.assertEqual(2, 1 + 1)

    def test_not_on_the_list(self):
        pass
'''


def install_plugin(site: Path) -> None:
    package = site / "tcup_demo_plugin"
    (package / "tests" / "api").mkdir(parents=True)
    for init in (package, package / "tests", package / "tests" / "api"):
        (init / "__init__.py").write_text("")
    (package / "plugin.py").write_text(PLUGIN)
    (package / "tests" / "api" / "test_demo.py").write_text(TESTS)
    dist = site / "tcup_demo_plugin-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tcup-demo-plugin\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[tempest.test_plugins]\ndemo = tcup_demo_plugin.plugin:DemoPlugin\n")


def test_plugin_tests_are_found_selected_and_reported(tmp_path: Path, tempest_conf: Path):
    site = tmp_path / "site"
    install_plugin(site)
    name = "tcup_demo_plugin.tests.api.test_demo.DemoTest.test_plugin_works"
    (tmp_path / "list.txt").write_text(f"{name}[id-{UUID},smoke]\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "tcup_pytest.cli", "run", "--tempest-conf", str(tempest_conf),
         "--test-list", "list.txt", "-j", "1", "--no-upload", "--run-dir", "r"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == ExitCode.OK, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "r" / "results.json").read_text())["results"]
    assert [(r["name"], r["uuid"], r["outcome"]) for r in results] == [(name, UUID, "passed")]
    assert "smoke" in results[0]["attrs"]
    junit = (tmp_path / "r" / "junit.xml").read_text()
    assert f"{name}[id-{UUID},smoke]" in junit
