"""`tcup list`: the runs a RefStack server shows you, newest first, page by page."""

from __future__ import annotations

import argparse
import json

from tcup_pytest.cli.upload import add_server_arguments, client_from


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("list", help="list results on a RefStack server",
                                   description=__doc__)
    add_server_arguments(parser)
    parser.add_argument("--page", type=int, default=1, help="first page to show (20 runs each)")
    parser.add_argument("--pages", type=int, default=1,
                        help="how many pages to show (0: all)")
    parser.add_argument("--cpid", help="only runs of this cloud provider id")
    parser.add_argument("--start-date", help='e.g. "2026-01-31 00:00:00"')
    parser.add_argument("--end-date", help='e.g. "2026-12-31 23:59:59"')
    parser.add_argument("--json", action="store_true", help="print the raw JSON runs")
    parser.set_defaults(func=list_runs)


def list_runs(args: argparse.Namespace) -> int:
    client = client_from(args)
    filters = {"cpid": args.cpid, "start_date": args.start_date, "end_date": args.end_date}
    page, shown = args.page, 0
    while True:
        answer = client.list_results(page, **filters)
        runs = answer.get("results", [])
        total = int(answer.get("pagination", {}).get("total_pages") or 0)
        for run in runs:
            if args.json:
                print(json.dumps(run))
            else:
                print(f"{run['id']}  {run.get('created_at', '')}  "
                      f"{run.get('duration_seconds', 0):>6} s  {run.get('url', '')}")
        shown += 1
        if page >= total or (args.pages and shown >= args.pages):
            break
        page += 1
    if not args.json:
        print(f"page {page} of {total}" if total else f"no results on {client.url}")
    return 0
