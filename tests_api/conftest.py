"""Native API tests of tcup-pytest: run them against your cloud with ``pytest tests_api``.

Fixtures come from the installed ``tcup`` plugin (``conn``, ``admin_conn``, ``member_conn``,
``resource_cleanup``). These tests need a cloud, so it is resolved and checked before any test
starts: a missing variable or a wrong password stops the run with one line.
"""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.option.tcup_require_cloud = True
