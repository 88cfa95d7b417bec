"""The one line shown when python-tempestconf fails: its exception, not a traceback line."""

from tcup_pytest.redaction import REDACTOR
from tcup_pytest.tempest.conf import tempestconf_reason

LOG = """\
2026-12-03 00:40:01.346 32018 INFO tempest [-] Using tempest config file /etc/tempest.conf
2026-12-03 00:40:02.343 32018 CRITICAL tempest [-] Unhandled error: Exception: Creation of \
flavors is not allowed and not enough available flavors found. pw=reason-canary-7
2026-12-03 00:40:02.343 32018 ERROR tempest Traceback (most recent call last):
2026-12-03 00:40:02.343 32018 ERROR tempest   File "<frozen runpy>", line 198, in _run_module
2026-12-03 00:40:02.343 32018 ERROR tempest
"""


def test_the_critical_line_is_the_reason():
    REDACTOR.register("reason-canary-7")
    reason = tempestconf_reason(LOG, 1)
    assert reason.startswith("Exception: Creation of flavors is not allowed")
    assert "reason-canary-7" not in reason and "Traceback" not in reason


def test_without_a_critical_line_the_last_line_or_the_exit_code():
    assert tempestconf_reason("one\nsomething broke\n\n", 3) == "something broke"
    assert tempestconf_reason("", 3) == "exit code 3"
