"""mkdocs hook: the command reference is generated from tcup's own argument parser at build
time, so it cannot drift from the code."""

from __future__ import annotations

import argparse

from mkdocs.structure.files import File


def on_files(files, config):
    files.append(File.generated(config, "commands.md", content=command_reference()))
    return files


def command_reference() -> str:
    from tcup_pytest.cli import build_parser

    parser = build_parser()
    parts = ["# Command reference\n", "Generated from `tcup --help` at build time.\n",
             "```text", _help(parser), "```\n"]
    for name, sub in _subcommands(parser):
        parts += [f"## tcup {name}\n", "```text", _help(sub), "```\n"]
        for subname, subsub in _subcommands(sub):
            parts += [f"### tcup {name} {subname}\n", "```text", _help(subsub), "```\n"]
    return "\n".join(parts)


def _subcommands(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            yield from sorted(action.choices.items())


def _help(parser: argparse.ArgumentParser) -> str:
    import os

    os.environ["COLUMNS"] = "100"
    return parser.format_help().rstrip()
