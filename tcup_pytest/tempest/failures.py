"""Readable failures for testtools tests under pytest.

testtools reports an error as ``addError(test, details=...)``. pytest's unittest result takes
no ``details``, so testtools folds everything into a ``_StringException`` and pytest shows
"NOTE: Incompatible Exception Representation" with the real type and message lost. We give
the item an ``addError``/``addFailure`` that accepts details: the real exception (recorded with
testtools' own ``addOnException`` hook) becomes the failure, the other details (``addDetail``
content, later tracebacks of cleanups) become report sections.

A ``setUpClass``/``resource_setup`` failure runs once, but pytest reports it at the setup of
every test of the class; we keep the full report for the first and a one-line pointer for the
rest. A class-level skip (``skip_checks``) is reported at the test's location with Tempest's
reason, not at ``_pytest/unittest.py``.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

_TRACEBACK_SUBTYPE = "x-traceback"


class DetailsRecorder:
    """Collects exc_infos as testtools sees them, for one test run."""

    def __init__(self) -> None:
        self.exc_infos: list[tuple] = []

    def __call__(self, exc_info: tuple) -> None:
        self.exc_infos.append(exc_info)

    def first_error(self, skip_exception: type | None) -> tuple | None:
        for exc_info in self.exc_infos:
            if skip_exception is None or not issubclass(exc_info[0], skip_exception):
                return exc_info
        return None


def install(item: pytest.Item) -> None:
    """Before the call phase: record exceptions and accept ``details=`` on this item."""
    testcase = item.instance
    if testcase is None or not hasattr(testcase, "addOnException"):
        return
    recorder = DetailsRecorder()
    testcase.addOnException(recorder)
    for name in ("addError", "addFailure"):
        original = getattr(type(item), name)
        setattr(item, name, functools.partial(_add_with_details, item, original, recorder))


def uninstall(item: pytest.Item) -> None:
    for name in ("addError", "addFailure"):
        item.__dict__.pop(name, None)


def _add_with_details(item: pytest.Item, original: Any, recorder: DetailsRecorder,
                      test: Any, err: tuple | None = None,
                      details: dict | None = None) -> None:
    if err is not None or details is None:
        return original(item, test, err)
    exc_info = recorder.first_error(getattr(test, "skipException", None))
    if exc_info is None:
        raise TypeError("no recorded exception")  # testtools then falls back to its text
    original(item, test, exc_info)
    for name, content in sorted(details.items()):
        if name == "traceback" and _is_traceback(content):
            continue  # that is the exception we just reported
        text = _text_of(content)
        if text.strip():
            item.add_report_section("call", f"detail: {name}", text)


def _is_traceback(content: Any) -> bool:
    return getattr(getattr(content, "content_type", None), "subtype", "") == _TRACEBACK_SUBTYPE


def _text_of(content: Any) -> str:
    try:
        return content.as_text()
    except Exception:  # binary attachment: name it, don't dump it
        return f"<{getattr(content, 'content_type', 'binary')} attachment>"


class ClassSetupReports:
    """Rewrites setup reports of Tempest items: class errors once, class skips with a reason."""

    def __init__(self) -> None:
        self._failed: dict[type, tuple[BaseException, str]] = {}

    def rewrite(self, item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport
                ) -> None:
        if report.when != "setup" or call.excinfo is None:
            return
        cls = item.cls
        if report.failed:
            error = call.excinfo.value
            seen = self._failed.get(cls)
            if seen is not None and seen[0] is error:
                report.longrepr = (f"{cls.__name__}.setUpClass failed (reported once, at "
                                   f"{seen[1]}): {type(error).__name__}: {error}")[:500]
                item.user_properties.append(("tempest_class_error", "repeat"))
            else:
                self._failed[cls] = (error, report.nodeid)
                report.sections.append(("tempest", f"{cls.__module__}.{cls.__qualname__}"
                                        ".setUpClass failed; the class's other tests are "
                                        "reported with a pointer here"))
        elif report.skipped and isinstance(report.longrepr, tuple):
            path, lineno, reason = report.longrepr
            if "_pytest" in str(path):
                fspath, line, _ = item.reportinfo()
                report.longrepr = (str(fspath), (line or 0) + 1, reason)
                item.user_properties.append(("tempest_skip_scope", "class"))
