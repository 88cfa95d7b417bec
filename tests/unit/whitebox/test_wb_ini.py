"""The INI line editor keeps every byte it was not asked to change."""

from __future__ import annotations

import pytest

from tcup_pytest.whitebox.ini import apply_changes, get_option, set_option

TEXT = ("# nova.conf\n[DEFAULT]\n# debug logging\ndebug = false\nhost=compute-1\n\n"
        "[compute]\ncpu_shared_set = 0-1,8-9\n\n[libvirt]\nvirt_type = qemu\n")


@pytest.mark.idempotent_id("c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d7001")
def test_get() -> None:
    assert get_option(TEXT, "DEFAULT", "debug") == "false"
    assert get_option(TEXT, "DEFAULT", "host") == "compute-1"
    assert get_option(TEXT, "compute", "cpu_shared_set") == "0-1,8-9"
    assert get_option(TEXT, "compute", "nope") is None
    assert get_option(TEXT, "nosection", "debug") is None


@pytest.mark.idempotent_id("c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d7002")
def test_set_replace_add_delete() -> None:
    changed = set_option(TEXT, "DEFAULT", "debug", "true")
    assert changed == TEXT.replace("debug = false", "debug = true")
    added = set_option(TEXT, "compute", "cpu_dedicated_set", "2-7")
    assert "cpu_shared_set = 0-1,8-9\ncpu_dedicated_set = 2-7\n\n[libvirt]" in added
    removed = set_option(TEXT, "compute", "cpu_shared_set", None)
    assert "cpu_shared_set" not in removed and "[compute]\n" in removed
    new_section = set_option(TEXT, "workarounds", "x", "1")
    assert new_section == TEXT + "\n[workarounds]\nx = 1\n"
    assert set_option(TEXT, "nosection", "x", None) == TEXT


@pytest.mark.idempotent_id("c4d5e6f7-0a1b-4c2d-9e3f-4a5b6c7d7003")
def test_duplicates_crlf_and_no_trailing_newline() -> None:
    text = "[a]\r\nx = 1\r\nx = 2\r\n[b]\r\ny = 3"
    assert set_option(text, "a", "x", "9") == "[a]\r\nx = 9\r\n[b]\r\ny = 3"
    assert set_option(text, "b", "z", "4") == "[a]\r\nx = 1\r\nx = 2\r\n[b]\r\ny = 3\r\nz = 4\r\n"
    assert apply_changes("", {"DEFAULT": {"a": 1, "b": None}}) == "[DEFAULT]\na = 1\n"
