"""`tcup convert IN -o OUT`: make a RefStack upload body from subunit (v1/v2) or junit XML.

With --full, OUT keeps every test's outcome (for `tcup verdict` and for merging runs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tcup_pytest.refstack.results import ResultSet


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("convert", help="convert subunit/junit results to RefStack "
                                   "JSON", description=__doc__)
    parser.add_argument("inputs", nargs="+", type=Path, metavar="IN",
                        help="subunit v1/v2 stream, junit XML or results JSON (several merge)")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT")
    parser.add_argument("--cpid", help="cloud provider id to put in the body")
    parser.add_argument("--full", action="store_true",
                        help="write all outcomes (tcup results format) instead of the body")
    parser.set_defaults(func=convert)


def convert(args: argparse.Namespace) -> int:
    results = ResultSet.load(args.inputs[0])
    for extra in args.inputs[1:]:
        results = results.merge(ResultSet.load(extra))
    if args.cpid is not None:
        results.cpid = args.cpid
    results.save(args.output, body=not args.full)
    counts = ", ".join(f"{n} {k}" for k, n in results.counts().items() if n)
    print(f"{len(results)} tests ({counts}) → {args.output}")
    return 0
