"""Outcome counts of a ``tempest run`` (stestr) and of our junit XML, made comparable.

The two count the same events differently; we convert ours to stestr's rules:

* a class skipped in ``setUpClass`` (``skip_checks``) is one skip for stestr (a pseudo-test
  ``setUpClass (module.Class)``); pytest skips each of its tests. Items carrying the junit
  property ``tempest_skip_scope=class`` count once per class;
* a class whose ``setUpClass`` failed is one failure for stestr; our later items of that class
  carry ``tempest_class_error=repeat`` and are not counted again;
* ``passed`` sets are compared by test name (no ``[...]`` attributes).

    >>> RunCounts.from_stestr_output(text)            # doctest: +SKIP
    >>> RunCounts.from_junit("junit.xml")              # doctest: +SKIP
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

_STESTR_OK = re.compile(r"^\{\d+\} (\S+) \[[\d.]+s\] \.\.\. ok\s*$", re.M)
_TOTAL = re.compile(r"^ - (Passed|Failed|Skipped): (\d+)\s*$", re.M)


@dataclass
class RunCounts:
    """stestr-style totals and the names of the passed tests."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0
    passed_names: set[str] = field(default_factory=set)

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.passed, self.failed, self.skipped)

    @classmethod
    def from_stestr_output(cls, text: str) -> RunCounts:
        """From the console output of ``tempest run`` (its "Totals" block and ``ok`` lines)."""
        totals = {name.lower(): int(value) for name, value in _TOTAL.findall(text)}
        names = {test_id.split("[", 1)[0] for test_id in _STESTR_OK.findall(text)}
        return cls(totals.get("passed", 0), totals.get("failed", 0), totals.get("skipped", 0),
                   names)

    @classmethod
    def from_junit(cls, path: str | Path) -> RunCounts:
        counts = cls()
        class_skips: set[str] = set()
        for case in ET.parse(path).getroot().iter("testcase"):
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            name = (props.get("tempest_id") or props.get("test_name")
                    or f"{case.get('classname')}.{case.get('name')}").split("[", 1)[0]
            if case.find("skipped") is not None:
                if props.get("tempest_skip_scope") == "class":
                    class_skips.add(name.rsplit(".", 1)[0])
                else:
                    counts.skipped += 1
            elif case.find("failure") is not None or case.find("error") is not None:
                if props.get("tempest_class_error") != "repeat":
                    counts.failed += 1
            else:
                counts.passed += 1
                counts.passed_names.add(name)
        counts.skipped += len(class_skips)
        return counts
