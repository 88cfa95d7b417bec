"""Every `tcup ...` command shown in the README and docs/ parses with tcup's own parser."""

import re
import shlex
from pathlib import Path

import pytest

from tcup_pytest.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
BLOCK = re.compile(r"```(?:sh|bash|console)\n(.*?)```", re.S)


def shown_commands() -> list[tuple[str, str]]:
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in BLOCK.findall(page.read_text()):
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
