"""Test results and the RefStack upload body made from them.

A run's results are a set keyed by (test name, uuid): files from several runs (shards, reruns)
merge into one deterministic set, and the upload body is derived from that set, never edited by
hand. The body follows the server's rules (see the RefStack schema): passed tests only, names
without ``[...]``, bare uuids, no duplicate names even by case (the server's collation is
case-insensitive and a duplicate makes it answer 500).

    >>> rs = ResultSet([TestResult("a.B.test_x[id-0146f675-ffbd-4208-b3a4-60eb628dbc5e]")])
    >>> rs.body(cpid="c0ffee")["results"]
    [{'name': 'a.B.test_x', 'uuid': '0146f675-ffbd-4208-b3a4-60eb628dbc5e'}]
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tcup_pytest.errors import ExitCode, InputFileError, TcupError
from tcup_pytest.ids import valid_uuid

LOG = logging.getLogger(__name__)

PASSED, FAILED, SKIPPED, XFAIL = "passed", "failed", "skipped", "xfail"
OUTCOMES = (PASSED, FAILED, SKIPPED, XFAIL)
#: When one test appears more than once (rerun, shards), the best outcome wins.
_RANK = {PASSED: 3, XFAIL: 2, FAILED: 1, SKIPPED: 0}
#: How bad an outcome is: one run's test is as bad as its worst phase or variant.
SEVERITY = {PASSED: 0, SKIPPED: 1, XFAIL: 2, FAILED: 3}
#: Our own full-results format (outcomes of every test, not only the passes).
FORMAT = "tcup-results/1"
#: Limits of the server's columns; longer or non-Latin-1 names make it answer 500.
MAX_NAME, MAX_CPID = 512, 128


class EmptyResults(TcupError):
    """The results hold no passed test: RefStack would answer 400, so we say so first."""

    exit_code = ExitCode.EMPTY_RESULTS


def split_test_id(test_id: str) -> tuple[str, str | None, tuple[str, ...]]:
    """``name[id-<uuid>,smoke]`` → (name, uuid, other attrs), as refstack-client cuts it.

    The name loses everything from the first ``[`` to the last ``]``; the uuid is the first
    ``id-`` attribute without its prefix.
    """
    start, end = test_id.find("["), test_id.rfind("]")
    if start < 0 or end < start:
        return test_id, None, ()
    name = test_id[:start] + test_id[end + 1:]
    attrs = [a.strip() for a in test_id[start + 1:end].split(",") if a.strip()]
    uuid = next((a[3:] for a in attrs if a.startswith("id-")), None)
    return name, uuid, tuple(a for a in attrs if not a.startswith("id-"))


@dataclass(frozen=True)
class TestResult:
    """One test's result. ``name`` may carry ``[id-...]``: it is split on creation."""

    __test__ = False

    name: str
    uuid: str | None = None
    outcome: str = PASSED
    duration: float = 0.0
    attrs: tuple[str, ...] = field(default_factory=tuple, compare=False)
    #: why it did not pass (a skip's reason), for the verdict's "not run" lines
    reason: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        name, uuid, attrs = split_test_id(self.name)
        uuid = (self.uuid or uuid or None)
        if uuid and uuid.startswith("id-"):
            uuid = uuid[3:]
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "uuid", uuid.lower() if uuid else None)
        object.__setattr__(self, "attrs", tuple(sorted({*self.attrs, *attrs})))
        if self.outcome not in OUTCOMES:
            raise ValueError(f"unknown outcome {self.outcome!r} (one of {OUTCOMES})")

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.uuid or "")

    @property
    def passed(self) -> bool:
        return self.outcome == PASSED

    def to_dict(self) -> dict:
        data = asdict(self)
        data["attrs"] = list(self.attrs)
        if data["reason"] is None:
            del data["reason"]
        return data


class ResultSet:
    """Results of one or more runs, merged by (name, uuid); best outcome wins.

    ``cpid`` and ``duration_seconds`` travel with the set so a saved file can be uploaded
    later without the cloud at hand.
    """

    def __init__(self, results: Iterable[TestResult] = (), *, cpid: str | None = None,
                 duration_seconds: float = 0) -> None:
        self._by_key: dict[tuple[str, str], TestResult] = {}
        self.cpid = cpid
        self.duration_seconds = duration_seconds
        self.passes_only = False  # true when read from an upload body: failures are unknown
        for result in results:
            self.add(result)

    def add(self, result: TestResult) -> None:
        old = self._by_key.get(result.key)
        if old is None or _RANK[result.outcome] > _RANK[old.outcome]:
            self._by_key[result.key] = result

    def merge(self, other: ResultSet) -> ResultSet:
        """A new set with both runs; durations add up, the first known cpid is kept."""
        merged = ResultSet([*self, *other], cpid=self.cpid or other.cpid,
                           duration_seconds=self.duration_seconds + other.duration_seconds)
        merged.passes_only = self.passes_only and other.passes_only
        return merged

    def __iter__(self) -> Iterator[TestResult]:
        return iter(sorted(self._by_key.values(), key=lambda r: (r.name, r.uuid or "")))

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def passed(self) -> list[TestResult]:
        return [r for r in self if r.passed]

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for result in self._by_key.values():
            counts[result.outcome] += 1
        return counts

    # -- the RefStack body ------------------------------------------------------------------
    def body(self, cpid: str | None = None) -> dict:
        """The upload body: exactly ``cpid``, ``duration_seconds`` (int) and the passes."""
        cpid = cpid if cpid is not None else (self.cpid or "")
        if len(cpid) > MAX_CPID:
            raise InputFileError(f"cpid is {len(cpid)} characters long; RefStack allows "
                                 f"{MAX_CPID}", hint="Pass a shorter --cpid")
        seen: set[str] = set()
        items = []
        for result in self.passed:
            folded = result.name.strip().lower()
            if folded in seen or not _uploadable(result.name):
                continue
            seen.add(folded)
            item = {"name": result.name}
            if result.uuid and valid_uuid(result.uuid):
                item["uuid"] = result.uuid
            items.append(item)
        return {"cpid": cpid, "duration_seconds": int(self.duration_seconds),
                "results": items}

    def require_passes(self) -> None:
        """Fail before sending anything if the server would reject the body as empty."""
        if not self.body()["results"]:
            raise EmptyResults(
                f"the results hold no passed test ({_describe_counts(self.counts())})",
                hint="RefStack accepts only runs with at least one passing test; check the run")

    # -- files ------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": FORMAT, "cpid": self.cpid,
                "duration_seconds": self.duration_seconds,
                "results": [r.to_dict() for r in self]}

    def save(self, path: str | Path, *, body: bool = False, cpid: str | None = None) -> Path:
        """Write the full results (or, with ``body``, the upload body) atomically."""
        data = self.body(cpid) if body else self.to_dict()
        return write_json_atomic(path, data)

    @classmethod
    def from_dict(cls, data: dict) -> ResultSet:
        """Our full-results format, or a RefStack upload body (passes only)."""
        if not isinstance(data, dict) or not isinstance(data.get("results"), list):
            raise ValueError("no 'results' list")
        if data.get("format") == FORMAT:
            results = [TestResult(r["name"], r.get("uuid"), r.get("outcome", PASSED),
                                  float(r.get("duration") or 0), tuple(r.get("attrs") or ()),
                                  r.get("reason"))
                       for r in data["results"]]
            return cls(results, cpid=data.get("cpid"),
                       duration_seconds=data.get("duration_seconds") or 0)
        results = [TestResult(r["name"], r.get("uuid")) for r in data["results"]]
        rs = cls(results, cpid=data.get("cpid"), duration_seconds=data.get("duration_seconds") or 0)
        rs.passes_only = True
        return rs

    @classmethod
    def load(cls, path: str | Path) -> ResultSet:
        """Read any results file we know: our JSON, a RefStack body, subunit v1/v2, junit."""
        from tcup_pytest.refstack import sources

        return sources.load(Path(path))


def worst_per_test(results: Iterable[TestResult]) -> list[TestResult]:
    """Within one run, variants of a test (parametrised cases) share a name and uuid: the
    test is as good as its worst variant. (Across runs, :meth:`ResultSet.merge`: best wins.)"""
    merged: dict[tuple[str, str], TestResult] = {}
    for result in results:
        old = merged.get(result.key)
        if old is None:
            merged[result.key] = result
            continue
        worst = max(old, result, key=lambda r: SEVERITY[r.outcome])
        merged[result.key] = TestResult(old.name, old.uuid, worst.outcome,
                                        old.duration + result.duration, old.attrs, worst.reason)
    return list(merged.values())


def _uploadable(name: str) -> bool:
    """Names the server stores: Latin-1 and at most 512 characters (else it answers 500)."""
    try:
        name.encode("latin-1")
    except UnicodeEncodeError:
        LOG.warning("not uploading %s: RefStack stores Latin-1 names only", name)
        return False
    if len(name) > MAX_NAME:
        LOG.warning("not uploading %s...: longer than %d characters", name[:60], MAX_NAME)
        return False
    return True


def _describe_counts(counts: dict[str, int]) -> str:
    parts = [f"{n} {outcome}" for outcome, n in counts.items() if n]
    return ", ".join(parts) or "no test at all"


def write_json_atomic(path: str | Path, data: object) -> Path:
    """Write JSON next to ``path`` then rename: a crash never leaves half a results file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=False)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
