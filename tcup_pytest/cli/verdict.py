"""`tcup verdict RESULTS --guideline G`: the local compliance verdict, before any upload.

Prints each capability as passed / failed / not run (naming the tests) and writes the same
as JSON with -o. Exit 0 when every required capability passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tcup_pytest.cli.guidelines import default_target, load_guideline
from tcup_pytest.cli.upload import add_server_arguments
from tcup_pytest.errors import ExitCode
from tcup_pytest.interop.verdict import Verdict
from tcup_pytest.refstack.results import ResultSet, write_json_atomic


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verdict", help="judge results against a guideline",
                                   description=__doc__)
    parser.add_argument("results", nargs="+", type=Path,
                        help="results files (several merge): tcup/RefStack JSON, subunit, junit")
    parser.add_argument("-g", "--guideline", required=True,
                        help="2020.06 (from the server), bundled:2020.06, a file or a URL")
    parser.add_argument("--target", default=None, help="platform (default), compute, object, "
                        "or the add-on name")
    parser.add_argument("-o", "--output", type=Path, help="write the verdict as JSON here")
    parser.add_argument("--all", action="store_true",
                        help="show deprecated and removed capabilities too")
    add_server_arguments(parser)
    parser.set_defaults(func=verdict)


def verdict(args: argparse.Namespace) -> int:
    results = ResultSet.load(args.results[0])
    for extra in args.results[1:]:
        results = results.merge(ResultSet.load(extra))
    guideline = load_guideline(args)
    judged = Verdict.judge(guideline, results, default_target(guideline, args.target))
    statuses = ("required", "advisory", "deprecated", "removed") if args.all else \
        ("required", "advisory")
    print(judged.table(statuses=statuses))
    if args.output:
        write_json_atomic(args.output, judged.to_dict())
        print(f"verdict written to {args.output}")
    return int(ExitCode.OK if judged.passed else ExitCode.TESTS_FAILED)
