"""A local compliance verdict: which capabilities of a guideline a run passed.

Tests are matched by name (then aliases, as the RefStack UI does), then by idempotent id, so
a renamed Tempest test still counts. A capability passes when all its unflagged tests passed;
it fails when one of them failed; otherwise it was not run. The run complies when every
required capability of the target passed.

    >>> v = Verdict.judge(Guideline.bundled("2020.06"), ResultSet.load("r.json"))  # doctest: +SKIP
    >>> print(v.table()); v.passed                                                # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tcup_pytest.interop.guidelines import Capability, Guideline
from tcup_pytest.refstack.results import FAILED, PASSED, ResultSet, TestResult

CAP_PASSED, CAP_FAILED, CAP_NOT_RUN = "passed", "failed", "not run"
NOT_RUN = "not run"
NOT_SELECTED, FLAGGED = "not selected for this run", "flagged (run it with --flagged)"


@dataclass(frozen=True)
class TestVerdict:
    __test__ = False

    name: str
    uuid: str | None
    outcome: str  # passed / failed / skipped / xfail / not run
    flagged: bool
    matched_as: str | None = None  # the result's name when it matched by alias or uuid
    reason: str | None = None  # why it did not run (skip reason, not installed, flagged)


@dataclass(frozen=True)
class CapabilityVerdict:
    name: str
    status: str
    state: str
    tests: tuple[TestVerdict, ...]

    def tests_with(self, *outcomes: str) -> list[str]:
        return [t.name for t in self.tests if t.outcome in outcomes]


class Verdict:
    """Per-capability states for one guideline target, and the overall answer."""

    def __init__(self, guideline_id: str, target: str, capabilities: list[CapabilityVerdict],
                 *, passes_only: bool = False) -> None:
        self.guideline_id = guideline_id
        self.target = target
        self.capabilities = capabilities
        self.passes_only = passes_only

    @classmethod
    def judge(cls, guideline: Guideline, results: ResultSet | Iterable[TestResult],
              target: str = "platform", *, not_installed: Iterable[str] = ()) -> Verdict:
        """``not_installed``: names the run could not select because the installed Tempest
        lacks them (their "not run" says so)."""
        results = results if isinstance(results, ResultSet) else ResultSet(results)
        absent = {name.lower() for name in not_installed}
        by_name: dict[str, TestResult] = {}
        by_uuid: dict[str, TestResult] = {}
        for result in results:
            _keep_best(by_name, result.name.lower(), result)
            if result.uuid:
                _keep_best(by_uuid, result.uuid, result)
        caps = [_judge_capability(cap, guideline.status_of(cap.name, target) or "", by_name,
                                  by_uuid, absent)
                for cap in guideline.capabilities_of(target)]
        caps.sort(key=lambda c: (_STATUS_ORDER.get(c.status, 9), c.name))
        return cls(guideline.id, target, caps, passes_only=results.passes_only)

    @property
    def required(self) -> list[CapabilityVerdict]:
        return [c for c in self.capabilities if c.status == "required"]

    @property
    def passed(self) -> bool:
        return bool(self.required) and all(c.state == CAP_PASSED for c in self.required)

    def summary(self) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for cap in self.capabilities:
            row = out.setdefault(cap.status, {CAP_PASSED: 0, CAP_FAILED: 0, CAP_NOT_RUN: 0})
            row[cap.state] += 1
        return out

    def to_dict(self) -> dict:
        return {
            "guideline": self.guideline_id, "target": self.target, "passed": self.passed,
            "passes_only": self.passes_only, "summary": self.summary(),
            "capabilities": [
                {"name": c.name, "status": c.status, "state": c.state,
                 "failed_tests": c.tests_with(FAILED),
                 "not_run_tests": c.tests_with(NOT_RUN, "skipped", "xfail"),
                 "flagged_tests": [t.name for t in c.tests if t.flagged],
                 "tests": [{"name": t.name, "uuid": t.uuid, "outcome": t.outcome,
                            "flagged": t.flagged, "matched_as": t.matched_as,
                            "reason": t.reason}
                           for t in c.tests]}
                for c in self.capabilities]}

    def table(self, *, statuses: Iterable[str] = ("required", "advisory")) -> str:
        """A readable report: one line per capability, then the tests that let it down."""
        shown = set(statuses)
        lines = [f"Guideline {self.guideline_id}, target {self.target}"]
        width = max((len(c.name) for c in self.capabilities), default=10)
        unselected = [c for c in self.capabilities if c.status in shown and _unselected(c)]
        for cap in self.capabilities:
            if cap.status not in shown or cap in unselected:
                continue
            lines.append(f"  {cap.name:<{width}}  {cap.status:<10}  {cap.state.upper()}")
            if cap.state != CAP_PASSED:
                lines.extend(f"      failed: {name}" for name in cap.tests_with(FAILED))
                lines.extend(_not_run_lines(cap))
            elif cap.tests and all(t.flagged and t.outcome != PASSED for t in cap.tests):
                lines.append(f"      all {len(cap.tests)} tests flagged: passed without "
                             "running (RefStack does not count flagged tests)")
        if unselected:
            lines.append(f"  ({len(unselected)} capabilities not selected for this run: "
                         f"{', '.join(c.name for c in unselected[:4])}"
                         f"{', ...' if len(unselected) > 4 else ''}; all in verdict.json)")
        for status, row in self.summary().items():
            lines.append(f"{status}: {row[CAP_PASSED]} passed, {row[CAP_FAILED]} failed, "
                         f"{row[CAP_NOT_RUN]} not run")
        if self.passes_only:
            lines.append("(the results file lists passes only: failed tests show as not run)")
        lines.append(f"VERDICT: {'PASS' if self.passed else 'FAIL'} — "
                     f"{sum(c.state == CAP_PASSED for c in self.required)} of "
                     f"{len(self.required)} required capabilities passed")
        return "\n".join(lines)


def _why_absent(names: Iterable[str], flagged: bool, absent: set[str]) -> str:
    if any(n.lower() in absent for n in names):
        return "not in the installed Tempest"
    return FLAGGED if flagged else NOT_SELECTED


_STATUS_ORDER = {"required": 0, "advisory": 1, "deprecated": 2, "removed": 3}
_RANK = {PASSED: 3, "xfail": 2, FAILED: 1, "skipped": 0}


def _keep_best(index: dict[str, TestResult], key: str, result: TestResult) -> None:
    old = index.get(key)
    if old is None or _RANK[result.outcome] > _RANK[old.outcome]:
        index[key] = result


def _not_run_lines(cap: CapabilityVerdict) -> list[str]:
    """Tests that did not run, grouped by reason: one line per reason when several share it
    (a missing service skips a whole capability), else the test's name and its reason."""
    by_reason: dict[str, list[str]] = {}
    for test in cap.tests:
        if test.outcome in (NOT_RUN, "skipped", "xfail"):
            by_reason.setdefault(test.reason or "no reason given", []).append(test.name)
    return [f"      not run ({len(names)} tests): {reason}" if len(names) > 1
            else f"      not run: {names[0]} ({reason})"
            for reason, names in by_reason.items()]


def _unselected(cap: CapabilityVerdict) -> bool:
    """Nothing of it ran because the run's selection left it out (--include, --exclude)."""
    return cap.state == CAP_NOT_RUN and all(
        t.reason in (NOT_SELECTED, FLAGGED) for t in cap.tests)


def _judge_capability(cap: Capability, status: str, by_name: dict[str, TestResult],
                      by_uuid: dict[str, TestResult], absent: set[str]) -> CapabilityVerdict:
    tests = []
    for test in cap.tests:
        found = next((by_name[n.lower()] for n in test.names if n.lower() in by_name), None)
        if found is None and test.uuid:
            found = by_uuid.get(test.uuid)
        outcome = found.outcome if found else NOT_RUN
        matched_as = found.name if found and found.name != test.name else None
        reason = found.reason if found else _why_absent(test.names, bool(test.flagged), absent)
        tests.append(TestVerdict(test.name, test.uuid, outcome, bool(test.flagged), matched_as,
                                 None if outcome == PASSED else reason))
    counted = [t for t in tests if not t.flagged]
    if all(t.outcome == PASSED for t in counted):
        state = CAP_PASSED
    elif any(t.outcome == FAILED for t in counted):
        state = CAP_FAILED
    else:
        state = CAP_NOT_RUN
    return CapabilityVerdict(cap.name, status, state, tuple(tests))
