"""One exception type for everything a user can cause, each kind with its own exit code.

The CLI prints ``str(error)`` (one line: the problem, then how to fix it) and exits with
``error.exit_code``; it never shows a traceback for these. Library callers catch ``TcupError``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of ``tcup``; listed in ``tcup --help`` and the README."""

    OK = 0
    TESTS_FAILED = 1
    USAGE = 2
    CONFIG = 10
    CLOUD_UNREACHABLE = 11
    AUTH_FAILED = 12
    TLS = 13
    INPUT_FILE = 14
    GUIDELINE = 15
    NOTHING_SELECTED = 16
    KEY = 17
    EMPTY_RESULTS = 18
    UPLOAD = 19
    HOST = 20
    INVENTORY = 21
    DATABASE = 22
    DOCKER = 23
    TEMPEST_MISSING = 24
    TESTBED = 25
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "all selected tests passed (or the command succeeded)",
    ExitCode.TESTS_FAILED: "some tests failed",
    ExitCode.USAGE: "wrong command-line usage",
    ExitCode.CONFIG: "cloud configuration missing or invalid (OS_* variables, clouds.yaml)",
    ExitCode.CLOUD_UNREACHABLE: "the cloud's auth URL refused the connection or is not keystone",
    ExitCode.AUTH_FAILED: "the cloud rejected the credentials (401)",
    ExitCode.TLS: "TLS verification failed (see OS_CACERT / OS_INSECURE)",
    ExitCode.INPUT_FILE: "an input file is missing, unreadable or malformed",
    ExitCode.GUIDELINE: "unknown or invalid interop guideline",
    ExitCode.NOTHING_SELECTED: "no test matched the selection",
    ExitCode.KEY: "the signing key cannot be used",
    ExitCode.EMPTY_RESULTS: "the results contain no passed test (RefStack rejects them)",
    ExitCode.UPLOAD: "upload failed; the results are saved locally",
    ExitCode.HOST: "a whitebox host is unreachable or refused the login",
    ExitCode.INVENTORY: "the whitebox inventory is malformed",
    ExitCode.DATABASE: "a database refused the connection or the login",
    ExitCode.DOCKER: "no usable Docker engine, or the image build failed",
    ExitCode.TEMPEST_MISSING: "tempest is not installed",
    ExitCode.TESTBED: "the local testbed could not be started",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


class TcupError(Exception):
    """An error the user can fix. ``str()`` is one line: what is wrong, then the fix."""

    exit_code: ExitCode = ExitCode.CONFIG

    def __init__(self, message: str, *, hint: str | None = None,
                 exit_code: ExitCode | None = None) -> None:
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code
        super().__init__(str(self))

    def __str__(self) -> str:
        line = self.message.rstrip(".")
        return f"{line}. {self.hint}" if self.hint else f"{line}."


class ConfigError(TcupError):
    exit_code = ExitCode.CONFIG


class CloudUnreachable(TcupError):
    exit_code = ExitCode.CLOUD_UNREACHABLE


class AuthFailed(TcupError):
    exit_code = ExitCode.AUTH_FAILED


class TLSFailure(TcupError):
    exit_code = ExitCode.TLS


class InputFileError(TcupError):
    exit_code = ExitCode.INPUT_FILE


class TestbedError(TcupError):
    __test__ = False  # not a pytest test class despite the name
    exit_code = ExitCode.TESTBED


class HostError(TcupError):
    """A whitebox host is unreachable, refused the login, or a command on it failed."""

    exit_code = ExitCode.HOST


class InventoryError(TcupError):
    """The whitebox inventory file is missing or malformed, or names no such host."""

    exit_code = ExitCode.INVENTORY


class DatabaseError(TcupError):
    """A database refused the connection or the login."""

    exit_code = ExitCode.DATABASE


class XMLError(InputFileError):
    """XML that is not what we were asked to read (not a domain, not capabilities)."""
