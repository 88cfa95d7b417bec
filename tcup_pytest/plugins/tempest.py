"""``--tempest``: collect and run Tempest (and Tempest plugins') tests as pytest items.

Nothing here imports tempest unless ``--tempest`` (or a selection option) is given. On the
controller, before any worker starts: tempest.conf is rendered into a private directory and
``TEMPEST_CONFIG_DIR``/``TEMPEST_CONFIG`` point at it (xdist workers inherit the environment),
the selection (test list, guideline, regexes) is resolved once and handed to the workers in
memory. Each process collects exactly the Tempest test packages (or only the modules a test
list needs), labels the items (stable node ids, Tempest ids, markers) and deselects what the
selection leaves out; listed tests that are not installed are reported at the end.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.tempest import failures
from tcup_pytest.tempest import items as items_mod
from tcup_pytest.tempest.select import Selection, TestList, compile_regexes, guideline_lines

if TYPE_CHECKING:
    from tcup_pytest.tempest.discover import TestRoot

STATE_KEY = pytest.StashKey["TempestRun"]()
WORKER_KEY = "tcup_tempest"
MISSING_KEY = "tcup_tempest_missing"
CLASS_REPORTS_KEY = pytest.StashKey[failures.ClassSetupReports]()
#: shown in the warning before "... and N more"
MISSING_SHOWN = 50


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tcup-tempest", "Tempest tests (tcup-pytest)")
    add = group.addoption
    add("--tempest", dest="tcup_tempest", action="store_true",
        help="collect Tempest's tests (tempest.api, .scenario, .serial_tests) and installed "
             "Tempest plugins' tests")
    add("--tempest-conf", dest="tcup_tempest_conf", metavar="FILE",
        help="use this tempest.conf instead of discovering one from the cloud")
    add("--tempest-option", dest="tcup_tempest_options", action="append", default=[],
        metavar="SECTION.KEY=VALUE", help="set a tempest.conf value (repeatable)")
    add("--tempest-image", dest="tcup_tempest_image", metavar="FILE",
        help="local disk image python-tempestconf uploads (default: a 1 MiB raw file)")
    add("--test-list", dest="tcup_test_list", metavar="FILE|URL",
        help="run the tests of this list (RefStack name[id-...] lines, names or regexes)")
    add("--guideline", dest="tcup_guideline", metavar="NAME|FILE|URL",
        help="run an interop guideline's tests (e.g. 2020.06, dns.2020.06)")
    add("--target", dest="tcup_target", default="platform",
        help="guideline target: platform, compute, object or an add-on (default platform)")
    add("--status", dest="tcup_status", default="required",
        help="guideline capability statuses, comma separated (default required)")
    add("--flagged", dest="tcup_flagged", action="store_true",
        help="also run the guideline's flagged tests")
    add("--include", dest="tcup_include", action="append", default=[], metavar="REGEX",
        help="only Tempest tests whose id matches (repeatable; like tempest run --regex)")
    add("--exclude", dest="tcup_exclude", action="append", default=[], metavar="REGEX",
        help="leave out Tempest tests whose id matches (repeatable)")


def tempest_requested(config: pytest.Config) -> bool:
    opt = config.getoption
    return bool(opt("tcup_tempest") or opt("tcup_test_list") or opt("tcup_guideline"))


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """With xdist, keep a class on one worker (as stestr's group_regex) unless told otherwise."""
    if tempest_requested(config) and getattr(config.option, "numprocesses", None) \
            and getattr(config.option, "dist", "no") in ("no", "load"):
        config.option.dist = "loadscope"


def pytest_configure(config: pytest.Config) -> None:
    if not tempest_requested(config):
        return
    try:
        run = TempestRun.start(config)
    except TcupError as error:
        pytest.exit(str(error), returncode=int(error.exit_code))
    config.stash[STATE_KEY] = run
    config.pluginmanager.register(run, "tcup-tempest-run")


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(STATE_KEY, None)
    if run is not None:
        run.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """testtools items (any, not only Tempest's): real exceptions and details in reports."""
    testtools_item = items_mod.is_testtools_item(item)
    if testtools_item:
        failures.install(item)
    try:
        yield
    finally:
        if testtools_item:
            failures.uninstall(item)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if items_mod.is_testtools_item(item):
        reports = item.config.stash.setdefault(CLASS_REPORTS_KEY, failures.ClassSetupReports())
        reports.rewrite(item, call, outcome.get_result())


@pytest.fixture(scope="class", autouse=True)
def _tcup_tempest_fixtures(request: pytest.FixtureRequest) -> None:
    """Give Tempest-style (unittest) classes our fixtures: ``cls.tcup_fixture("conn")``.

    unittest methods take no fixture arguments; this runs before ``setUpClass`` so
    ``resource_setup`` can use it too (class- or session-scoped fixtures only).
    """
    cls = request.cls
    if cls is not None and hasattr(cls, "setUpClass") and hasattr(cls, "run"):
        cls.tcup_fixture = staticmethod(request.getfixturevalue)


class TempestRun:
    """One run's Tempest state: conf directory, selection, test roots, missing entries."""

    def __init__(self, config: pytest.Config, selection: Selection, lines: list[str]) -> None:
        from tcup_pytest.tempest import discover

        self.config = config
        self.selection = selection
        self.lines = lines
        self.roots = discover.test_roots()
        self.packages = [root.package for root in self.roots]
        self._prefixes = [(root, str(root.path) + os.sep) for root in self.roots]
        self.private = None
        self.missing: list[str] = []
        #: directories pytest only walks through (their other entries are not collected)
        self.passed_by: set[Path] = set()

    # -- set-up ------------------------------------------------------------------------------
    @classmethod
    def start(cls, config: pytest.Config) -> TempestRun:
        from tcup_pytest.tempest import require_tempest

        require_tempest()
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and WORKER_KEY in workerinput:
            data = workerinput[WORKER_KEY]
            lines = data["lines"]
            include, exclude = data["include"], data["exclude"]
        else:
            lines = selection_lines(config)
            include = config.getoption("tcup_include")
            exclude = config.getoption("tcup_exclude")
        test_list = TestList.parse("\n".join(lines), "selection") if lines else None
        selection = Selection(test_list, compile_regexes(include, "--include"),
                              compile_regexes(exclude, "--exclude"))
        run = cls(config, selection, lines)
        if workerinput is None:
            run.prepare_conf()
        run.set_collection_args()
        return run

    def prepare_conf(self) -> None:
        """Render tempest.conf (or copy the given one) and point tempest at it."""
        from tcup_pytest.plugins.cloud import CLOUD_KEY, load_cloud_config, wants_cloud
        from tcup_pytest.tempest import conf

        opt = self.config.getoption
        base = opt("tcup_tempest_conf")
        options = opt("tcup_tempest_options")
        conf.parse_options(options)  # a broken option fails before anything is started
        has_cloud = CLOUD_KEY in self.config.stash or wants_cloud(self.config)
        if base is None and not has_cloud:
            if os.environ.get("TEMPEST_CONFIG_DIR"):
                return  # the user pointed tempest at a config already
            raise TcupError("no cloud to test: no OS_* variables, --os-cloud or --tempest-conf",
                            hint="source your openrc, set OS_CLOUD, or pass --tempest-conf FILE")
        cloud = load_cloud_config(self.config) if base is None else None
        if cloud is not None:
            cloud.check()
        self.private = conf.PrivateDir()
        path = conf.render(cloud, self.private.path, base=base, options=options,
                           image=opt("tcup_tempest_image"))
        conf.point_tempest_at(path)

    def set_collection_args(self) -> None:
        """Collect the Tempest packages (or the modules the list names), never tempest.tests."""
        from tcup_pytest.tempest import discover

        names = self.selection.names_to_import()
        unknown: list[str] = []
        if names is None:
            paths = [root.path for root in self.roots]
        else:
            paths, unknown = discover.paths_for(names, self.roots)
        config = self.config
        explicit = config.args_source == pytest.Config.ArgsSource.ARGS and not (
            len(config.args) == 1 and Path(config.args[0]) == config.invocation_params.dir)
        skip_foreign_conftests(config, [root.path for root in self.roots])
        # With only our paths to collect, every other entry of their parent directories is
        # pytest walking past (see pytest_ignore_collect); with the user's paths, it may not be.
        self.passed_by = set() if explicit else {d for p in paths for d in p.parents}
        tempest_args = [str(p) for p in paths]
        config.args[:] = [*config.args, *tempest_args] if explicit else tempest_args
        if not config.args:  # no name on the list is in an installed module
            raise TcupError("\n".join([*missing_warning(unknown), "no test on the list is in "
                                        "the installed Tempest or its plugins"]),
                            exit_code=ExitCode.NOTHING_SELECTED)

    def close(self) -> None:
        if self.private is not None:
            self.private.remove()
            self.private = None

    # -- hooks -------------------------------------------------------------------------------
    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        node.workerinput[WORKER_KEY] = {
            "lines": self.lines, "include": self.config.getoption("tcup_include"),
            "exclude": self.config.getoption("tcup_exclude")}

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection(self, session: pytest.Session):
        """Collect with the cyclic garbage collector paused, then freeze what was built.

        Collecting ``tempest.api`` builds ~170 k long-lived objects (modules, classes, items)
        that the collector rescanned again and again: a fifth of the collection time. Frozen,
        they are also skipped by every collection during the run. The price: the cyclic
        garbage of those imports (~20 k objects) stays until the process exits (unfreezing
        at the end would cost a full collection, ~0.1 s, at interpreter shutdown).
        """
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return (yield)
        finally:
            if was_enabled:
                gc.enable()
            gc.freeze()

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        tempest_items = [i for i in items if items_mod.is_tempest_item(i, self.packages)]
        identities = [items_mod.label(i, config) for i in tempest_items]
        if not self.selection.active:
            return
        own = [i.name in vars(i.cls) for i in tempest_items]
        chosen, missing = self.selection.apply(identities, own)
        self.missing = [entry.line for entry in missing]
        keep = {id(tempest_items[i]) for i in chosen}
        dropped = [i for i in tempest_items if id(i) not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            dropped_ids = {id(i) for i in dropped}
            items[:] = [i for i in items if id(i) not in dropped_ids]

    def root_of(self, path: Path) -> TestRoot | None:
        """The test root holding ``path`` (a string prefix test: this runs for every file)."""
        text = str(path)
        return next((root for root, prefix in self._prefixes if text.startswith(prefix)), None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config):
        """Skip what pytest passes on its way to the Tempest paths; in the test roots collect
        what stestr loads (all but ``__pycache__``).

        pytest reaches a path outside the rootdir from the top of the filesystem, listing each
        directory on the way (site-packages: hundreds of entries) and making a collector for
        every entry before keeping the one on the path; it asks this hook about all but that
        one (~270 entries on the way to ``tempest.api`` in a venv). In the roots, pytest's own
        checks (conftest ``collect_ignore`` lists, virtualenv detection, ``norecursedirs``) are
        about a project's tree, not an installed package. ``--ignore``/``--ignore-glob`` are
        still honoured there.
        """
        if collection_path.parent in self.passed_by:
            return True
        if config.getoption("ignore") or config.getoption("ignore_glob") \
                or self.root_of(collection_path) is None:
            return None
        return collection_path.name == "__pycache__"

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makemodule(self, module_path: Path, parent: pytest.Collector):
        root = self.root_of(module_path)
        return None if root is None else items_mod.TempestModule.for_path(parent, module_path,
                                                                          root)

    @pytest.hookimpl(tryfirst=True)
    def pytest_pycollect_makeitem(self, collector: pytest.Collector, name: str, obj: object):
        return items_mod.tempest_class_collector(collector, name, obj)

    def pytest_report_collectionfinish(self, config: pytest.Config) -> list[str]:
        return missing_warning(self.missing)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[MISSING_KEY] = self.missing

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        output = getattr(node, "workeroutput", None) or {}
        if not self.missing and output.get(MISSING_KEY):
            self.missing = list(output[MISSING_KEY])

    def pytest_terminal_summary(self, terminalreporter) -> None:
        lines = missing_warning(self.missing)
        if lines:
            terminalreporter.write_sep("=", "tests on the list that are not installed",
                                       yellow=True)
            for line in lines:
                terminalreporter.write_line(line)


def skip_foreign_conftests(config: pytest.Config, roots: list[Path]) -> None:
    """Don't load conftest.py files found above the Tempest installation.

    A venv inside a project puts the project's conftest.py above tempest; pytest would load
    it for Tempest's paths and, when it is not the rootdir's, refuse its ``pytest_plugins``.
    Those files are not about Tempest; pytest has no option for "no conftests under this
    directory", so we mark the directories as already searched (pytest's own cache).
    """
    cache = getattr(config.pluginmanager, "_dirpath2confmods", None)
    if not isinstance(cache, dict):
        return
    rootpath = config.rootpath
    for root in roots:
        for directory in (root, *root.parents):
            if directory == rootpath or directory in rootpath.parents:
                break
            cache.setdefault(directory, [])
        for dirpath, dirnames, _files in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            cache.setdefault(Path(dirpath), [])


def missing_warning(missing: list[str]) -> list[str]:
    if not missing:
        return []
    shown = missing[:MISSING_SHOWN]
    more = len(missing) - len(shown)
    return [f"WARNING: {len(missing)} tests on the list are not in the installed Tempest "
            "(or its plugins) and were not run:", *(f"  {name}" for name in shown),
            *([f"  ... and {more} more"] if more else [])]


def selection_lines(config: pytest.Config) -> list[str]:
    """The test-list lines of this run: from --test-list and/or --guideline (validated)."""
    opt = config.getoption
    lines: list[str] = []
    if opt("tcup_test_list"):
        lines += [e.line for e in TestList.load(opt("tcup_test_list")).entries]
    if opt("tcup_guideline"):
        lines += guideline_lines(opt("tcup_guideline"), opt("tcup_target"), opt("tcup_status"),
                                 flagged=opt("tcup_flagged"))
    return lines
