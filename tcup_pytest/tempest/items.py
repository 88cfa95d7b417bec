"""Tempest items: how pytest collects them, and what they are called (node id, Tempest id,
markers, keywords).

Tempest's modules and classes are unittest code that stestr loads: their collectors
(:class:`TempestModule`, :class:`TempestClass`) skip what only pytest-style code needs
(fixture scans, import by path, pytest's checks of every module attribute), which was most
of pytest's own share of collecting ``tempest.api``.

pytest names a test by its path relative to the rootdir, so the same Tempest test is
``identity/admin/v3/test_users.py::...`` in one run and ``../../.venv/lib/...`` in another. We
give each item the node id its dotted module name implies
(``tempest/api/identity/admin/v3/test_users.py::UsersV3TestJSON::test_update_user_password``)
whatever the rootdir or cwd; xdist only needs every worker to agree, which it does. Tempest's
testtools attributes become markers (``-m smoke`` = ``tempest run --smoke``) and the uuid a
keyword (``-k <uuid>``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import unittest
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _pytest.python import PyCollector
from _pytest.unittest import TestCaseFunction, UnitTestCase

from tcup_pytest.ids import TestIdentity, identity_of

if TYPE_CHECKING:
    from tcup_pytest.tempest.discover import TestRoot

_MARKER_RE = re.compile(r"[^0-9A-Za-z_]")


def is_tempest_item(item: pytest.Item, packages: Iterable[str]) -> bool:
    """A unittest-style item from one of the Tempest test packages."""
    if not isinstance(item, TestCaseFunction):
        return False
    module = item.module
    return any(module.__name__ == p or module.__name__.startswith(p + ".") for p in packages)


def is_testtools_item(item: pytest.Item) -> bool:
    """A unittest-style item of a testtools class (Tempest's base): failures need our help."""
    return isinstance(item, TestCaseFunction) and hasattr(item.cls, "addOnException")


class _NoFixtures:
    """What pytest scans for fixture definitions in a Tempest class: nothing.

    pytest walks ``dir()`` of a fresh instance of every unittest class looking for
    ``@pytest.fixture`` methods; Tempest classes have hundreds of attributes and no fixtures,
    and that walk was about a quarter of collecting ``tempest.api``.
    """

    def __dir__(self) -> list[str]:
        return []  # even object's ~25 attributes cost pytest ~0.1 ms a class to check


class TempestClass(UnitTestCase):
    """pytest's unittest collector for a Tempest class, minus the fixture scan."""

    def newinstance(self) -> _NoFixtures:
        return _NoFixtures()


class TempestModule(pytest.Module):
    """pytest's collector for a Tempest test module: imported by its dotted name, its node id
    made from that name, and no fixture scan.

    Tempest modules are written for unittest (stestr); pytest's search for ``@pytest.fixture``
    functions among each module's attributes found none and cost about 0.2 s of collecting
    ``tempest.api``; its import by path (package-root search, ``sys.path`` insertion) is not
    needed for installed packages. setUpModule/tearDownModule still run.
    """

    module_name: str

    @classmethod
    def for_path(cls, parent: pytest.Collector, path: Path, root: TestRoot) -> TempestModule:
        """The collector of ``path``, a module file inside ``root``."""
        parts = path.relative_to(root.path).with_suffix("").parts
        name = ".".join((root.package, *(parts[:-1] if parts[-1] == "__init__" else parts)))
        module = cls.from_parent(parent, path=path, nodeid=module_nodeid(name))
        module.module_name = name
        return module

    def _getobj(self):
        try:
            module = importlib.import_module(self.module_name)
        except Exception:  # pytest's import by path fails the same way, and reports it well
            return super()._getobj()
        self.config.pluginmanager.consider_module(module)
        return module

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        self._register_setup_module_fixture()
        self._register_setup_function_fixture()
        return PyCollector.collect(self)  # Module.collect without parsefactories(self)


def tempest_class_collector(collector: pytest.Collector, name: str,
                            obj: object) -> TempestClass | list | None:
    """What a name in a Tempest module is: a concrete unittest class, or nothing.

    As for stestr (unittest's loader), only ``unittest.TestCase`` classes hold tests; other
    names (imports, helpers, ``CONF``) are nothing, decided here so that pytest's own hooks
    don't inspect each of them again. None (pytest decides) outside Tempest modules.
    """
    if not isinstance(collector, TempestModule):
        return None
    if isinstance(obj, type) and issubclass(obj, unittest.TestCase) \
            and not inspect.isabstract(obj):
        return TempestClass.from_parent(collector, name=name, obj=obj)
    return []


def module_nodeid(name: str) -> str:
    """``package/module.py`` from a module's dotted name: the same whatever the rootdir or cwd."""
    return name.replace(".", "/") + ".py"


def stable_nodeid(item: pytest.Item) -> str:
    """``package/module.py::Class::test`` from the module's dotted name."""
    return f"{module_nodeid(item.module.__name__)}::{item.cls.__qualname__}::{item.name}"


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
    if item.getparent(TempestModule) is None:  # collected from a path outside the test roots
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
