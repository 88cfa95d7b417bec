"""Edit one option of an oslo.config INI text, leaving every other byte as it was.

``configparser`` rewrites the whole file (comments and layout lost) and crudini would have to
be installed on every host, so this small line editor is ours::

    >>> set_option("[DEFAULT]\\n# c\\ndebug = false\\n", "DEFAULT", "debug", "true")
    '[DEFAULT]\\n# c\\ndebug = true\\n'
"""

from __future__ import annotations

import re

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_OPTION = re.compile(r"^([^#;\s\[][^=:]*?)\s*[=:]\s?(.*?)\s*$")


def _sections(lines: list[str]) -> dict[str, tuple[int, int]]:
    """``{section: (header line index, end index)}``; text before any header is ``""``."""
    spans: dict[str, tuple[int, int]] = {}
    name, start = "", -1
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match:
            if name not in spans:
                spans[name] = (start, index)
            name, start = match.group(1).strip(), index
    if name not in spans:
        spans[name] = (start, len(lines))
    return spans


def get_option(text: str, section: str, option: str) -> str | None:
    """The value of ``option`` in ``section`` (the last one wins, as in oslo.config)."""
    lines = text.splitlines()
    span = _sections(lines).get(section)
    if span is None:
        return None
    value = None
    for line in lines[span[0] + 1:span[1]]:
        match = _OPTION.match(line)
        if match and match.group(1).strip() == option:
            value = match.group(2)
    return value


def set_option(text: str, section: str, option: str, value: str | None) -> str:
    """Set (or with ``None`` remove) ``option``; adds the section at the end if missing."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    plain = [line.rstrip("\r\n") for line in lines]
    span = _sections(plain).get(section)
    entry = None if value is None else f"{option} = {value}{newline}"
    if span is None:
        if entry is None:
            return text
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += newline
        prefix = [newline] if lines and plain[-1].strip() else []
        return "".join([*lines, *prefix, f"[{section}]{newline}", entry])
    matches = [i for i in range(span[0] + 1, span[1])
               if (m := _OPTION.match(plain[i])) and m.group(1).strip() == option]
    if matches:
        for index in reversed(matches[1:]):
            del lines[index]
        if entry is None:
            del lines[matches[0]]
        else:
            lines[matches[0]] = entry
        return "".join(lines)
    if entry is None:
        return text
    # Insert after the section's last non-blank line.
    insert = span[1]
    while insert - 1 > span[0] and not plain[insert - 1].strip():
        insert -= 1
    if insert > 0 and not lines[insert - 1].endswith("\n"):
        lines[insert - 1] += newline
    lines.insert(insert, entry)
    return "".join(lines)


def apply_changes(text: str, changes: dict[str, dict[str, object]]) -> str:
    """Apply ``{section: {option: value or None}}``; values are written with ``str()``."""
    for section, options in changes.items():
        for option, value in options.items():
            text = set_option(text, section, option, None if value is None else str(value))
    return text
