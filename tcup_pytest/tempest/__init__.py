"""Tempest (and installed Tempest plugins' tests) under pytest instead of stestr.

``conf`` renders tempest.conf from the cloud into a private directory, ``discover`` finds the
test packages ``tempest run`` would load, ``select`` reads test lists, ``items`` gives each
collected item its Tempest id and markers, and ``failures`` makes testtools failures readable.
The pytest side is :mod:`tcup_pytest.plugins.tempest`. Importing this package never imports
tempest: only the functions that need it do, through :func:`require_tempest`.
"""

from __future__ import annotations

import importlib.util

from tcup_pytest.errors import ExitCode, TcupError


class TempestMissing(TcupError):
    exit_code = ExitCode.TEMPEST_MISSING


def require_tempest() -> None:
    """Raise :class:`TempestMissing` (one line, with the fix) unless tempest is importable."""
    try:
        spec = importlib.util.find_spec("tempest")
    except (ImportError, ValueError):  # a broken install counts as none
        spec = None
    if spec is None:
        raise TempestMissing("tempest is not installed in this Python environment",
                             hint="install it with: pip install 'tcup-pytest[tempest]'")
