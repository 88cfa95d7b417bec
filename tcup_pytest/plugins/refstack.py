"""RefStack reporting for a pytest run: the upload body, full results, a subunit v2 stream and
the local compliance verdict.

Thin on purpose: it turns reports into :class:`TestResult` and hands them to ``ResultSet``
and python-subunit. It works under xdist because the reports of every worker reach the
controller's ``pytest_runtest_logreport``; the identity travels on the report itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tcup_pytest.errors import TcupError
from tcup_pytest.ids import TestIdentity, identity_of
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.refstack.results import (
    FAILED,
    PASSED,
    SEVERITY,
    SKIPPED,
    XFAIL,
    ResultSet,
    TestResult,
    split_test_id,
    worst_per_test,
    write_json_atomic,
)

if TYPE_CHECKING:
    from tcup_pytest.interop.verdict import Verdict

# subunit, the guideline/verdict code and the cpid lookup (openstacksdk) are imported when a
# reporter uses them: every pytest process loads this plugin, and --collect-only needs none.

LOG = logging.getLogger(__name__)
_SUBUNIT_STATUS = {PASSED: "success", FAILED: "fail", SKIPPED: "skip", XFAIL: "xfail"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcup-refstack", "RefStack reporting (tcup)")
    group.addoption("--refstack-json", metavar="PATH",
                    help="write the RefStack upload body (passed tests, cpid, duration) to PATH")
    group.addoption("--results-json", metavar="PATH",
                    help="write every test's outcome to PATH (for tcup verdict and merging)")
    group.addoption("--subunit", metavar="PATH",
                    help="write a subunit v2 stream to PATH (stestr load, subunit2junitxml)")
    group.addoption("--verdict", metavar="GUIDELINE", dest="refstack_verdict",
                    help="judge this run against an interop guideline (default: --guideline "
                         "when given); the table ends the run's summary")
    group.addoption("--verdict-json", metavar="PATH",
                    help="write the compliance verdict as JSON to PATH")
    group.addoption("--refstack-cpid", metavar="CPID", default=os.environ.get("REFSTACK_CPID"),
                    help="cloud provider id to report (default: derived from the cloud's "
                         "catalog, as refstack-client does; env REFSTACK_CPID)")


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput") or config.option.collectonly:
        return  # an xdist worker (the controller writes the files), or nothing will run
    opts = config.option
    if opts.refstack_json or opts.results_json or opts.subunit or opts.verdict_json \
            or _verdict_guideline(config):
        config.pluginmanager.register(RefStackReporter(config), "tcup-refstack-reporter")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Put the test's identity on its report (it survives xdist's serialisation)."""
    report = yield
    identity = identity_of(item)
    report.tcup_identity = [identity.name, identity.uuid, list(identity.attrs)]
    return report


class RefStackReporter:
    """Registered on the controller only: collects every item's phases into one TestResult,
    streams subunit as items finish, writes the JSON files when the session ends."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[TestResult] = []
        self._pending: dict[str, dict] = {}
        self._started = time.time()
        self._subunit_file = None
        self._subunit = None
        self._cpid_value: str | None = None
        path = config.option.subunit
        if path:
            import subunit

            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._subunit_file = open(path, "wb")  # noqa: SIM115 - closed at session end
            self._subunit = subunit.StreamResultToBytes(self._subunit_file)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        state = self._pending.setdefault(report.nodeid, {
            "identity": None, "outcome": None, "duration": 0.0, "details": [], "reason": None,
            "start": getattr(report, "start", None), "stop": None, "nodeid": report.nodeid})
        if getattr(report, "tcup_identity", None):
            state["identity"] = report.tcup_identity
        state["duration"] += getattr(report, "duration", 0.0) or 0.0
        state["stop"] = getattr(report, "stop", None)
        outcome = _phase_outcome(report)
        if state["outcome"] is None or SEVERITY[outcome] > SEVERITY[state["outcome"]]:
            state["outcome"] = outcome
        if report.failed and report.longreprtext:
            state["details"].append(f"[{report.when}]\n{report.longreprtext}")
        if report.skipped and state["reason"] is None:
            state["reason"] = _skip_reason(report)
        if report.when == "teardown":
            self._finish(report.nodeid)

    def _finish(self, nodeid: str) -> None:
        state = self._pending.pop(nodeid)
        name, uuid, attrs = state["identity"] or [_name_from_nodeid(nodeid), None, []]
        result = TestResult(name, uuid, state["outcome"] or SKIPPED, state["duration"],
                            tuple(attrs), state["reason"])
        self.results.append(result)
        if self._subunit is not None:
            self._write_subunit(result, state)

    def _write_subunit(self, result: TestResult, state: dict) -> None:
        # pytest's parameter id joins the attrs so each item keeps its own subunit id
        param = state["nodeid"].rsplit("::", 1)[-1].partition("[")[2].removesuffix("]")
        attrs = (*result.attrs, param) if param else result.attrs
        test_id = TestIdentity(result.name, result.uuid, attrs).full_name
        tags = set(result.attrs) or None
        start, stop = state["start"], state["stop"]
        self._subunit.status(test_id=test_id, test_status="inprogress", test_tags=tags,
                             timestamp=_utc(start))
        details = REDACTOR.redact("\n".join(state["details"]))
        kwargs = {}
        if details:
            kwargs = {"file_name": "traceback", "file_bytes": details.encode("utf-8"),
                      "mime_type": "text/plain;charset=utf8", "eof": True}
        self._subunit.status(test_id=test_id, test_status=_SUBUNIT_STATUS[result.outcome],
                             test_tags=tags, timestamp=_utc(stop), **kwargs)
        self._subunit_file.flush()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for nodeid in list(self._pending):  # a crashed worker never sends its teardown
            self._finish(nodeid)
        if self._subunit_file is not None:
            self._subunit_file.close()
        opts = self.config.option
        results = ResultSet(worst_per_test(self.results),
                            duration_seconds=time.time() - self._started)
        if opts.results_json:
            results.cpid = self._cpid()
            results.save(opts.results_json)
        if opts.refstack_json:
            results.save(opts.refstack_json, body=True, cpid=self._cpid())
        self.summary = results
        self.verdict = self._judge(results)

    def _judge(self, results: ResultSet) -> Verdict | str | None:
        """The verdict, or one line saying why there is none (the run itself is not failed)."""
        source = _verdict_guideline(self.config)
        if not source:
            return "no verdict: give --verdict GUIDELINE" if self.config.option.verdict_json \
                else None
        from tcup_pytest.interop.guidelines import Guideline
        from tcup_pytest.interop.verdict import Verdict

        try:
            guideline = Guideline.find(source)
            target = self.config.getoption("tcup_target", default=None) or "platform"
            if target not in guideline.targets:
                target = guideline.targets[0]
            verdict = Verdict.judge(guideline, results, target,
                                    not_installed=_not_installed(self.config))
        except TcupError as exc:
            return f"no verdict: {exc}"
        if self.config.option.verdict_json:
            write_json_atomic(self.config.option.verdict_json, verdict.to_dict())
        return verdict

    def _cpid(self) -> str:
        if self._cpid_value is None:
            self._cpid_value = self.config.option.refstack_cpid or _cpid_from_cloud(self.config)
        return self._cpid_value

    def pytest_terminal_summary(self, terminalreporter) -> None:
        results = getattr(self, "summary", None)
        if results is None:
            return
        counts = results.counts()
        opts = self.config.option
        terminalreporter.write_sep("-", "tcup results")
        terminalreporter.write_line(
            f"{len(results)} tests: " + ", ".join(f"{n} {k}" for k, n in counts.items() if n))
        for label, path in (("RefStack body", opts.refstack_json),
                            ("full results", opts.results_json), ("subunit v2", opts.subunit)):
            if path:
                terminalreporter.write_line(f"{label}: {path}")
        if opts.refstack_json and not self._cpid():
            terminalreporter.write_line("warning: no cpid (no cloud configured); pass "
                                        "--refstack-cpid before uploading", yellow=True)
        verdict = getattr(self, "verdict", None)
        if isinstance(verdict, str):
            terminalreporter.write_line(verdict, yellow=True)
        elif verdict is not None:
            terminalreporter.write_sep("-", "compliance verdict")
            for line in verdict.table().splitlines():
                terminalreporter.write_line(line, green=verdict.passed, red=not verdict.passed)
            if opts.verdict_json:
                terminalreporter.write_line(f"verdict: {opts.verdict_json}")


def _phase_outcome(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return XFAIL if report.skipped else (PASSED if report.passed else FAILED)
    if report.failed:
        return FAILED
    if report.skipped:
        return SKIPPED
    return PASSED


def _skip_reason(report: pytest.TestReport) -> str | None:
    """The skip's message (``Skipped: `` dropped), or the xfail reason."""
    if hasattr(report, "wasxfail"):
        return report.wasxfail or None
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ").strip() or None
    return None


def _not_installed(config: pytest.Config) -> list[str]:
    """Names on the run's list that the installed Tempest lacks (the tempest plugin's)."""
    from tcup_pytest.plugins.tempest import STATE_KEY

    run = config.stash.get(STATE_KEY, None)
    return [split_test_id(line)[0] for line in getattr(run, "missing", [])]


def _name_from_nodeid(nodeid: str) -> str:
    path, _, rest = nodeid.partition("::")
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *rest.split("::")]) if rest else module


def _utc(stamp: float | None) -> dt.datetime:
    return dt.datetime.fromtimestamp(stamp if stamp is not None else time.time(), dt.UTC)


def _verdict_guideline(config: pytest.Config) -> str | None:
    """--verdict, else the guideline the Tempest plugin selected tests from (--guideline)."""
    return config.option.refstack_verdict or config.getoption("tcup_guideline", default=None)


def _cpid_from_cloud(config: pytest.Config) -> str:
    """cpid from the configured cloud's catalog; empty when no cloud is configured."""
    try:
        from tcup_pytest.plugins.cloud import get_cloud_config
    except ImportError:
        return ""
    from tcup_pytest.refstack.cpid import cpid_from_auth_url, cpid_from_session

    cloud = get_cloud_config(config)
    if cloud is None:
        return ""
    try:
        return cpid_from_session(cloud.session())
    except TcupError as exc:  # no session at all: refstack-client's fallback still applies
        LOG.warning("no keystone session for the cpid (%s); using the auth URL's host hash", exc)
        return cpid_from_auth_url(cloud.auth_url or "")
