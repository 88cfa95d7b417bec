"""RefStack results: the model, converters from pytest/subunit/junit, and the upload client.

Nothing here imports tempest or the CLI: a script can convert, sign and upload on its own::

    >>> from tcup_pytest.refstack import ResultSet, RefStackClient      # doctest: +SKIP
    >>> RefStackClient("http://127.0.0.1:8000").upload(ResultSet.load("run.subunit").body())
"""

import importlib

# Names resolved on first use (PEP 562): the pytest plugin needs only the results model, and
# importing the client (requests, cryptography) would cost every pytest process ~0.1 s.
_EXPORTS = {"RefStackClient": "client", "UploadError": "client", "UploadReceipt": "client",
            "ResultSet": "results", "TestResult": "results"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
