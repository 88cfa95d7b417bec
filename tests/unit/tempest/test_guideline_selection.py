"""Guideline -> test list -> selection, as RefStack's /tests endpoint makes it."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.tempest.select import TestList, guideline_lines

DATA = Path(__file__).parents[2] / "data" / "refstack"


def test_2020_06_platform_required_aliases_no_flagged_is_the_reference_list():
    """interop-2020.06.json selects exactly the endpoint's answer (377 lines, 2 duplicates)."""
    expected = (DATA / "tests-2020.06-platform-required-alias-noflag.txt").read_text()
    lines = guideline_lines("2020.06", "platform", "required", flagged=False)
    assert lines == expected.splitlines()
    assert len(TestList.parse("\n".join(lines)).entries) == 377


def test_flagged_tests_only_when_asked():
    without = guideline_lines("2020.06", "platform", "required", flagged=False)
    with_flagged = guideline_lines("2020.06", "platform", "required", flagged=True)
    assert set(without) < set(with_flagged)


def test_addon_guideline_with_bare_uuids():
    lines = guideline_lines("dns.2020.06", "dns", "required,advisory", flagged=False)
    entries = TestList.parse("\n".join(lines)).entries
    assert entries and all(e.uuid and not e.is_regex for e in entries)
    assert all(e.name.startswith("designate_tempest_plugin.") for e in entries)


def test_guideline_file_path(tmp_path: Path):
    bundled = Path(__file__).parents[3] / "tcup_pytest" / "data" / "guidelines" / "2020.06.json"
    assert guideline_lines(str(bundled), "compute", "required", flagged=False)


@pytest.mark.parametrize(("source", "target", "status"), [
    ("1999.01", "platform", "required"), ("2020.06", "bogus", "required"),
    ("2020.06", "platform", "mandatory")])
def test_bad_guideline_input_is_a_guideline_error(source: str, target: str, status: str):
    with pytest.raises(TcupError) as info:
        guideline_lines(source, target, status, flagged=False)
    assert info.value.exit_code == ExitCode.GUIDELINE


def test_test_list_from_url(tmp_path: Path):
    (tmp_path / "list.txt").write_text("tempest.api.a.B.test_c[id-"
                                       "6f8e4436-fc96-4282-8122-e41df57197a9]\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(tmp_path), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        assert TestList.load(f"{url}/list.txt").names == ["tempest.api.a.B.test_c"]
        with pytest.raises(TcupError) as info:
            TestList.load(f"{url}/missing.txt")
        assert info.value.exit_code == ExitCode.INPUT_FILE and "HTTP 404" in str(info.value)
    finally:
        server.shutdown()
        server.server_close()
