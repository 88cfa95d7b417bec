"""Test lists and the selection of Tempest tests they make.

A test list is a file or an http(s) URL with one entry a line (``#`` comments and blank
lines ignored):

* ``name[id-<uuid>,...]`` (RefStack; add-on lists write a bare ``<uuid>``): the test of that
  name; when no installed test has the name (a rename), the tests with that uuid, preferring
  the same class (uuids are shared by inherited tests, so the key is (uuid, class)).
* ``tempest.api.identity.v3.test_tokens`` (a dotted name): that test, or every test of the
  package, module or class it names.
* anything else is a regular expression searched in the Tempest id
  (``name[id-...,smoke]``), as ``tempest run --include-list`` does.

A guideline's list is the one RefStack's ``/tests`` endpoint gives, made by
:class:`~tcup_pytest.interop.guidelines.Guideline` (:func:`guideline_lines`).
``--include``/``--exclude`` regexes work like ``tempest run --regex/--exclude-regex``. Entries
that match no installed test are reported, never silently dropped.

    >>> tl = TestList.parse("tempest.api.a.B.test_c[id-0a6f5b7e-3d1a-4c3e-9a59-8e7c1f4f7b11]")
    >>> tl.entries[0].name, tl.entries[0].uuid
    ('tempest.api.a.B.test_c', '0a6f5b7e-3d1a-4c3e-9a59-8e7c1f4f7b11')
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tcup_pytest.errors import ConfigError, ExitCode, InputFileError, TcupError
from tcup_pytest.ids import TestIdentity, valid_uuid

_NAME = r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*"
_NAME_RE = re.compile(rf"^{_NAME}$")
_REFSTACK_RE = re.compile(rf"^({_NAME})\[([^\]\s]*)\]$")


@dataclass(frozen=True)
class Entry:
    """One line of a test list."""

    line: str
    name: str | None = None
    uuid: str | None = None
    regex: re.Pattern[str] | None = None

    @property
    def is_regex(self) -> bool:
        return self.regex is not None


def parse_line(line: str, where: str = "test list") -> Entry:
    match = _REFSTACK_RE.match(line)
    if match:
        tags = match.group(2).split(",")
        uuids = [t.removeprefix("id-").lower() for t in tags
                 if valid_uuid(t.removeprefix("id-").lower())]
        return Entry(line, name=match.group(1), uuid=uuids[0] if uuids else None)
    if _NAME_RE.match(line):
        return Entry(line, name=line)
    if any(ch.isspace() for ch in line):
        raise InputFileError(f"{where}: {line[:80]!r} is not a test name, a RefStack line or a "
                             "regex", hint="Give one test a line")
    try:
        return Entry(line, regex=re.compile(line))
    except re.error as error:
        raise InputFileError(f"{where}: {line[:80]!r} is not a valid regex ({error})") from None


@dataclass
class TestList:
    """The parsed entries of a test list, in file order."""

    __test__ = False

    entries: list[Entry]
    source: str = "test list"

    @classmethod
    def parse(cls, text: str, source: str = "test list") -> TestList:
        entries = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if line and not line.startswith("#"):
                entries.append(parse_line(line, f"{source} line {number}"))
        return cls(entries, source)

    @classmethod
    def load(cls, source: str, *, verify: bool | str = True) -> TestList:
        """From a file or an http(s) URL; an empty list is an error (it would select all)."""
        if source.startswith(("http://", "https://")):
            text = _fetch(source, verify)
        else:
            try:
                text = Path(source).expanduser().read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or type(error).__name__
                raise InputFileError(f"cannot read test list {source} ({reason})",
                                     hint="Give a readable file or an http(s) URL") from None
        test_list = cls.parse(text, source)
        if not test_list.entries:
            raise InputFileError(f"test list {source} has no tests in it")
        return test_list

    @property
    def names(self) -> list[str]:
        """Exact dotted names (not regexes): what decides which modules are imported."""
        return [e.name for e in self.entries if e.name]

    @property
    def has_regex(self) -> bool:
        return any(e.is_regex for e in self.entries)


def _fetch(url: str, verify: bool | str) -> str:
    import requests

    try:
        response = requests.get(url, timeout=60, verify=verify)
    except requests.RequestException as error:
        raise InputFileError(f"cannot fetch test list {url} ({type(error).__name__})") from None
    if response.status_code != 200:
        raise InputFileError(f"cannot fetch test list {url} (HTTP {response.status_code})")
    return response.text


def guideline_lines(source: str, target: str, statuses: str, *, flagged: bool) -> list[str]:
    """A guideline's test list (aliases included), as RefStack's ``/tests`` endpoint makes it.

    ``source``: a bundled name (``2020.06``), a file, a URL or a name on a RefStack server;
    ``statuses`` comma separated. Unlike :meth:`Guideline.test_list`, an unknown status or an
    empty answer is an error here: a run must never silently select nothing.
    """
    # imported when a guideline is asked for: ~40 ms every pytest process would pay otherwise
    from tcup_pytest.interop.guidelines import STATUSES, Guideline, GuidelineError

    try:
        guideline = Guideline.find(source)
    except ImportError:  # no RefStack client to ask a server: only bundled names are known
        raise GuidelineError(f"unknown guideline {source!r}",
                             hint="Give a bundled name (e.g. 2020.06), a .json file or a URL"
                             ) from None
    types = [s.strip() for s in statuses.split(",") if s.strip()]
    unknown = [s for s in types if s not in STATUSES]
    if unknown:
        raise GuidelineError(f"unknown capability status {unknown[0]!r}",
                             hint=f"Use {', '.join(STATUSES[:-1])} or {STATUSES[-1]}")
    lines = guideline.test_list(target, types=types, alias=True, flag=flagged)
    if not lines:
        raise TcupError(f"guideline {guideline.id} has no {statuses} tests for target {target}",
                        exit_code=ExitCode.NOTHING_SELECTED)
    return lines


def compile_regexes(patterns: Iterable[str], option: str) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as error:
            raise ConfigError(f"{option} {pattern!r} is not a valid regex ({error})") from None
    return compiled


@dataclass
class Selection:
    """A test list (optional) plus include/exclude regexes, applied to Tempest identities."""

    test_list: TestList | None = None
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.test_list or self.include or self.exclude)

    def names_to_import(self) -> list[str] | None:
        """Dotted names whose modules are enough, or None when every module is needed."""
        if self.test_list is None or self.test_list.has_regex:
            return None
        return self.test_list.names

    def apply(self, identities: Sequence[TestIdentity], own: Sequence[bool] | None = None
              ) -> tuple[list[int], list[Entry]]:
        """Indices of the selected identities, and the list entries nothing matched.

        ``own[i]``: the test method is defined in its own class, not inherited (decides
        which copy of a shared uuid a renamed test is).
        """
        chosen = set(range(len(identities)))
        missing: list[Entry] = []
        if self.test_list is not None:
            own = own if own is not None else [True] * len(identities)
            chosen, missing = _match(self.test_list.entries, identities, own)
        full = {i: identities[i].full_name for i in chosen}
        if self.include:
            chosen = {i for i in chosen if any(r.search(full[i]) for r in self.include)}
        if self.exclude:
            chosen = {i for i in chosen if not any(r.search(full[i]) for r in self.exclude)}
        return sorted(chosen), missing


def _match(entries: Sequence[Entry], identities: Sequence[TestIdentity],
           own: Sequence[bool]) -> tuple[set[int], list[Entry]]:
    by_name: dict[str, list[int]] = defaultdict(list)
    by_uuid: dict[str, list[int]] = defaultdict(list)
    for index, ident in enumerate(identities):
        by_name[ident.name].append(index)
        if ident.uuid:
            by_uuid[ident.uuid].append(index)
    chosen: set[int] = set()
    missing: list[Entry] = []
    for entry in entries:
        if entry.regex is not None:
            hits = [i for i, ident in enumerate(identities) if entry.regex.search(ident.full_name)]
        elif entry.name in by_name:
            hits = by_name[entry.name]
        elif entry.uuid:
            hits = _by_uuid(entry, by_uuid.get(entry.uuid, []), identities, own)
        else:
            prefix = entry.name + "."
            hits = [i for i, ident in enumerate(identities) if ident.name.startswith(prefix)]
        if hits:
            chosen.update(hits)
        else:
            missing.append(entry)
    return chosen, missing


def _by_uuid(entry: Entry, hits: list[int], identities: Sequence[TestIdentity],
             own: Sequence[bool]) -> list[int]:
    """A renamed test found by uuid: of the inherited copies sharing it, the one in the same
    class if there is one, else the class that defines the method (not its subclasses)."""
    wanted_class = (entry.name or "").rsplit(".", 2)[-2:][0]
    same_class = [i for i in hits if identities[i].name.rsplit(".", 2)[-2] == wanted_class]
    defining = [i for i in hits if own[i]]
    return same_class or defining or hits
