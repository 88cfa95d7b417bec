"""Inside the TCUP container: `nox -s tcup` calls :func:`main` (container/tcup.py starts it).

The launcher sends the secrets (password, signing key) as one JSON line on stdin, never as
environment variables of the container, so ``docker inspect`` never shows them. Here they go
straight to ``tcup run`` in memory (the password as the ``--os-password`` value of an
already-parsed command line, not on any argv) and the key to a 0600 file on the container's
tmpfs that is removed at exit. Results land in ``/results`` (the host's results directory)
before any upload is tried (the run directory of `tcup run`)::

    nox -s tcup -- [--no-upload | --url URL] [--results DIR] [tcup run arguments]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.redaction import REDACTOR, install_logging

#: set by the launcher when a JSON line with secrets follows on stdin
SECRETS_FLAG = "TCUP_SECRETS_STDIN"
RESULTS_DIR = "/results"
#: secrets besides the password are handed to in-process code as variables of this process
SECRET_VARIABLES = ("OS_APPLICATION_CREDENTIAL_SECRET", "OS_TOKEN")


def parse_args(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="nox -s tcup --", description=__doc__)
    parser.add_argument("--results", type=Path, default=Path(RESULTS_DIR),
                        help="where results go (default %(default)s, the mounted host dir)")
    upload = parser.add_mutually_exclusive_group()
    upload.add_argument("--url", help="RefStack API root to upload to")
    upload.add_argument("--no-upload", action="store_true", help="only save the results")
    return parser.parse_known_args(list(argv))


def read_secrets() -> dict[str, str]:
    """The launcher's JSON line on stdin (only when it said it sends one)."""
    if os.environ.get(SECRETS_FLAG) != "1":
        return {}
    line = sys.stdin.readline()
    try:
        secrets = json.loads(line) if line.strip() else {}
    except ValueError:
        raise TcupError("the secrets line on stdin is not JSON",
                        hint="Start the container with container/tcup.py",
                        exit_code=ExitCode.USAGE) from None
    for value in secrets.values():
        REDACTOR.register(value)
    return {str(k): str(v) for k, v in secrets.items() if v}


def run_tests(opts: argparse.Namespace, run_args: list[str], password: str | None,
              key: Path | None) -> int:
    """`tcup run` in this process: results saved in ``opts.results``, then uploaded."""
    from tcup_pytest.cli import build_parser

    own, _, pytest_args = _split(run_args)
    argv = ["run", "--run-dir", str(opts.results), *own]
    argv += ["--no-upload"] if opts.no_upload else ["--url", opts.url] if opts.url else []
    argv += ["--sign", str(key)] if key else []
    args = build_parser().parse_args([*argv, "--", "-p", "no:cacheprovider", *pytest_args])
    if password and not args.os_password:
        args.os_password = password
    with restored_logging():
        return int(args.func(args) or 0)


@contextlib.contextmanager
def restored_logging() -> Iterator[None]:
    """Leave logging as found: tempest's log handlers point into its private directory,
    which is gone after the run, and nox (our caller) logs once more at exit."""
    loggers = [logging.getLogger(), *(v for v in logging.root.manager.loggerDict.values()
                                      if isinstance(v, logging.Logger))]
    before = {id(lg): list(lg.handlers) for lg in loggers}
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.WARNING)  # nox sets DEBUG: no library chatter
    try:
        yield
    finally:
        logging.getLogger().setLevel(level)
        for lg in [logging.getLogger(), *(v for v in logging.root.manager.loggerDict.values()
                                          if isinstance(v, logging.Logger))]:
            for handler in [h for h in lg.handlers if h not in before.get(id(lg), [])]:
                lg.removeHandler(handler)
                with contextlib.suppress(Exception):
                    handler.close()


def main(argv: Sequence[str] | None = None) -> int:
    from tcup_pytest.cli import call

    install_logging()
    opts, run_args = parse_args(sys.argv[1:] if argv is None else argv)
    private = Path(tempfile.mkdtemp(prefix="tcup-", dir=_tmpfs()))
    try:
        return call(_run, opts, run_args, private)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _run(opts: argparse.Namespace, run_args: list[str], private: Path) -> int:
    secrets = read_secrets()
    for name in SECRET_VARIABLES:
        if name in secrets:
            os.environ[name] = secrets[name]
    key = None
    if "sign_key" in secrets:
        key = private / "signing-key"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets["sign_key"])
    return run_tests(opts, run_args, secrets.get("OS_PASSWORD"), key)


def _split(args: list[str]) -> tuple[list[str], str, list[str]]:
    if "--" in args:
        at = args.index("--")
        return args[:at], "--", args[at + 1:]
    return args, "", []


def _tmpfs() -> str | None:
    """/dev/shm is a tmpfs in every container: a key written there never reaches a disk."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
