"""Redaction in pytest: log records, every report section, and xdist workers.

Reports are scrubbed where they are made (on the worker under xdist), so the terminal, junit
XML, ``--report-log`` and anything else built from reports only ever see masked text. The
controller hands its registered secrets to workers over xdist's in-memory channel, never
through a file.
"""

from __future__ import annotations

import functools

import pytest

from tcup_pytest.redaction import REDACTOR, install_logging

WORKER_SECRETS_KEY = "tcup_secrets"


def pytest_configure(config: pytest.Config) -> None:
    install_logging()
    workerinput = getattr(config, "workerinput", None)
    if workerinput:
        REDACTOR.register_all(workerinput.get(WORKER_SECRETS_KEY, ()))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: pass the secrets registered so far to a starting worker."""
    node.workerinput[WORKER_SECRETS_KEY] = REDACTOR.secrets


@functools.lru_cache(maxsize=256)
def _redact_section(text: str, generation: int) -> str:
    """A captured section, masked once: each phase's report repeats the earlier phases'
    sections (the same string objects), and masking them again was ~2/3 of the plugin's cost
    per test. ``generation`` keys the cache to the secrets registered."""
    return REDACTOR.redact(text)


def scrub_report(report: pytest.TestReport | pytest.CollectReport) -> None:
    """Mask secrets in a report's failure text, captured sections and properties."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        report.longrepr = (longrepr[0], longrepr[1], REDACTOR.redact(str(longrepr[2])))
    elif longrepr is not None:
        text = str(longrepr)
        clean = REDACTOR.redact(text)
        if clean != text:  # keep pytest's rich representation unless it leaks something
            report.longrepr = clean
    report.sections = [(title, _redact_section(content, REDACTOR.generation))
                       for title, content in report.sections]
    if hasattr(report, "user_properties"):
        report.user_properties = [(name, REDACTOR.redact_obj(value))
                                  for name, value in report.user_properties]
    wasxfail = getattr(report, "wasxfail", None)
    if isinstance(wasxfail, str):
        report.wasxfail = REDACTOR.redact(wasxfail)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    scrub_report(report)
    return report


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_make_collect_report(collector: pytest.Collector):
    report = yield
    scrub_report(report)
    return report
