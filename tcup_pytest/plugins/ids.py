"""The ``idempotent_id`` marker: every test we ship carries a uuid that outlives renames.

Items get their uuid as a ``-k`` keyword and, with their Tempest-style name, as junit
properties (``test_name``, ``uuid``), which CI systems and our reports key on.
"""

from __future__ import annotations

import pytest

from tcup_pytest.ids import identity_of, valid_uuid


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "idempotent_id(uuid): the test's stable uuid (as tempest's decorator)")


@pytest.hookimpl(tryfirst=True)  # before -k/-m deselect
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        identity = identity_of(item)
        if identity.uuid and not valid_uuid(identity.uuid):
            raise pytest.UsageError(
                f"{item.nodeid}: idempotent_id {identity.uuid!r} is not a uuid; "
                "generate one with: python -c 'import uuid; print(uuid.uuid4())'")
        if identity.uuid:
            item.extra_keyword_matches.add(identity.uuid)
            item.user_properties.append(("uuid", identity.uuid))
        item.user_properties.append(("test_name", identity.name))
