"""What a flavor's extra specs ask Nova for, as typed values the whitebox checks compare with.

Nova reads ``hw:*`` extra specs in ``nova.virt.hardware``; we parse the handful that decide
pinning, NUMA and memory pages, with Nova's conventions (masks are relative to all vCPUs,
page sizes without a unit are KiB), so checks state expectations without importing Nova::

    >>> spec = FlavorSpec("rt", vcpus=4, ram_mb=512,
    ...                   extra_specs={"hw:cpu_policy": "dedicated",
    ...                                "hw:cpu_realtime": "yes", "hw:cpu_realtime_mask": "^0"})
    >>> sorted(spec.realtime_vcpus)
    [1, 2, 3]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tcup_pytest.errors import InputFileError
from tcup_pytest.whitebox.cpuset import parse_cpuset

_PAGE_UNITS = {"": 1, "k": 1, "kb": 1, "kib": 1, "m": 1024, "mb": 1024, "mib": 1024,
               "g": 1024 ** 2, "gb": 1024 ** 2, "gib": 1024 ** 2}
PAGE_KEYWORDS = ("small", "large", "any")


def page_size_kib(value: str) -> int | str:
    """``"2MB"`` → 2048, ``"1GB"`` → 1048576, ``"2048"`` → 2048; keywords stay strings."""
    text = value.strip().lower()
    if text in PAGE_KEYWORDS:
        return text
    match = re.fullmatch(r"(\d+)\s*([kmg]i?b?)?", text)
    if not match or (match.group(2) or "") not in _PAGE_UNITS:
        raise InputFileError(f"invalid hw:mem_page_size {value!r}",
                             hint="Use small, large, any, or a size such as 2MB or 1GB")
    return int(match.group(1)) * _PAGE_UNITS[match.group(2) or ""]


def _vcpu_mask(vcpus: int, mask: str) -> set[int]:
    """Nova's masks: only exclusions (``^0``) apply to all vCPUs; otherwise the set itself."""
    parts = [p.strip() for p in mask.split(",") if p.strip()]
    if parts and all(p.startswith("^") for p in parts):
        return parse_cpuset(f"0-{vcpus - 1},{mask}")
    return parse_cpuset(mask)


@dataclass(frozen=True)
class FlavorSpec:
    """A flavor's size and extra specs; build one from openstacksdk with :meth:`from_sdk`."""

    name: str
    vcpus: int
    ram_mb: int
    extra_specs: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_sdk(cls, flavor: Any) -> FlavorSpec:
        specs = getattr(flavor, "extra_specs", None) or {}
        return cls(name=flavor.name, vcpus=int(flavor.vcpus), ram_mb=int(flavor.ram),
                   extra_specs={str(k): str(v) for k, v in specs.items()})

    @property
    def cpu_policy(self) -> str:
        """``dedicated``, ``mixed`` or ``shared`` (Nova's default)."""
        return self.extra_specs.get("hw:cpu_policy", "shared")

    @property
    def emulator_threads_policy(self) -> str | None:
        return self.extra_specs.get("hw:emulator_threads_policy")

    @property
    def dedicated_vcpus(self) -> set[int]:
        """vCPUs that get a pCPU of their own (all of them under ``dedicated``)."""
        if self.cpu_policy == "dedicated":
            return set(range(self.vcpus))
        if self.cpu_policy == "mixed":
            mask = self.extra_specs.get("hw:cpu_dedicated_mask")
            if mask:
                return _vcpu_mask(self.vcpus, mask)
            return self.realtime_vcpus
        return set()

    @property
    def realtime_vcpus(self) -> set[int]:
        if self.extra_specs.get("hw:cpu_realtime", "").lower() not in ("yes", "true", "1"):
            return set()
        mask = self.extra_specs.get("hw:cpu_realtime_mask")
        return _vcpu_mask(self.vcpus, mask) if mask else set(range(self.vcpus))

    @property
    def numa_nodes(self) -> int | None:
        value = self.extra_specs.get("hw:numa_nodes")
        return int(value) if value else None

    @property
    def mem_page_size(self) -> int | str | None:
        """KiB, or ``small``/``large``/``any``; ``None`` when the flavor does not ask."""
        value = self.extra_specs.get("hw:mem_page_size")
        return None if value is None else page_size_kib(value)

    @property
    def extra_pcpus(self) -> int:
        """pCPUs beyond the vCPUs': one for ``hw:emulator_threads_policy=isolate``."""
        return 1 if self.emulator_threads_policy == "isolate" and self.dedicated_vcpus else 0
