"""Cloud options and fixtures: ``cloud_config``, ``keystone_session``, ``conn``,
``admin_conn``, ``member_conn`` and ``resource_cleanup``.

The cloud is resolved once on the controller before any test starts (a missing variable or a
bad password stops the run with one line and its exit code), then handed to xdist workers in
memory. Resources a test registers are deleted when it ends, even on failure or Ctrl-C; what
cannot be deleted is named at the end of the run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from tcup_pytest.cloud import Leftover, ResourceCleanup, temporary_member
from tcup_pytest.config import CloudConfig
from tcup_pytest.errors import TcupError

CLOUD_KEY = pytest.StashKey[CloudConfig]()
ITEM_CLEANUPS_KEY = pytest.StashKey[list[ResourceCleanup]]()
WORKER_CLOUD_KEY = "tcup_cloud"
LEFTOVER_PROPERTY = "tcup_leftover"

#: --os-* options, named as openstacksdk's keys (as openstackclient spells them).
OPTIONS = {
    "auth_url": "Keystone URL (OS_AUTH_URL)",
    "username": "user name (OS_USERNAME)",
    "password": "password (OS_PASSWORD); prefer the prompt or the variable",
    "project_name": "project (OS_PROJECT_NAME)",
    "user_domain_name": "user domain (OS_USER_DOMAIN_NAME)",
    "project_domain_name": "project domain (OS_PROJECT_DOMAIN_NAME)",
    "region_name": "region (OS_REGION_NAME)",
    "interface": "endpoint interface: public, internal, admin (OS_INTERFACE)",
    "cacert": "CA bundle for TLS verification (OS_CACERT)",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcup-cloud", "cloud under test (tcup-pytest)")
    group.addoption("--os-cloud", dest="tcup_os_cloud", metavar="NAME",
                    help="cloud name in clouds.yaml (OS_CLOUD)")
    for key, text in OPTIONS.items():
        group.addoption(f"--os-{key.replace('_', '-')}", dest=f"tcup_os_{key}", help=text)
    group.addoption("--os-insecure", dest="tcup_os_insecure", action="store_true", default=None,
                    help="skip TLS verification (OS_INSECURE)")
    group.addoption("--require-cloud", dest="tcup_require_cloud", action="store_true",
                    help="resolve and check the cloud before any test starts")
    parser.addini("tcup_os_cloud", "default cloud name in clouds.yaml (like OS_CLOUD)",
                  default="")
    parser.addini("tcup_require_cloud", "check the cloud before any test starts",
                  type="bool", default=False)


def cloud_overrides(config: pytest.Config) -> dict[str, object]:
    values = {key: config.getoption(f"tcup_os_{key}") for key in OPTIONS}
    if config.getoption("tcup_os_insecure"):
        values["insecure"] = True
    return {k: v for k, v in values.items() if v not in (None, "")}


def wants_cloud(config: pytest.Config) -> bool:
    """A cloud is asked for: a source is given, or the tests say they need one."""
    return bool(config.getoption("tcup_require_cloud") or config.getini("tcup_require_cloud")
                or cloud_name(config) or cloud_overrides(config)
                or os.environ.get("OS_CLOUD") or os.environ.get("OS_AUTH_URL"))


def cloud_name(config: pytest.Config) -> str | None:
    """--os-cloud, else the ini key (OS_CLOUD is read by CloudConfig itself)."""
    return config.getoption("tcup_os_cloud") or config.getini("tcup_os_cloud") or None


def load_cloud_config(config: pytest.Config) -> CloudConfig:
    """Resolve the cloud for this pytest run (once per process)."""
    if CLOUD_KEY not in config.stash:
        workerinput = getattr(config, "workerinput", None)
        if workerinput and workerinput.get(WORKER_CLOUD_KEY):
            cfg = CloudConfig.from_dict(workerinput[WORKER_CLOUD_KEY])
        else:
            cfg = CloudConfig.load(cloud=cloud_name(config), overrides=cloud_overrides(config))
        config.stash[CLOUD_KEY] = cfg
    return config.stash[CLOUD_KEY]


def get_cloud_config(config: pytest.Config) -> CloudConfig | None:
    """The resolved cloud, or None when this run has none (for other plugins' hooks)."""
    if CLOUD_KEY in config.stash:
        return config.stash[CLOUD_KEY]
    if not wants_cloud(config):
        return None
    try:
        return load_cloud_config(config)
    except TcupError:
        return None


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(LeftoverReport(), "tcup-leftovers")
    config.addinivalue_line(
        "markers", "requires_service(type): skip unless the catalog has this service type")
    # openstacksdk's warnings about its own internals say nothing about the cloud under test.
    config.addinivalue_line("filterwarnings", "ignore:::openstack.*")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """On the controller, before workers start: resolve (maybe prompt) and authenticate."""
    config = session.config
    if hasattr(config, "workerinput") or config.option.collectonly or not wants_cloud(config):
        return
    try:
        load_cloud_config(config).check()
    except TcupError as error:
        pytest.exit(str(error), returncode=int(error.exit_code))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip tests whose service the cloud's catalog does not have, saying which."""
    wanted = [m.args[0] for m in item.iter_markers("requires_service") if m.args]
    if not wanted:
        return
    try:
        catalog = load_cloud_config(item.config).check().service_catalog
    except TcupError as error:
        pytest.fail(str(error), pytrace=False)
    for service_type in wanted:
        if not catalog.get_endpoints(service_type=service_type):
            pytest.skip(f"the cloud's catalog has no {service_type!r} service")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: hand the resolved cloud (secrets included) to a worker in memory."""
    cfg = node.config.stash.get(CLOUD_KEY, None)
    if cfg is not None:
        node.workerinput[WORKER_CLOUD_KEY] = cfg.to_dict()


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cloud_config(pytestconfig: pytest.Config) -> CloudConfig:
    """The resolved :class:`~tcup_pytest.config.CloudConfig` of the cloud under test."""
    try:
        return load_cloud_config(pytestconfig)
    except TcupError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def keystone_session(cloud_config: CloudConfig):
    """An authenticated keystoneauth1 Session."""
    try:
        cloud_config.check()
    except TcupError as error:
        pytest.fail(str(error), pytrace=False)
    return cloud_config.session()


@pytest.fixture(scope="session")
def conn(cloud_config: CloudConfig, keystone_session):
    """An openstacksdk Connection as the configured user."""
    connection = cloud_config.connect()
    yield connection
    connection.close()


@pytest.fixture(scope="session")
def admin_conn(cloud_config: CloudConfig, conn):
    """``conn`` when the configured user has the admin role; otherwise the test skips."""
    if not cloud_config.is_admin:
        pytest.skip("needs admin credentials: the configured user has no admin role")
    return conn


@pytest.fixture(scope="session")
def member_conn(cloud_config: CloudConfig, conn, worker_id: str) -> Iterator[object]:
    """A connection as a non-admin member: a throwaway project and user when we are admin."""
    if not cloud_config.is_admin:
        yield conn
        return
    with temporary_member(cloud_config, conn, prefix=f"tcup-{worker_id}") as member:
        yield member


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """xdist's worker id (``gw0``...) or ``main``; keeps resource names apart across workers."""
    workerinput = getattr(request.config, "workerinput", None)
    return workerinput["workerid"] if workerinput else "main"


def unique_name(prefix: str) -> str:
    """A resource name no other test or worker uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


# -- leftovers ---------------------------------------------------------------------------


class LeftoverReport:
    """Names, at the end of the run, every resource a test created that could not be deleted.

    Leftovers travel to the controller as a report property, so this works under xdist; an
    interrupted run (no teardown report) is covered by the session-finish sweep.
    """

    def __init__(self) -> None:
        self.cleanups: list[ResourceCleanup] = []
        self.reported: set[int] = set()
        self.leftovers: list[Leftover] = []

    @pytest.fixture
    def resource_cleanup(self, request: pytest.FixtureRequest) -> Iterator[ResourceCleanup]:
        """Register deleters: ``resource_cleanup.add(name, delete, *args)``; they run in
        reverse order when the test ends, also when it fails or is interrupted."""
        cleanup = ResourceCleanup()
        self.cleanups.append(cleanup)
        request.node.stash.setdefault(ITEM_CLEANUPS_KEY, []).append(cleanup)
        yield cleanup
        cleanup.run()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        if call.when == "teardown":
            for cleanup in item.stash.get(ITEM_CLEANUPS_KEY, []):
                cleanup.run()  # a no-op unless the fixture's own teardown never ran
                self.reported.add(id(cleanup))
                report.user_properties.extend(
                    (LEFTOVER_PROPERTY, [lo.name, lo.error]) for lo in cleanup.leftovers)
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            self.leftovers.extend(Leftover(*value) for name, value in report.user_properties
                                  if name == LEFTOVER_PROPERTY)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        """After pytest's own teardown (also after Ctrl-C): run and report what is left."""
        for cleanup in self.cleanups:
            cleanup.run()
            if id(cleanup) not in self.reported:
                self.leftovers.extend(cleanup.leftovers)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.leftovers:
            return
        terminalreporter.section("resources left behind", sep="=", red=True, bold=True)
        for leftover in self.leftovers:
            terminalreporter.line(f"{leftover.name}: {leftover.error}")
        terminalreporter.line(f"{len(self.leftovers)} resource(s) could not be deleted; "
                              "delete them by hand")
