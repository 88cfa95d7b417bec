"""Errors a whitebox user can cause, each with its own exit code (see tcup_pytest.errors)."""

from __future__ import annotations

from tcup_pytest.errors import ExitCode, InputFileError, TcupError


class HostError(TcupError):
    """A host is unreachable, refused the login, or a command on it failed."""

    exit_code = ExitCode.HOST


class InventoryError(TcupError):
    """The inventory file is missing or malformed, or names no such host."""

    exit_code = ExitCode.INVENTORY


class DatabaseError(TcupError):
    """A database refused the connection or the login."""

    exit_code = ExitCode.DATABASE


class XMLError(InputFileError):
    """XML that is not what we were asked to read (not a domain, not capabilities)."""


__all__ = ["DatabaseError", "HostError", "InventoryError", "XMLError"]
