"""Progress of a long run: counts and elapsed time instead of a screen of dots.

``--progress=line`` keeps one updating line (``[ 120/1459]  118 passed  1 failed ...``) and
prints each failure's name above it; ``--progress=plain`` prints such a line every
``--progress-interval`` seconds, for CI logs that cannot rewind a line; ``auto`` picks by
whether the output is a terminal. pytest's own header and final summary are left as they are.
"""

from __future__ import annotations

import time

import pytest

OUTCOMES = ("passed", "failed", "skipped")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcup-progress", "progress (tcup-pytest)")
    group.addoption("--progress", dest="tcup_progress", default="off",
                    choices=("auto", "line", "plain", "off"),
                    help="show run progress: one updating line (line), periodic lines (plain), "
                         "chosen by the terminal (auto); default: off (pytest's own output)")
    group.addoption("--progress-interval", dest="tcup_progress_interval", type=float,
                    default=30.0, metavar="SECONDS",
                    help="seconds between plain progress lines (default 30)")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    mode = config.getoption("tcup_progress")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if mode == "off" or reporter is None or hasattr(config, "workerinput"):
        return
    if mode == "auto":
        mode = "line" if reporter.isatty() else "plain"
    config.pluginmanager.register(
        Progress(reporter, mode, config.getoption("tcup_progress_interval")), "tcup-progress")


class Progress:
    """Counts each test once, by its final outcome, and shows the totals."""

    def __init__(self, reporter, mode: str, interval: float) -> None:
        self.reporter = reporter
        self.mode = mode
        self.interval = interval
        self.outcomes: dict[str, str] = {}
        self.total: int | None = None
        self.started = time.monotonic()
        self.last_shown = self.started
        self.last_plain = ""
        # pytest's per-test letters and file names would fight with our line.
        reporter.showfspath = False
        reporter._show_progress_info = False

    # -- counting ---------------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        self.total = len(ids)

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report, config):
        category, letter, word = yield
        return category, "", word  # no letter: counted and shown by us instead

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        outcome = self._outcome(report)
        if outcome is None:
            return
        previous = self.outcomes.get(report.nodeid)
        if previous == "failed":
            return
        self.outcomes[report.nodeid] = outcome
        if outcome == "failed" and previous != "failed":
            self._print_above(f"FAILED {report.nodeid}")
        self._show()

    @staticmethod
    def _outcome(report: pytest.TestReport) -> str | None:
        if report.failed:
            return "failed"
        if report.skipped and report.when in ("setup", "call"):
            return "skipped"
        if report.when == "call":
            return "passed"
        return None

    # -- showing ----------------------------------------------------------------------------

    def line(self) -> str:
        counts = {o: 0 for o in OUTCOMES}
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        ran = len(self.outcomes)
        total = self.total if self.total is not None else "?"
        width = len(str(total))
        elapsed = int(time.monotonic() - self.started)
        parts = "  ".join(f"{counts[o]} {o}" for o in OUTCOMES)
        return f"[{ran:>{width}}/{total}]  {parts}  {elapsed // 60}m{elapsed % 60:02d}s"

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.mode == "line":
            if force or now - self.last_shown >= 0.1:
                self.reporter.rewrite(self.line(), erase=True)
                self.last_shown = now
        elif force or now - self.last_shown >= self.interval:
            line = f"progress: {self.line()}"
            if line != self.last_plain:
                self.reporter.write_line(line)
            self.last_shown, self.last_plain = now, line

    def _print_above(self, text: str) -> None:
        if self.mode == "line":
            self.reporter.rewrite(text, erase=True, red=True)
            self.reporter.line("")
        else:
            self.reporter.write_line(text, red=True)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        self._show(force=True)
        if self.mode == "line":
            self.reporter.line("")
