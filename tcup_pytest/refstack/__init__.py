"""RefStack results: the model, converters from pytest/subunit/junit, and the upload client.

Nothing here imports tempest or the CLI: a script can convert, sign and upload on its own::

    >>> from tcup_pytest.refstack import ResultSet, RefStackClient      # doctest: +SKIP
    >>> RefStackClient("http://127.0.0.1:8000").upload(ResultSet.load("run.subunit").body())
"""

from tcup_pytest.refstack.client import RefStackClient, UploadError, UploadReceipt
from tcup_pytest.refstack.results import ResultSet, TestResult

__all__ = ["RefStackClient", "ResultSet", "TestResult", "UploadError", "UploadReceipt"]
