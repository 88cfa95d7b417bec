"""How long converting a large subunit stream to a RefStack body takes (goal: < 1 s for 10k).

Run: .venv/bin/python benchmarks/bench_subunit_convert.py [N]. Prints figures; asserts
nothing (timings on a shared machine are for people, not for tests).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import statistics
import sys
import time
import uuid

import subunit

from tcup_pytest.refstack.client import encode_body
from tcup_pytest.refstack.sources import from_subunit


def make_v2(n: int) -> bytes:
    """A Tempest-like stream: ids with [id-uuid,smoke], 90% pass, 5% fail (traceback), 5% skip."""
    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(n):
        test_id = (f"tempest.api.compute.servers.test_m{i // 50}.ServersTest{i % 50}."
                   f"test_case_{i}[id-{uuid.UUID(int=i)},smoke]")
        start = t0 + dt.timedelta(milliseconds=10 * i)
        out.status(test_id=test_id, test_status="inprogress", timestamp=start,
                   route_code=str(i % 4))
        status = "fail" if i % 20 == 0 else "skip" if i % 20 == 1 else "success"
        extra = {}
        if status == "fail":
            extra = {"file_name": "traceback", "mime_type": "text/plain;charset=utf8",
                     "file_bytes": b"Traceback (most recent call last):\n  boom\n" * 5,
                     "eof": True}
        out.status(test_id=test_id, test_status=status, route_code=str(i % 4),
                   timestamp=start + dt.timedelta(milliseconds=8), test_tags={"worker-0"},
                   **extra)
    return buf.getvalue()


def convert(data: bytes) -> bytes:
    return encode_body(from_subunit(io.BytesIO(data)).body("cpid"))


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    data = make_v2(n)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        body = convert(data)
        runs.append(time.perf_counter() - start)
    passed = len(json.loads(body)["results"])
    best, median = min(runs), statistics.median(runs)
    print(f"subunit v2 stream: {n} results, {len(data) / 1e6:.2f} MB → body of {passed} passes, "
          f"{len(body) / 1e6:.2f} MB")
    print(f"convert (parse + body + JSON): best {best:.3f} s, median {median:.3f} s "
          f"({n / median:,.0f} results/s); goal < 1 s: {'met' if median < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
