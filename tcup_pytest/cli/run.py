"""`tcup run`: Tempest tests of a guideline or test list against the cloud, under pytest.

Everything a user can get wrong (tempest missing, a broken --tempest-option, an unreadable
test list, an unknown guideline, a bad signing key, the cloud) is checked first, each as one
line with its own exit code. Then pytest runs in this process with the tempest plugin (which
renders tempest.conf into a private directory and removes it afterwards) and xdist; every
report goes into one run directory (junit XML, full results, the RefStack body, subunit v2,
the compliance verdict) before the body is uploaded to RefStack (--no-upload: only saved).
A failed upload leaves the results in place: `tcup upload <run dir>` finishes it.
Arguments after ``--`` go to pytest unchanged.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.refstack.rundir import RunDir

#: pytest exit code -> ours (pytest.exit() inside the plugin already uses ours)
PYTEST_CODES = {0: ExitCode.OK, 1: ExitCode.TESTS_FAILED, 2: ExitCode.INTERRUPTED,
                4: ExitCode.USAGE, 5: ExitCode.NOTHING_SELECTED}


def default_workers() -> int:
    """Tempest runs are bound by the cloud's API, not our CPU; 2-4 workers is the sweet spot."""
    return max(1, min(4, os.cpu_count() or 1))


def add_tempest_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("tempest.conf (default: discovered from the cloud)")
    group.add_argument("--tempest-conf", metavar="FILE", help="use this tempest.conf")
    group.add_argument("--tempest-option", action="append", default=[],
                       metavar="SECTION.KEY=VALUE", help="set a tempest.conf value (repeatable)")
    group.add_argument("--tempest-image", metavar="FILE",
                       help="local image python-tempestconf uploads to glance")


def register(subparsers: argparse._SubParsersAction) -> None:
    from tcup_pytest.cli.config import add_cloud_arguments
    from tcup_pytest.cli.upload import add_server_arguments

    parser = subparsers.add_parser(
        "run", help="run Tempest tests (a guideline, a test list or regexes) with pytest",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cloud_arguments(parser)
    add_tempest_arguments(parser)
    sel = parser.add_argument_group("selection (default: all Tempest and plugin tests)")
    sel.add_argument("--test-list", metavar="FILE|URL",
                     help="RefStack list (name[id-...]), test names or regexes, one a line")
    sel.add_argument("--guideline", metavar="NAME|FILE|URL", help="e.g. 2020.06, dns.2020.06")
    sel.add_argument("--target", default="platform",
                     help="platform, compute, object or an add-on (default platform)")
    sel.add_argument("--status", default="required",
                     help="statuses, comma separated (default required)")
    sel.add_argument("--flagged", action="store_true", help="include flagged tests")
    sel.add_argument("--include", action="append", default=[], metavar="REGEX")
    sel.add_argument("--exclude", action="append", default=[], metavar="REGEX")
    sel.add_argument("--api-tests", action="store_true",
                     help="also run tcup-pytest's own API tests (tests_api), same reports")
    out = parser.add_argument_group("execution and results")
    out.add_argument("-j", "--workers", type=int, default=default_workers(),
                     help="parallel workers (default %(default)s; 1 = no xdist)")
    out.add_argument("--run-dir", metavar="DIR", type=Path,
                     help="where every result file goes (default tcup-runs/<time>)")
    out.add_argument("--junitxml", metavar="PATH",
                     help="junit XML path (default <run dir>/junit.xml)")
    up = parser.add_argument_group("upload (after the results are saved)")
    up.add_argument("--no-upload", action="store_true", help="only save the results")
    add_server_arguments(up)
    up.add_argument("-i", "--sign", metavar="KEY", type=Path,
                    help="sign the upload with this RSA private key (private until shared)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER,
                        help="after --: arguments for pytest")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tcup_pytest.cli.config import load_cloud
    from tcup_pytest.refstack.signing import SigningKey
    from tcup_pytest.tempest import conf, require_tempest
    from tcup_pytest.tempest.select import TestList, compile_regexes, guideline_lines

    require_tempest()
    conf.parse_options(args.tempest_option)
    compile_regexes(args.include, "--include")
    compile_regexes(args.exclude, "--exclude")
    if args.tempest_conf and not Path(args.tempest_conf).expanduser().is_file():
        raise TcupError(f"tempest.conf {args.tempest_conf} does not exist",
                        exit_code=ExitCode.INPUT_FILE)
    key = SigningKey.load(args.sign) if args.sign and not args.no_upload else None
    lines: list[str] = []
    if args.test_list:
        lines += [e.line for e in TestList.load(args.test_list).entries]
    if args.guideline:
        lines += guideline_lines(args.guideline, args.target, args.status, flagged=args.flagged)
    cloud = None
    if not args.tempest_conf:
        cloud = load_cloud(args)
        cloud.check()
    run_dir = RunDir.create(args.run_dir)
    run_dir.record(guideline=args.guideline, target=args.target, status=args.status,
                   test_list=args.test_list, api_tests=args.api_tests)
    with conf.PrivateDir(prefix="tcup-run-") as private:
        pytest_args = build_pytest_args(args, private, lines, run_dir)
        plugins = [SeedCloud(cloud)] if cloud is not None else []
        code = int(pytest.main(pytest_args, plugins=plugins))
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print("tcup: error: no test matched the selection.", file=sys.stderr)
    code = int(PYTEST_CODES.get(code, code))
    run_dir.record(exit_code=code)
    print(f"tcup: results saved in {run_dir.path}/: "
          + ", ".join(p.name for p in run_dir.artifacts()), file=sys.stderr)
    # no body saved: nothing ran (e.g. `-- --collect-only`), so there is nothing to send
    if args.no_upload or not run_dir.body.is_file() \
            or code not in (ExitCode.OK, ExitCode.TESTS_FAILED):
        return code
    return upload_run(args, run_dir, key) or code


def upload_run(args: argparse.Namespace, run_dir: RunDir, key) -> int:
    """Upload the saved body; on failure say how to finish it later. 0 when uploaded."""
    from tcup_pytest.cli.upload import client_from, report_receipt
    from tcup_pytest.redaction import REDACTOR
    from tcup_pytest.refstack.results import EmptyResults

    client = client_from(args)
    print(f"tcup: uploading to {client.url} ...", file=sys.stderr)
    try:
        receipt = run_dir.upload(client, key=key)
    except EmptyResults as error:
        print(f"tcup: not uploaded: {error}", file=sys.stderr)
        return int(error.exit_code)
    except TcupError as error:
        print(f"tcup: upload failed: {REDACTOR.redact(str(error))}", file=sys.stderr)
        print(f"tcup: the results are saved; finish later with: tcup upload {run_dir.path}",
              file=sys.stderr)
        return int(ExitCode.UPLOAD)
    report_receipt(client, receipt, key)
    return 0


def build_pytest_args(args: argparse.Namespace, private: Path, lines: list[str],
                      run_dir: RunDir) -> list[str]:
    reports = run_dir.pytest_args(verdict=bool(args.guideline))
    if args.junitxml:
        Path(args.junitxml).parent.mkdir(parents=True, exist_ok=True)
        reports[reports.index("--junitxml") + 1] = args.junitxml
    # Tempest asserts with testtools, not `assert`: rewriting its ~400 modules is wasted time.
    out = ["--tempest", "--noconftest", "--assert=plain", "--rootdir", os.getcwd(), *reports,
           "-o", "junit_family=xunit2", "-W", "ignore::DeprecationWarning",
           "-W", "ignore::pytest.PytestAssertRewriteWarning",
           # its end-of-run gc.collect() passes cost ~0.3 s and Tempest leaks nothing it sees
           "-p", "no:unraisableexception",
           # failure reports get Tempest's one-line-per-request INFO log; formatting every
           # DEBUG request/response body twice costs ~5 ms of CPU per test. `-- -o
           # log_level=DEBUG` brings them back.
           "-o", "log_level=INFO",
           # counts and elapsed time on one line (a terminal) or every 30 s (a CI log)
           "--progress=auto"]
    if args.workers > 1:
        out += ["-n", str(args.workers), "--dist", "loadscope"]
    else:
        out += ["-p", "no:xdist"]
    if args.guideline:  # the list is rendered below; the verdict needs the guideline itself
        out += ["--verdict", args.guideline, "--target", args.target]
    if lines:
        from tcup_pytest.tempest.conf import write_private

        out += ["--test-list", str(write_private(private / "test-list.txt", "\n".join(lines)))]
    if args.tempest_conf:
        out += ["--tempest-conf", args.tempest_conf]
    if args.tempest_image:
        out += ["--tempest-image", args.tempest_image]
    out += [f"--tempest-option={o}" for o in args.tempest_option]
    out += [f"--include={r}" for r in args.include]
    out += [f"--exclude={r}" for r in args.exclude]
    if args.api_tests:
        import tests_api

        out.append(str(Path(tests_api.__file__).parent))
    rest = list(args.pytest_args)
    if rest[:1] == ["--"]:
        rest = rest[1:]
    return out + rest


class SeedCloud:
    """Hands the cloud resolved (and maybe prompted for) here to the pytest plugins."""

    def __init__(self, cloud) -> None:
        self.cloud = cloud

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        from tcup_pytest.plugins.cloud import CLOUD_KEY

        config.stash[CLOUD_KEY] = self.cloud
