"""The networking stand-in answers Nova's read-only calls with empty lists and refuses the
rest, so a test needing real networking fails instead of passing on a fake."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tcup_pytest.testbed.base import ServiceProcess, free_port, http_ready, wait_for


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = Path(tmp_path_factory.mktemp("standin")) / "standin.log"
    proc = ServiceProcess("network stand-in", [sys.executable, "-m",
                                               "tcup_pytest.testbed.network_standin", str(port)],
                          log=log)
    proc.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(http_ready(url), timeout=30, what="network stand-in", log=log)
        yield url
    finally:
        proc.stop()


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_collections_are_empty(standin: str) -> None:
    assert _get(f"{standin}/v2.0/ports?device_id=x&fields=id") == (200, {"ports": []})
    assert _get(f"{standin}/v2.0/extensions") == (200, {"extensions": []})


def test_version_document_points_at_v2(standin: str) -> None:
    status, body = _get(standin + "/")
    assert status == 200 and body["versions"][0]["id"] == "v2.0"


def test_writes_are_refused(standin: str) -> None:
    request = urllib.request.Request(f"{standin}/v2.0/ports", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 501
