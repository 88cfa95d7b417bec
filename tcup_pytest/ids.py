"""Stable identities of tests: a Tempest-style name and an idempotent uuid.

RefStack, junit properties and the verdict key on these, not on pytest node ids, which change
with the rootdir. Native tests declare ``@pytest.mark.idempotent_id("<uuid>")``; Tempest tests
carry testtools attributes (``id-<uuid>``, ``smoke``, ...) on the test function.
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, field

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class TestIdentity:
    """``name`` is dotted ``package.module.Class.test`` (no ``[...]``); ``uuid`` is bare."""

    __test__ = False

    name: str
    uuid: str | None = None
    attrs: tuple[str, ...] = field(default_factory=tuple)

    @property
    def full_name(self) -> str:
        """The Tempest/stestr id: ``name[id-<uuid>,smoke]`` (attrs sorted, as testtools does)."""
        tags = sorted({*self.attrs, *([f"id-{self.uuid}"] if self.uuid else [])})
        return f"{self.name}[{','.join(tags)}]" if tags else self.name


def valid_uuid(value: str) -> bool:
    if not UUID_RE.match(value or ""):
        return False
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True


def identity_of(item) -> TestIdentity:
    """The identity of a collected pytest item (native or Tempest/testtools)."""
    cached = getattr(item, "_tcup_identity", None)
    if cached is not None:
        return cached
    function = getattr(item, "function", None)
    attrs = set(getattr(function, "__testtools_attrs", ()) or ())
    uuid = None
    marker = item.get_closest_marker("idempotent_id")
    if marker and marker.args:
        uuid = str(marker.args[0])
    for attr in sorted(attrs):
        if attr.startswith("id-"):
            uuid = uuid or attr[3:]
    others = tuple(sorted(a for a in attrs if not a.startswith("id-")))
    identity = TestIdentity(name=dotted_name(item), uuid=uuid, attrs=others)
    item._tcup_identity = identity
    return identity


def dotted_name(item) -> str:
    """``package.module.Class.test`` from the item's module and class, not from the rootdir."""
    module = getattr(item, "module", None)
    cls = getattr(item, "cls", None)
    base = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    parts = [module.__name__] if module is not None else [item.nodeid.split("::", 1)[0]]
    if cls is not None:
        parts.append(cls.__qualname__)
    parts.append(base)
    return ".".join(parts)
