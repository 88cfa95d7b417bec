"""Which test packages a Tempest run collects, and which files a test list needs.

stestr loads ``tempest/test_discover/test_discover.py``: ``tempest.api``, ``tempest.scenario``,
``tempest.serial_tests`` plus each ``tempest.test_plugins`` entry point's ``load_tests()``.
pytest ignores that hook and, given ``--pyargs tempest``, also collects tempest's own unit
tests (``tempest.tests``), so we hand it exactly these directories instead. When a run has a
list of test names, only the modules those names live in are handed over: a guideline run
then imports a few dozen modules, not all of Tempest.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tcup_pytest.tempest import require_tempest

LOG = logging.getLogger(__name__)

#: tempest's own test packages, as in tempest/test_discover/test_discover.py
TEMPEST_PACKAGES = ("api", "scenario", "serial_tests")
PLUGIN_GROUP = "tempest.test_plugins"


@dataclass(frozen=True)
class TestRoot:
    """A directory of Tempest-style tests and the dotted package it is imported as."""

    __test__ = False

    package: str
    path: Path

    def owns(self, name: str) -> bool:
        return name == self.package or name.startswith(self.package + ".")


def tempest_dir() -> Path:
    """tempest's package directory, found without importing tempest."""
    require_tempest()
    spec = importlib.util.find_spec("tempest")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)))


def plugin_roots() -> list[TestRoot]:
    """Test directories of installed Tempest plugins (``load_tests()`` of each entry point)."""
    roots = []
    for entry in sorted(importlib.metadata.entry_points(group=PLUGIN_GROUP),
                        key=lambda e: e.name):
        try:
            test_dir, top_path = entry.load()().load_tests()
        except Exception as error:  # a broken plugin must not hide tempest's own tests
            LOG.warning("Tempest plugin %s could not be loaded: %s", entry.name, error)
            continue
        test_path, top = Path(test_dir).resolve(), Path(top_path).resolve()
        package = ".".join(test_path.relative_to(top).parts)
        roots.append(TestRoot(package, test_path))
    return roots


def test_roots(*, plugins: bool = True) -> list[TestRoot]:
    """Every test root ``tempest run`` would load, tempest's first, never ``tempest.tests``."""
    base = tempest_dir()
    roots = [TestRoot(f"tempest.{name}", base / name) for name in TEMPEST_PACKAGES
             if (base / name).is_dir()]
    return roots + (plugin_roots() if plugins else [])


def path_of(name: str, roots: Iterable[TestRoot]) -> Path | None:
    """The file or directory holding the dotted ``name`` (a test, class, module or package).

    Found on the filesystem, without importing the module: the longest dotted prefix that is
    a ``.py`` file or a package directory.
    """
    for root in roots:
        if not root.owns(name):
            continue
        current = root.path
        for part in name[len(root.package):].split(".")[1:]:
            if (current / f"{part}.py").is_file():
                return current / f"{part}.py"
            if not (current / part).is_dir():
                return None
            current = current / part
        return current
    return None


def paths_for(names: Iterable[str], roots: list[TestRoot]) -> tuple[list[Path], list[str]]:
    """Files/dirs to collect for ``names``, and the names no installed file can hold.

    Paths are deduplicated and a path inside an already chosen directory is dropped, so
    pytest never collects one module twice.
    """
    chosen: set[Path] = set()
    unknown = []
    for name in names:
        path = path_of(name, roots)
        if path is None:
            unknown.append(name)
        else:
            chosen.add(path)
    dirs = {p for p in chosen if p.is_dir()}
    kept = sorted(p for p in chosen
                  if not any(d != p and d in p.parents for d in dirs))
    return kept, unknown
