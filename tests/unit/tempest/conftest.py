"""Shared bits for the Tempest adapter's unit tests (tempest installed, no cloud)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

#: enough for Tempest's modules to import; nothing here talks to a cloud
MINIMAL_CONF = """\
[identity]
uri_v3 = http://127.0.0.1:9/v3
auth_version = v3

[auth]
admin_password = unit-test-admin-pw
"""

#: a pytest plugin that dumps the Tempest ids and imported modules of a collection
DUMP_PLUGIN = '''
import gc, json, os, sys

def pytest_collection_finish(session):
    out = {"ids": [], "nodeids": [], "modules": sorted(m for m in sys.modules
                                                    if m.startswith("tempest.")),
           "collectors": sorted({type(item.parent.parent).__name__ for item in session.items})}
    for item in session.items:
        props = dict(item.user_properties)
        out["ids"].append(props.get("tempest_id"))
        out["nodeids"].append(item.nodeid)
    with open(os.environ["DUMP_TO"], "w") as handle:
        json.dump(out, handle)

def pytest_runtestloop(session):  # after the collection hook has returned
    with open(os.environ["DUMP_TO"]) as handle:
        out = json.load(handle)
    out["gc"] = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
    with open(os.environ["DUMP_TO"], "w") as handle:
        json.dump(out, handle)
'''


@pytest.fixture(scope="session", autouse=True)
def _needs_tempest() -> None:
    if importlib.util.find_spec("tempest") is None:
        reason = "tempest is not installed (pip install 'tcup-pytest[tempest]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason, pytrace=False)  # CI installs the extra: never a silent skip
        pytest.skip(reason)


@pytest.fixture
def tempest_conf(tmp_path: Path) -> Path:
    path = tmp_path / "etc" / "tempest.conf"
    path.parent.mkdir()
    path.write_text(MINIMAL_CONF)
    return path
