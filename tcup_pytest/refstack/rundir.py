"""One run's directory: every artifact of ``tcup run`` in one place, saved before any upload.

::

    tcup-runs/20261203T004500/
        junit.xml        results.json     refstack.json (the upload body)
        results.subunit  verdict.json     run.json (what ran, exit code, upload receipt)

``tcup upload <run dir>`` reads ``run.json`` to finish an upload that failed: the server it
was meant for and the body are both there, so nothing is rerun.

    >>> run = RunDir.create()                       # doctest: +SKIP
    >>> pytest.main([..., *run.pytest_args(verdict=True)])   # doctest: +SKIP
    >>> run.upload(RefStackClient(url))             # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tcup_pytest.errors import InputFileError
from tcup_pytest.refstack.results import write_json_atomic

if TYPE_CHECKING:
    from tcup_pytest.refstack.client import RefStackClient, UploadReceipt
    from tcup_pytest.refstack.signing import SigningKey

DEFAULT_ROOT = Path("tcup-runs")
INFO = "run.json"


@dataclass(frozen=True)
class RunDir:
    path: Path

    junit = property(lambda self: self.path / "junit.xml")
    results = property(lambda self: self.path / "results.json")
    body = property(lambda self: self.path / "refstack.json")
    subunit = property(lambda self: self.path / "results.subunit")
    verdict = property(lambda self: self.path / "verdict.json")

    @classmethod
    def create(cls, path: str | Path | None = None) -> RunDir:
        """``path`` (may exist, e.g. a mounted results dir) or a new ``tcup-runs/<time>``."""
        if path is None:
            stamp = time.strftime("%Y%m%dT%H%M%S")
            path, n = DEFAULT_ROOT / stamp, 1
            while path.exists():  # two runs in one second
                n += 1
                path = DEFAULT_ROOT / f"{stamp}-{n}"
        run = cls(Path(path))
        run.path.mkdir(parents=True, exist_ok=True)
        return run

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run directory (``tcup upload DIR``); one clear line otherwise."""
        run = cls(Path(path))
        if not run.body.is_file():
            raise InputFileError(f"{path} holds no refstack.json: not a tcup run directory",
                                 hint="Give the directory `tcup run` printed, or a results file")
        return run

    def pytest_args(self, *, verdict: bool) -> list[str]:
        """Where the reporting plugins write (the verdict only when a guideline is known)."""
        args = ["--junitxml", str(self.junit), "--results-json", str(self.results),
                "--refstack-json", str(self.body), "--subunit", str(self.subunit)]
        return args + (["--verdict-json", str(self.verdict)] if verdict else [])

    def artifacts(self) -> list[Path]:
        return sorted(p for p in self.path.iterdir() if p.is_file())

    # -- run.json -----------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def record(self, **fields: Any) -> None:
        """Add to run.json (written atomically; secrets never go in here)."""
        write_json_atomic(self.path / INFO, {**self.info(), **fields})

    def upload(self, client: RefStackClient, *, key: SigningKey | None = None
               ) -> UploadReceipt:
        """Send refstack.json; the receipt (or the failure) is recorded in run.json."""
        from tcup_pytest.errors import TcupError
        from tcup_pytest.refstack.client import encode_body
        from tcup_pytest.refstack.results import ResultSet

        try:
            ResultSet.load(self.body).require_passes()
            body = json.loads(self.body.read_text(encoding="utf-8"))
            receipt = client.upload(encode_body(body), key=key)
        except TcupError as error:
            self.record(upload={"url": client.url, "error": str(error), "signed": bool(key)})
            raise
        self.record(upload={"url": client.url, "test_id": receipt.test_id,
                            "result_url": receipt.url, "signed": bool(key)})
        return receipt
