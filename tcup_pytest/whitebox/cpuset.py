"""CPU set syntax shared by libvirt (``cpuset='0-3,^2,8'``) and Nova (``cpu_dedicated_set``).

Both use ranges, single CPUs and ``^N`` exclusions; we parse by hand because no kept library
does and Nova's own ``hardware.parse_cpu_spec`` would drag Nova in::

    >>> parse_cpuset("0-3,^2,8")
    {0, 1, 3, 8}
    >>> format_cpuset({0, 1, 3, 8})
    '0-1,3,8'
"""

from __future__ import annotations

from collections.abc import Iterable

from tcup_pytest.errors import InputFileError


class CPUSetError(InputFileError, ValueError):
    """A cpuset string that is not ``N``, ``N-M`` or ``^N`` separated by commas."""


def parse_cpuset(spec: str | int | None) -> set[int]:
    """Turn ``"0-3,^2,8"`` into ``{0, 1, 3, 8}``; empty or ``None`` gives an empty set."""
    if spec is None:
        return set()
    if isinstance(spec, int):
        return {spec}
    included: set[int] = set()
    excluded: set[int] = set()
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        target = included
        if part.startswith("^"):
            target, part = excluded, part[1:].strip()
        try:
            if "-" in part:
                low_text, high_text = part.split("-", 1)
                low, high = int(low_text), int(high_text)
                if low > high or low < 0 or target is excluded:
                    raise ValueError(part)
                target.update(range(low, high + 1))
            else:
                cpu = int(part)
                if cpu < 0:
                    raise ValueError(part)
                target.add(cpu)
        except ValueError:
            raise CPUSetError(f"invalid cpuset {spec!r}: bad element {raw.strip()!r}",
                              hint="Use CPU numbers, ranges N-M and exclusions ^N, "
                                   "separated by commas") from None
    return included - excluded


def format_cpuset(cpus: Iterable[int]) -> str:
    """The shortest ``N-M,K`` form of a set of CPUs (no exclusions), sorted."""
    ordered = sorted(set(cpus))
    parts: list[str] = []
    index = 0
    while index < len(ordered):
        start = end = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == end + 1:
            index += 1
            end = ordered[index]
        parts.append(str(start) if start == end else f"{start}-{end}")
        index += 1
    return ",".join(parts)
