"""`tcup`: the command line, a thin face over functions a script can call.

Each sub-command lives in its own module of this package with a ``register(subparsers)``
function that adds its parser and sets ``func`` (called with the parsed args, returns the exit
code). Adding a command is one module plus one name in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence

from tcup_pytest import __version__
from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.redaction import REDACTOR, install_logging

#: Modules under tcup_pytest.cli, in the order their commands appear in --help.
COMMAND_MODULES = ["demo", "run", "config", "testbed", "convert", "upload", "list", "guidelines",
                   "verdict"]

DESCRIPTION = """\
Test an OpenStack cloud with pytest: interop (RefStack) runs and whitebox checks.

Credentials come from the usual OS_* variables or clouds.yaml (--os-cloud / OS_CLOUD); nothing
needs a config file of its own. A missing password is prompted for on a terminal and never
written anywhere.
"""


def _exit_code_table() -> str:
    rows = [f"  {code.value:>3}  {code.meaning}" for code in ExitCode]
    return "exit codes:\n" + "\n".join(rows)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tcup", description=DESCRIPTION, epilog=_exit_code_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"tcup-pytest {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="log HTTP requests and library warnings (secrets stay masked)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    install_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return ExitCode.USAGE
    try:
        return call(args.func, args)
    except BrokenPipeError:  # `tcup list | head`: the reader left; that is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)


def call(func: Callable[..., int | None], *args: object) -> int:
    """Run a command: an error the user can fix becomes one line and its exit code, Ctrl-C
    the interrupted code; never a traceback for either."""
    try:
        return int(func(*args) or 0)
    except TcupError as error:
        print(f"tcup: error: {REDACTOR.redact(str(error))}", file=sys.stderr)
        return int(error.exit_code)
    except KeyboardInterrupt:
        print("tcup: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
