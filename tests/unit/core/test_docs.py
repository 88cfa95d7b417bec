"""Every `tcup ...` command shown in the README and docs/ parses with tcup's own parser, and
every `nox -s SESSION` names a session of noxfile.py."""

import re
import shlex
from pathlib import Path

import pytest

from tcup_pytest.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
BLOCK = re.compile(r"```(?:sh|bash|console)\n(.*?)```", re.S)


def shell_blocks() -> list[tuple[Path, str]]:
    """(page, block) for every shell block of the README and docs/."""
    return [(page, block) for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
            for block in BLOCK.findall(page.read_text())]


def shown_commands() -> list[tuple[str, str]]:
    found = []
    for page, block in shell_blocks():
        for line in block.splitlines():
            line = line.split(" #", 1)[0].strip().removeprefix("$ ")
            if line.startswith("tcup "):
                found.append((page.name, line))
    return found


def test_the_docs_show_commands():
    assert len(shown_commands()) >= 5


@pytest.mark.parametrize(("page", "line"), shown_commands())
def test_shown_command_parses(page, line):
    args = build_parser().parse_args(shlex.split(line)[1:])
    assert getattr(args, "func", None), f"{page}: {line!r} names no command"


def nox_sessions_shown() -> list[tuple[str, str]]:
    return [(page.name, session) for page, block in shell_blocks()
            for session in re.findall(r"\bnox -s (\w+)", block)]


def test_the_docs_show_nox_sessions():
    assert {session for _, session in nox_sessions_shown()} >= {"demo", "casts"}


@pytest.mark.parametrize(("page", "session"), nox_sessions_shown())
def test_shown_nox_session_exists(page, session):
    noxfile = (ROOT / "noxfile.py").read_text()
    assert re.search(rf"@nox\.session\(.*\)\ndef {session}\(", noxfile), \
        f"{page}: no nox session {session!r}"
