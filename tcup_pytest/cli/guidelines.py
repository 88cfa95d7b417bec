"""`tcup guidelines`: what a RefStack server offers, one guideline's capabilities, or its tests.

    tcup guidelines                                   # list the server's guidelines
    tcup guidelines 2020.06                           # capabilities by status
    tcup guidelines 2020.06 --tests --type required --no-flag   # the test list
"""

from __future__ import annotations

import argparse

from tcup_pytest.cli.upload import add_server_arguments, client_from
from tcup_pytest.interop.guidelines import STATUSES, Guideline


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("guidelines", help="list interop guidelines or show one",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("guideline", nargs="?",
                        help="name on the server (2020.06, dns.2020.06), bundled:NAME, file "
                             "or URL")
    add_server_arguments(parser)
    add_selection_arguments(parser)
    parser.add_argument("--tests", action="store_true",
                        help="print the test list (as the server's /tests endpoint does)")
    parser.set_defaults(func=guidelines)


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default=None,
                        help="platform (default), compute, object, or an add-on (dns, ...)")
    parser.add_argument("--type", default=None, metavar="STATUSES",
                        help=f"comma list of {', '.join(STATUSES)} (default: all)")
    parser.add_argument("--no-alias", dest="alias", action="store_false",
                        help="leave out the aliases (old names) of tests")
    parser.add_argument("--no-flag", dest="flag", action="store_false",
                        help="leave out flagged tests")


def load_guideline(args: argparse.Namespace) -> Guideline:
    return Guideline.load(args.guideline, server_url=args.url, verify=not args.insecure)


def default_target(guideline: Guideline, target: str | None) -> str:
    return target or ("platform" if "platform" in guideline.targets else guideline.targets[0])


def guidelines(args: argparse.Namespace) -> int:
    if not args.guideline:
        client = client_from(args)
        for kind, entries in sorted(client.guidelines().items()):
            for entry in entries:
                print(f"{kind:<14} {entry.get('file') or entry.get('name')}")
        return 0
    guideline = load_guideline(args)
    target = default_target(guideline, args.target)
    if args.tests:
        print("\n".join(guideline.test_list(target, args.type, args.alias, args.flag)))
        return 0
    print(f"{guideline.id} (schema {guideline.schema}) targets: {', '.join(guideline.targets)}")
    for cap in guideline.capabilities_of(target, args.type):
        status = guideline.status_of(cap.name, target)
        flagged = sum(1 for t in cap.tests if t.flagged)
        note = f", {flagged} flagged" if flagged else ""
        print(f"  {status:<10} {cap.name}  ({len(cap.tests)} tests{note})")
    return 0
