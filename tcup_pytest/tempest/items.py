"""What a collected Tempest item is called: node id, Tempest id, markers, keywords.

pytest names a test by its path relative to the rootdir, so the same Tempest test is
``identity/admin/v3/test_users.py::...`` in one run and ``../../.venv/lib/...`` in another. We
give each item the node id its dotted module name implies
(``tempest/api/identity/admin/v3/test_users.py::UsersV3TestJSON::test_update_user_password``)
whatever the rootdir or cwd; xdist only needs every worker to agree, which it does. Tempest's
testtools attributes become markers (``-m smoke`` = ``tempest run --smoke``) and the uuid a
keyword (``-k <uuid>``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest

from tcup_pytest.ids import TestIdentity, identity_of

_MARKER_RE = re.compile(r"[^0-9A-Za-z_]")


def is_tempest_item(item: pytest.Item, packages: Iterable[str]) -> bool:
    """A unittest-style item from one of the Tempest test packages."""
    from _pytest.unittest import TestCaseFunction

    if not isinstance(item, TestCaseFunction):
        return False
    module = item.module
    return any(module.__name__ == p or module.__name__.startswith(p + ".") for p in packages)


def is_testtools_item(item: pytest.Item) -> bool:
    """A unittest-style item of a testtools class (Tempest's base): failures need our help."""
    from _pytest.unittest import TestCaseFunction

    return isinstance(item, TestCaseFunction) and hasattr(item.cls, "addOnException")


class _NoFixtures:
    """What pytest scans for fixture definitions in a Tempest class: nothing.

    pytest walks ``dir()`` of a fresh instance of every unittest class looking for
    ``@pytest.fixture`` methods; Tempest classes have hundreds of attributes and no fixtures,
    and that walk was about a quarter of collecting ``tempest.api``.
    """


def tempest_class_collector(collector: pytest.Collector, name: str, obj: object,
                            packages: Iterable[str]) -> pytest.Collector | None:
    """A unittest collector for a Tempest class that skips the fixture scan (else None)."""
    import inspect
    import unittest

    from _pytest.unittest import UnitTestCase

    module = getattr(collector, "module", None)
    if module is None or not isinstance(obj, type) or not issubclass(obj, unittest.TestCase):
        return None
    if inspect.isabstract(obj) or not any(
            module.__name__ == p or module.__name__.startswith(p + ".") for p in packages):
        return None

    class TempestClass(UnitTestCase):
        def newinstance(self):
            return _NoFixtures()

    return TempestClass.from_parent(collector, name=name, obj=obj)


def stable_nodeid(item: pytest.Item) -> str:
    """``package/module.py::Class::test`` from the module's dotted name."""
    module = item.module.__name__.replace(".", "/") + ".py"
    return f"{module}::{item.cls.__qualname__}::{item.name}"


def set_nodeid(item: pytest.Item, nodeid: str) -> None:
    """Replace the item's node id (pytest >= 9.1 keeps a structured ``_id``, older ``_nodeid``)."""
    if hasattr(item, "_id"):
        from _pytest.nodeid import coerce_node_id

        item._id = coerce_node_id(nodeid)
    else:
        item._nodeid = nodeid


def marker_name(attr: str) -> str:
    """A testtools attribute as a marker name (``id-``s are not markers)."""
    return _MARKER_RE.sub("_", attr)


def label(item: pytest.Item, config: pytest.Config) -> TestIdentity:
    """Give a Tempest item its stable node id, markers, uuid keyword and junit properties."""
    identity = identity_of(item)
    set_nodeid(item, stable_nodeid(item))
    for attr in identity.attrs:
        name = marker_name(attr)
        _register_marker(config, name)
        item.add_marker(name)
    if identity.uuid:
        item.extra_keyword_matches.add(identity.uuid)
        item.extra_keyword_matches.add(f"id-{identity.uuid}")
    item.user_properties.append(("tempest_id", identity.full_name))
    return identity


def _register_marker(config: pytest.Config, name: str) -> None:
    known = config.stash.setdefault(_MARKERS_KEY, set())
    if name not in known:
        known.add(name)
        config.addinivalue_line("markers", f"{name}: Tempest attribute {name!r}")


_MARKERS_KEY = pytest.StashKey[set]()
