"""pytest plugin for the benchmarks: the CPU a run spends around its tests, not in them.

Wall time around the tests of a Tempest run mostly measures how fast the cloud answers
(keystone's speed drifts by a third between runs of the same list here), so the harness's
cost per test is taken in CPU seconds of the pytest process: all of its run loop, minus what
the setup, call and teardown phases spend inside every other plugin's wrappers (fixtures,
``setUpClass``, the test itself). What remains is pytest and our plugins: reports, log
capture, junit, redaction, progress, RefStack results. Serial runs only (one process).

    TCUP_HARNESS_CPU=out.json pytest -p harness_cpu ...
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator

import pytest


class HarnessCPU:
    def __init__(self) -> None:
        self.loop = self.tests = 0.0
        self.items = 0

    def _timed(self, field: str) -> Generator[None, object, object]:
        start = time.process_time()
        try:
            return (yield)
        finally:
            setattr(self, field, getattr(self, field) + time.process_time() - start)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session):
        self.items = len(session.items)
        return (yield from self._timed("loop"))

    # trylast: innermost, so log capture, output capture and our plugins count as harness
    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_setup(self, item: pytest.Item):
        return (yield from self._timed("tests"))

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_call(self, item: pytest.Item):
        return (yield from self._timed("tests"))

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None):
        return (yield from self._timed("tests"))

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        with open(os.environ["TCUP_HARNESS_CPU"], "w", encoding="utf-8") as out:
            json.dump({"loop_cpu_s": self.loop, "test_cpu_s": self.tests,
                       "items": self.items}, out)


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("TCUP_HARNESS_CPU"):
        config.pluginmanager.register(HarnessCPU(), "tcup-harness-cpu")
