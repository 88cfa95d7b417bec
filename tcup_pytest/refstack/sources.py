"""Read results from the files other tools write: subunit v1/v2 streams and junit XML.

Subunit goes through python-subunit (v2 via ``ByteStreamToStreamResult``, v1 via
``ProtocolTestCase``), XML through lxml. The format is told from the first bytes, so users
never say which one they have.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import BinaryIO

import subunit
import testtools
from lxml import etree

from tcup_pytest.errors import InputFileError
from tcup_pytest.refstack.results import (
    FAILED,
    PASSED,
    SKIPPED,
    XFAIL,
    ResultSet,
    TestResult,
    worst_per_test,
)

#: subunit status → our outcome; 'exists'/'inprogress' only mean "not finished": not run.
_SUBUNIT_OUTCOMES = {"success": PASSED, "fail": FAILED, "uxsuccess": FAILED,
                     "skip": SKIPPED, "xfail": XFAIL}
_V2_SIGNATURE = 0xB3
_V1_KEYWORDS = (b"test:", b"testing:", b"test ", b"testing ", b"success", b"successful",
                b"failure", b"error", b"skip", b"xfail", b"uxsuccess", b"time:", b"tags:")


def load(path: Path) -> ResultSet:
    """A results file of any known kind; one clear error if it is missing or broken."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"results file {path} does not exist",
                             hint="Check the path (run the tests with --refstack-json)") from None
    except OSError as exc:
        raise InputFileError(f"cannot read results file {path}: {exc.strerror}") from None
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if not head:
        raise InputFileError(f"results file {path} is empty")
    if head == b"{":
        return _from_json(data, path)
    if head == b"<":
        return from_junit(data, source=str(path))
    return from_subunit(io.BytesIO(data), source=str(path))


def _from_json(data: bytes, path: Path) -> ResultSet:
    try:
        return ResultSet.from_dict(json.loads(data))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"{path} is not a RefStack or tcup results file ({exc})",
                             hint="Give a file from --refstack-json or tcup convert") from None


def from_subunit(stream: BinaryIO, *, source: str = "stream") -> ResultSet:
    """Results of a subunit v1 or v2 byte stream (v2 when it starts with the 0xB3 packet)."""
    data = stream.read()
    collector = _Collector()
    if data[:1] and data[0] == _V2_SIGNATURE:
        subunit.ByteStreamToStreamResult(io.BytesIO(data), non_subunit_name="stdout").run(
            collector)
        if collector.parse_error:
            raise InputFileError(f"{source}: broken subunit v2 stream ({collector.parse_error})",
                                 hint="Regenerate it (stestr last --subunit > FILE)")
    else:
        if not any(k in data for k in _V1_KEYWORDS):
            raise InputFileError(f"{source} is neither subunit (v1 or v2), junit XML nor JSON",
                                 hint="Give a .subunit stream, a junit .xml or a results .json")
        decorator = testtools.ExtendedToStreamDecorator(collector)
        decorator.startTestRun()
        subunit.ProtocolTestCase(io.BytesIO(data), passthrough=io.BytesIO()).run(decorator)
        decorator.stopTestRun()
    if not collector.results:
        raise InputFileError(f"{source}: no finished test in the subunit stream",
                             hint="Check the run produced results (stestr last --subunit)")
    return ResultSet(worst_per_test(collector.results), duration_seconds=collector.wall_time())


class _Collector(testtools.StreamResult):
    """Turns subunit status events into TestResults (start time from 'inprogress')."""

    def __init__(self) -> None:
        super().__init__()
        self.results: list[TestResult] = []
        self.parse_error: str | None = None
        self._started: dict[str, object] = {}
        self._first = self._last = None

    def status(self, test_id=None, test_status=None, test_tags=None, runnable=True,
               file_name=None, file_bytes=None, eof=False, mime_type=None, route_code=None,
               timestamp=None):
        if test_id == "subunit.parser":
            if file_name == "Parser Error" and file_bytes:
                detail = bytes(file_bytes).decode("ascii", "replace").strip()[:120]
                self.parse_error = detail or "unreadable packet"
            elif not self.parse_error:
                self.parse_error = "unreadable packet"
            return
        if timestamp is not None:
            self._first = self._first or timestamp
            self._last = timestamp
        if test_id is None or test_status is None:
            return
        if test_status == "inprogress":
            self._started[test_id] = timestamp
            return
        outcome = _SUBUNIT_OUTCOMES.get(test_status)
        if outcome is None:
            return
        started = self._started.pop(test_id, None)
        duration = (timestamp - started).total_seconds() if started and timestamp else 0.0
        self.results.append(TestResult(test_id, None, outcome, max(duration, 0.0),
                                       tuple(sorted(test_tags or ()))))

    def wall_time(self) -> float:
        if self._first is None or self._last is None:
            return 0
        return max((self._last - self._first).total_seconds(), 0)


def from_junit(data: bytes, *, source: str = "junit") -> ResultSet:
    """Results of a junit XML report (pytest's, stestr's subunit2junitxml, tempest's).

    Our own properties ``test_name``/``uuid`` win over classname + name when present.
    """
    try:
        root = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False,
                                                             no_network=True))
    except etree.XMLSyntaxError as exc:
        raise InputFileError(f"{source}: broken junit XML ({exc})",
                             hint="Regenerate it (pytest --junitxml FILE)") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise InputFileError(f"{source}: XML root <{root.tag}> is not junit "
                             "(<testsuites> or <testsuite>)")
    results = []
    suite_time = 0.0
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        suite_time += _float(suite.get("time"))
    for case in root.iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        classname, name = case.get("classname") or "", case.get("name") or ""
        full = props.get("test_name") or (f"{classname}.{name}" if classname else name)
        if props.get("test_name") and "[" in name:
            full += name[name.find("["):name.rfind("]") + 1]
        results.append(TestResult(full, props.get("uuid"), _junit_outcome(case),
                                  _float(case.get("time"))))
    return ResultSet(worst_per_test(results), duration_seconds=suite_time)


def _junit_outcome(case) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return FAILED
    if case.find("skipped") is not None:
        skipped = case.find("skipped")
        return XFAIL if (skipped.get("type") or "").endswith("xfail") else SKIPPED
    return PASSED


def _float(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0
