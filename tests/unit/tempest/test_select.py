"""Test lists: every line form, and matching by name, then (uuid, class), never silently."""

from __future__ import annotations

import pytest

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.ids import TestIdentity
from tcup_pytest.tempest.select import Selection, TestList, compile_regexes, parse_line

U1 = "2d223a0e-e457-4a70-9fb1-febe027a0ff9"
U2 = "61976b25-488d-41dc-9dcb-cb9693a7b075"
U3 = "0146f675-ffbd-4208-b3a4-60eb628dbc5e"

IDENTITIES = [
    TestIdentity("tempest.api.identity.admin.v3.test_users.UsersV3TestJSON.test_update", U1),
    TestIdentity("tempest.api.compute.flavors.test_a.FlavorsV255TestJSON.test_crud_flavor", U2),
    TestIdentity("tempest.api.compute.flavors.test_a.FlavorsV261TestJSON.test_crud_flavor", U2),
    TestIdentity("tempest.api.compute.servers.test_s.ServersTest.test_list", U3, ("smoke",)),
]


def test_refstack_line_gives_name_and_bare_uuid():
    entry = parse_line(f"tempest.api.a.B.test_c[id-{U1},smoke]")
    assert (entry.name, entry.uuid, entry.is_regex) == ("tempest.api.a.B.test_c", U1, False)


def test_addon_line_with_bare_uuid():
    entry = parse_line(f"designate_tempest_plugin.tests.api.v2.test_zones.ZonesTest.test_x[{U2}]")
    assert entry.uuid == U2


def test_name_only_and_regex_lines():
    assert parse_line("tempest.api.identity").name == "tempest.api.identity"
    entry = parse_line(r"^tempest\.api\.identity\..*smoke")
    assert entry.is_regex and entry.name is None


def test_invalid_lines_are_one_clear_error():
    with pytest.raises(TcupError) as info:
        TestList.parse("Invalid target: bogus", "list.txt")
    assert info.value.exit_code == ExitCode.INPUT_FILE
    assert "list.txt line 1" in str(info.value)
    with pytest.raises(TcupError, match="not a valid regex"):
        TestList.parse("tempest.api.(unclosed")


def test_comments_and_blank_lines_are_ignored():
    tl = TestList.parse(f"# a comment\n\n  tempest.api.a.B.test_c[id-{U1}]  \n")
    assert [e.name for e in tl.entries] == ["tempest.api.a.B.test_c"]


def test_load_missing_and_empty_files(tmp_path):
    with pytest.raises(TcupError) as info:
        TestList.load(str(tmp_path / "nope.txt"))
    assert info.value.exit_code == ExitCode.INPUT_FILE
    assert "cannot read test list" in str(info.value)
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(TcupError, match="has no tests"):
        TestList.load(str(empty))


def test_name_match_wins_and_missing_are_reported():
    tl = TestList.parse(f"{IDENTITIES[0].name}[id-{U1}]\n"
                        "tempest.api.identity.v3.test_gone.Gone.test_gone[id-"
                        "11111111-2222-4333-8444-555555555555]")
    chosen, missing = Selection(tl).apply(IDENTITIES)
    assert chosen == [0]
    assert [e.name for e in missing] == ["tempest.api.identity.v3.test_gone.Gone.test_gone"]


def test_renamed_test_found_by_uuid_keeps_its_class():
    tl = TestList.parse(f"tempest.api.compute.old_module.FlavorsV261TestJSON.test_old[id-{U2}]")
    chosen, missing = Selection(tl).apply(IDENTITIES)
    assert chosen == [2] and not missing


def test_renamed_class_takes_the_defining_copy_of_the_uuid():
    tl = TestList.parse(f"tempest.api.compute.old.OldFlavorsTest.test_old[id-{U2}]")
    assert Selection(tl).apply(IDENTITIES, [True, True, False, True])[0] == [1]
    assert Selection(tl).apply(IDENTITIES)[0] == [1, 2]  # no idea who defines it: both


def test_prefix_names_and_regexes_select_groups():
    assert Selection(TestList.parse("tempest.api.compute")).apply(IDENTITIES)[0] == [1, 2, 3]
    assert Selection(TestList.parse(r"\[.*smoke")).apply(IDENTITIES)[0] == [3]


def test_include_and_exclude_work_on_the_tempest_id():
    sel = Selection(include=compile_regexes([r"^tempest\.api\.compute"], "--include"),
                    exclude=compile_regexes(["smoke"], "--exclude"))
    assert sel.apply(IDENTITIES)[0] == [1, 2]


def test_only_names_decide_imports():
    assert Selection(TestList.parse("tempest.api.a.B.test_c")).names_to_import() == [
        "tempest.api.a.B.test_c"]
    assert Selection(TestList.parse("tempest.api.a\n^tempest")).names_to_import() is None
    assert Selection().names_to_import() is None


def test_bad_include_regex_is_a_config_error():
    with pytest.raises(TcupError) as info:
        compile_regexes(["("], "--include")
    assert info.value.exit_code == ExitCode.CONFIG
