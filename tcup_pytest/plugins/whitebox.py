"""Whitebox fixtures: ``hosts``, ``host_for``, ``nova_db``/``nova_api_db``/``placement_db``,
``config_change``; the ``whitebox`` marker; the inventory option.

Thin on purpose: each fixture wraps a plain class of :mod:`tcup_pytest.whitebox`. Without an
inventory, whitebox tests skip with one reason (and fail under ``CI=true``, where the testbed
should have provided one).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest

from tcup_pytest.errors import DatabaseError, HostError, InventoryError, TcupError, XMLError

if TYPE_CHECKING:
    from tcup_pytest.whitebox.database import Database, DBSession
    from tcup_pytest.whitebox.hosts import Host
    from tcup_pytest.whitebox.inventory import Inventory
    from tcup_pytest.whitebox.pool import HostPool
    from tcup_pytest.whitebox.services import ConfigFile, NovaServiceLister

# tcup_pytest.whitebox (Fabric/paramiko, PyMySQL, YAML: ~0.1 s) is imported when a whitebox
# fixture or an inventory is used: every pytest process loads this plugin, few need it.

INVENTORY_ENV = "TCUP_WHITEBOX_INVENTORY"
INVENTORY_KEY = pytest.StashKey["Inventory"]()
NO_INVENTORY = ("whitebox: no inventory configured (set --whitebox-inventory, the "
                f"whitebox_inventory ini key or ${INVENTORY_ENV})")
_ONE_LINE_ERRORS = (HostError, InventoryError, DatabaseError, XMLError)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcup-whitebox", "whitebox hosts, libvirt, databases")
    group.addoption("--whitebox-inventory", dest="tcup_whitebox_inventory", metavar="PATH",
                    help=f"YAML inventory of the cloud's hosts (or ${INVENTORY_ENV})")
    parser.addini("whitebox_inventory", "YAML inventory of the cloud's hosts", default="")


def inventory_path(config: pytest.Config) -> str | None:
    """Option, then ini key (relative to the rootdir), then environment variable."""
    path = config.getoption("tcup_whitebox_inventory", default=None)
    if not path and config.getini("whitebox_inventory"):
        path = str(config.rootpath / config.getini("whitebox_inventory"))
    return path or os.environ.get(INVENTORY_ENV) or None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "whitebox: inspects hosts, libvirt XML or databases; needs an inventory")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A configured inventory is validated once, up front: a bad file is one clear line."""
    path = inventory_path(session.config)
    if path:
        from tcup_pytest.whitebox.inventory import Inventory

        try:
            session.config.stash[INVENTORY_KEY] = Inventory.load(path)
        except InventoryError as error:
            pytest.exit(str(error), returncode=int(error.exit_code))


def _missing_inventory() -> None:
    if in_ci():
        pytest.fail(NO_INVENTORY + "; CI=true expects the testbed to provide one",
                    pytrace=False)
    pytest.skip(NO_INVENTORY)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("whitebox") and INVENTORY_KEY not in item.config.stash:
        _missing_inventory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Whitebox errors a user can cause are shown as their one line, not a traceback."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and isinstance(call.excinfo.value, _ONE_LINE_ERRORS):
        error: TcupError = call.excinfo.value
        report.longrepr = f"{type(error).__name__}: {error}"


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def whitebox_inventory(pytestconfig: pytest.Config) -> Inventory:
    if INVENTORY_KEY not in pytestconfig.stash:
        _missing_inventory()
    return pytestconfig.stash[INVENTORY_KEY]


@pytest.fixture(scope="session")
def hosts(whitebox_inventory: Inventory) -> Iterator[HostPool]:
    """Inventory hosts by name (``hosts["compute-1"]``), one reused connection each."""
    from tcup_pytest.whitebox.pool import HostPool
    from tcup_pytest.whitebox.services import recover_orphaned_changes

    pool = HostPool(whitebox_inventory)
    recover_orphaned_changes(pool)  # files a killed earlier run left changed
    yield pool
    pool.close()


@pytest.fixture(scope="session")
def host_for(hosts: HostPool) -> Callable[[Any], Host]:
    """``host_for(server)``: the Host running an openstacksdk Server, API dict or host name."""
    return hosts.for_server


@pytest.fixture(scope="session")
def whitebox_database(hosts: HostPool) -> Iterator[Database]:
    database = hosts.database()
    yield database
    database.close()


def _db(database: Database, role: str) -> Iterator[DBSession]:
    session = database.session(role)
    yield session
    session.close()


@pytest.fixture
def nova_db(whitebox_database: Database) -> Iterator[DBSession]:
    """The cell database (instances, instance_extra, compute_nodes); dict rows."""
    yield from _db(whitebox_database, "nova")


@pytest.fixture
def nova_api_db(whitebox_database: Database) -> Iterator[DBSession]:
    yield from _db(whitebox_database, "nova_api")


@pytest.fixture
def placement_db(whitebox_database: Database) -> Iterator[DBSession]:
    yield from _db(whitebox_database, "placement")


@pytest.fixture(scope="session")
def nova_service_lister(request: pytest.FixtureRequest) -> NovaServiceLister | None:
    """Reads ``os-services`` when a cloud is configured, for Nova service health waits."""
    from tcup_pytest.plugins.cloud import get_cloud_config

    if get_cloud_config(request.config) is None:
        return None

    def lister(host: str, binary: str) -> list[Mapping[str, Any]]:
        conn = request.getfixturevalue("admin_conn")
        return [{"state": s.state, "status": s.status, "updated_at": s.updated_at}
                for s in conn.compute.services(host=host, binary=binary)]
    return lister


class ConfigChanger:
    """The ``config_change`` fixture: apply now, restore (and restart) at teardown."""

    def __init__(self, stack: contextlib.ExitStack,
                 nova_services: NovaServiceLister | None) -> None:
        self._stack, self._nova_services = stack, nova_services

    def __call__(self, host: Host, service: str,
                 changes: Mapping[str, Mapping[str, object]], **kwargs: Any) -> ConfigFile:
        from tcup_pytest.whitebox.services import config_change as config_change_cm

        kwargs.setdefault("nova_services", self._nova_services)
        return self._stack.enter_context(config_change_cm(host, service, changes, **kwargs))


@pytest.fixture
def config_change(nova_service_lister: NovaServiceLister | None) -> Iterator[ConfigChanger]:
    """``config_change(host, "nova-compute", {"compute": {"cpu_shared_set": None}})``."""
    with contextlib.ExitStack() as stack:
        yield ConfigChanger(stack, nova_service_lister)
