"""docs/refstack-client.md maps all of refstack-client's command line (data/ holds it, copied
from its argparse) and names only `tcup` options that our parser has."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from tcup_pytest.cli import build_parser

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "docs" / "refstack-client.md"
DATA = Path(__file__).parent / "data" / "refstack_client_options.txt"
#: the page's section for each of refstack-client's parent parsers
PARENT_SECTIONS = {"shared_args": "Options of every command",
                   "network_args": "Options of the commands that talk to a server"}
CODE = re.compile(r"`([^`]+)`")


def refstack_client() -> tuple[dict[str, list[list[str]]], dict[str, list[str]]]:
    """({parser: [spellings of each option]}, {command: [parent parsers]}) from the data."""
    options: dict[str, list[list[str]]] = {}
    parents: dict[str, list[str]] = {}
    for line in DATA.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if " uses " in line:
            command, _, used = line.partition(" uses ")
            parents[command] = used.split()
        else:
            parser, _, rest = line.partition(": ")
            options[parser] = [[s.split("(")[0] for s in option.split()]
                               for option in rest.split(" | ")]
    return options, parents


def sections() -> dict[str, str]:
    """The page's ``## `` sections by heading."""
    parts = re.split(r"^## (.+)$", PAGE.read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def table_rows(text: str) -> list[list[str]]:
    rows = [line.strip().strip("|").split(" | ") for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    return rows[1:] if rows else []    # without the header


def first_cell_tokens(text: str) -> list[set[str]]:
    return [{tok for span in CODE.findall(row[0]) for tok in span.split()}
            for row in table_rows(text)]


def section_of(parser: str) -> str:
    return PARENT_SECTIONS.get(parser, f"refstack-client {parser}")


OPTIONS, PARENTS = refstack_client()
CASES = [(parser, option) for parser, opts in OPTIONS.items() for option in opts]


def test_the_data_has_refstack_clients_command_line():
    assert set(PARENTS) == {"test", "upload", "upload-subunit", "config", "list", "sign"}
    assert sum(len(opts) for opts in OPTIONS.values()) == 25


@pytest.mark.parametrize(("parser", "option"), CASES, ids=[f"{p} {o[-1]}" for p, o in CASES])
def test_every_option_has_a_row(parser: str, option: list[str]):
    text = sections().get(section_of(parser))
    assert text is not None, f"no section {section_of(parser)!r}"
    assert any(set(option) <= cell for cell in first_cell_tokens(text)), \
        f"{section_of(parser)}: no row for {' / '.join(option)}"


@pytest.mark.parametrize("command", sorted(PARENTS))
def test_every_command_is_mapped(command: str):
    assert any(command in cell for cell in first_cell_tokens(sections()["Commands"])), command
    for parent in PARENTS[command]:
        assert f"`{command}`" in sections()[PARENT_SECTIONS[parent]], (command, parent)


def tcup_spans() -> list[str]:
    """Every `tcup ...` the page shows, in text or in a shell block."""
    text = PAGE.read_text()
    shell = [line.split(" #")[0].strip() for line in re.findall(r"^tcup .*$", text, flags=re.M)]
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    return [span for span in CODE.findall(prose) if span.startswith("tcup ")] + shell


def parser_options(parser: argparse.ArgumentParser) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def all_options(parser: argparse.ArgumentParser) -> set[str]:
    found = parser_options(parser)
    for sub in subcommands(parser).values():
        found |= all_options(sub)
    return found


@pytest.mark.parametrize("span", tcup_spans())
def test_named_tcup_options_exist(span: str):
    parser = build_parser()
    for token in span.split()[1:]:
        if token == "--":                  # the rest belongs to pytest
            break
        if token in subcommands(parser):
            parser = subcommands(parser)[token]
        elif token.startswith("-"):
            assert token in parser_options(parser), f"{span!r}: {parser.prog} has no {token}"


def test_options_in_the_tcup_column_exist():
    known = all_options(build_parser())
    named = {span.split()[0] for rows in map(table_rows, sections().values()) for row in rows
             for span in CODE.findall(" ".join(row[1:]))
             if span.startswith("-") and span.split()[0] != "--"}
    assert named, "no options found in the tcup column"
    assert named <= known, sorted(named - known)


def test_page_is_in_the_nav():
    assert "refstack-client.md" in (ROOT / "mkdocs.yml").read_text()
