"""interop/ and refstack/ work where tempest is absent and never pull in the command line."""

import subprocess
import sys

SCRIPT = """
import sys
sys.modules["tempest"] = None  # importing tempest now raises ImportError
import tcup_pytest.interop, tcup_pytest.interop.verdict
import tcup_pytest.refstack, tcup_pytest.refstack.sources, tcup_pytest.refstack.cpid
from tcup_pytest.interop import Guideline, Verdict
from tcup_pytest.refstack import ResultSet, TestResult
g = Guideline.bundled("dns.2020.06")
v = Verdict.judge(g, ResultSet(TestResult(t) for t in g.test_list("dns")), "dns")
assert v.passed
prefixes = ("tcup_pytest.cli", "tcup_pytest.plugins", "tcup_pytest.testbed", "tempest", "pytest")
bad = sorted(m for m, mod in sys.modules.items() if m.startswith(prefixes) and mod is not None)
print(bad)
"""


def test_core_modules_stand_alone():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
