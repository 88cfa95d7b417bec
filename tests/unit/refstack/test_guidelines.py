"""Guidelines: structure, and test lists equal to the RefStack server's /tests output."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.interop.guidelines import Guideline, GuidelineError, parse_test_list

from .conftest import DATA

GUIDELINES = resources.files("tcup_pytest") / "data" / "guidelines"


@pytest.fixture(scope="module")
def g2020():
    return Guideline.bundled("2020.06")


def test_list_equals_the_servers_answer_byte_for_byte(g2020):
    """Recorded from RefStack 2.1.0: required, aliases, no flagged; duplicates kept."""
    expected = (DATA / "tests-2020.06-platform-required-alias-noflag.txt").read_text()
    got = g2020.test_list("platform", ["required"], alias=True, flag=False)
    assert "\n".join(got) == expected
    assert len(got) == 377 and len(set(got)) == 375


@pytest.mark.parametrize(("target", "types", "alias", "flag", "count"), [
    ("platform", None, True, True, 390),
    ("platform", "required", False, False, 275),
    ("object", None, True, True, 61),
])
def test_list_sizes_for_other_choices(g2020, target, types, alias, flag, count):
    assert len(g2020.test_list(target, types, alias, flag)) == count


def test_structure_of_a_platform_guideline(g2020):
    assert (g2020.id, g2020.schema, g2020.is_addon) == ("2020.06", "2.0", False)
    assert g2020.targets == ["platform", "compute", "object"]
    assert len(g2020.capabilities) == 79
    tests = [t for c in g2020.capabilities.values() for t in c.tests]
    assert len(tests) == 289
    assert sum(1 for t in tests if t.flagged) == 11
    assert sum(1 for t in tests if t.aliases) == 95
    assert all(t.idempotent_id.startswith("id-") and len(t.uuid) == 36 for t in tests)
    assert g2020.components_of("platform") == ["os_powered_compute", "os_powered_storage"]
    assert len(g2020.capabilities_of("compute", "required")) == 60
    assert g2020.status_of("compute-list-api-versions") == "required"


def test_addon_guideline_has_bare_ids_and_its_own_target():
    dns = Guideline.bundled("dns.2020.06")
    assert dns.is_addon and dns.targets == ["dns"]
    lines = dns.test_list("dns")
    assert len(lines) == 10
    assert all(line.startswith("designate_tempest_plugin.") for line in lines)
    assert all(len(line.rsplit("[", 1)[1].rstrip("]")) == 36 for line in lines)
    assert len(Guideline.bundled("orchestration.2020.06").test_list("orchestration")) == 60


@pytest.mark.parametrize(("name", "target"), [("2020.06", "dns"), ("2020.06", "bogus"),
                                              ("dns.2020.06", "platform")])
def test_invalid_target(name, target):
    with pytest.raises(GuidelineError, match=f"invalid target '{target}'") as err:
        Guideline.bundled(name).test_list(target)
    assert err.value.exit_code == ExitCode.GUIDELINE


def test_unknown_status_selects_nothing(g2020):
    assert g2020.test_list(types="bogus") == []


def test_schema_1_2_lists_names_and_drops_flagged():
    data = {"schema": "1.2", "platform": {"required": ["compute"]},
            "components": {"compute": {"required": ["cap-a"], "advisory": ["cap-b"]}},
            "capabilities": {"cap-a": {"tests": ["t.a", "t.b"], "flagged": ["t.b"]},
                             "cap-b": {"tests": ["t.c"], "flagged": []}}}
    g = Guideline(data, source="old.json")
    assert g.test_list() == ["t.a", "t.b", "t.c"]
    assert g.test_list(types="required", flag=False) == ["t.a"]
    assert g.test_list("compute", "advisory") == ["t.c"]


def test_load_from_a_file_a_url_and_bundled(tmp_path):
    path = tmp_path / "dns.2020.06.json"
    path.write_text((GUIDELINES / "dns.2020.06.json").read_text())
    from_file = Guideline.load(path)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/dns.2020.06.json"
        from_url = Guideline.load(url)
        with pytest.raises(GuidelineError, match="HTTP 404"):
            Guideline.load(url.replace("dns", "nope"))
    finally:
        server.shutdown()
        server.server_close()
    bundled = Guideline.load("bundled:dns.2020.06")
    assert from_file.test_list("dns") == from_url.test_list("dns") == bundled.test_list("dns")


@pytest.mark.parametrize(("source", "message"), [
    ("bundled:2099.01", "unknown guideline '2099.01.json'"),
    ("no such thing!", "neither a file, a URL nor a guideline name"),
])
def test_unknown_guidelines(source, message):
    with pytest.raises(GuidelineError, match=message):
        Guideline.load(source)


def test_not_a_guideline(tmp_path):
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"hello": 1}))
    with pytest.raises(GuidelineError, match="not an interop guideline"):
        Guideline.load(path)
    path.write_text("{broken")
    with pytest.raises(GuidelineError, match="not readable JSON"):
        Guideline.load(path)


def test_server_error_text_is_not_taken_for_a_test_list():
    assert parse_test_list("a.b.C.test_x[id-1]\na.b.C.test_y[id-2]") == [
        "a.b.C.test_x[id-1]", "a.b.C.test_y[id-2]"]
    with pytest.raises(GuidelineError, match="Invalid target"):
        parse_test_list("Invalid target: bogus")


def test_find_prefers_the_bundled_copy_for_bare_names(tmp_path, monkeypatch):
    monkeypatch.setenv("REFSTACK_URL", "http://127.0.0.1:9")  # would fail if asked
    assert Guideline.find("2020.06").source == "bundled:2020.06.json"
    path = tmp_path / "mine.json"
    path.write_text((GUIDELINES / "dns.2020.06.json").read_text())
    assert Guideline.find(path).source == str(path)
    with pytest.raises(GuidelineError, match="unreachable"):
        Guideline.find("2031.01")
