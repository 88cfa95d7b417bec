"""`tcup upload FILE...`: save the RefStack body, then upload it (signed with --sign KEY).

FILE may be a body from --refstack-json, our full results, a subunit v1/v2 stream or junit XML;
anything but a ready body is converted and saved first, so nothing is lost if the upload fails.
Several files (shards, a rerun of failures) merge into one run: a test passed if it passed once.
FILE may also be a `tcup run` directory: its body goes to the server that run was meant for
(unless --url says otherwise) and the receipt is recorded in its run.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from tcup_pytest.refstack import client as client_module
from tcup_pytest.refstack.client import RefStackClient, UploadReceipt, default_url, encode_body
from tcup_pytest.refstack.results import ResultSet
from tcup_pytest.refstack.rundir import RunDir
from tcup_pytest.refstack.signing import SigningKey


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """--url and --insecure, shared by every command that talks to a RefStack server."""
    parser.add_argument("--url", default=None,
                        help=f"RefStack API root (env REFSTACK_URL; default {default_url()})")
    parser.add_argument("-k", "--insecure", action="store_true",
                        help="do not verify the server's TLS certificate")


def client_from(args: argparse.Namespace, **kwargs) -> RefStackClient:
    """A client whose retry notices reach the user (the root logger shows errors only)."""
    logger = logging.getLogger(client_module.__name__)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("tcup: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    return RefStackClient(args.url, verify=not args.insecure, **kwargs)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("upload", help="upload results to RefStack (saved first)",
                                   description=__doc__)
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE",
                        help="results: a tcup run directory, RefStack JSON, subunit, junit XML "
                             "(several merge)")
    add_server_arguments(parser)
    parser.add_argument("-i", "--sign", metavar="KEY", type=Path,
                        help="sign with this unencrypted RSA private key (registered in your "
                             "RefStack profile); signed results stay private until you share")
    parser.add_argument("--cpid", help="cloud provider id (default: the one in FILE)")
    parser.add_argument("-o", "--output", type=Path,
                        help="where to save the body (default: FILE itself if it is one, "
                             "else FILE with suffix .refstack.json; merged.refstack.json for "
                             "several)")
    parser.add_argument("--no-upload", action="store_true", help="only save the body")
    parser.add_argument("--retries", type=int, default=4,
                        help="retries on connection errors and 5xx answers (default 4)")
    parser.set_defaults(func=upload)


def upload(args: argparse.Namespace) -> int:
    key = SigningKey.load(args.sign) if args.sign else None  # refuse bad keys up front
    if len(args.files) == 1 and args.files[0].is_dir() and not args.no_upload:
        return upload_run_dir(args, RunDir.open(args.files[0]), key)
    args.files = [RunDir.open(f).body if f.is_dir() else f for f in args.files]
    results = ResultSet.load(args.files[0])
    for extra in args.files[1:]:
        results = results.merge(ResultSet.load(extra))
    body = results.body(args.cpid)
    output = args.output
    if output is None and len(args.files) > 1:
        output = args.files[0].with_name("merged.refstack.json")
    out = save_body(args.files[0], results, body, output)
    print(f"saved {len(body['results'])} passed tests to {out}")
    results.require_passes()
    if not body["cpid"]:
        print("warning: the body has no cpid (give --cpid)", file=sys.stderr)
    if args.no_upload:
        return 0
    client = client_from(args, retries=args.retries)
    receipt = client.upload(encode_body(body), key=key)
    report_receipt(client, receipt, key)
    return 0


def upload_run_dir(args: argparse.Namespace, run: RunDir, key: SigningKey | None) -> int:
    """Finish a `tcup run` whose upload failed (or upload it again, e.g. signed)."""
    if args.url is None:
        args.url = (run.info().get("upload") or {}).get("url")
    client = client_from(args, retries=args.retries)
    receipt = run.upload(client, key=key)
    report_receipt(client, receipt, key)
    return 0


def report_receipt(client: RefStackClient, receipt: UploadReceipt,
                   key: SigningKey | None) -> None:
    print(f"uploaded to {client.url}: test run {receipt.test_id}")
    print(f"results: {receipt.url}")
    if key is not None:
        print("the signed run is private until you share it from your RefStack profile")
    else:
        print("unsigned runs are listed publicly (without any name); sign with --sign KEY "
              "to keep runs private until you share them")


def save_body(source: Path, results: ResultSet, body: dict, output: Path | None) -> Path:
    """Write the body, unless ``source`` already holds exactly it (then it stays untouched)."""
    if output is None and results.passes_only and _json_of(source) == body:
        return source
    out = output or source.with_name(source.name.split(".")[0] + ".refstack.json")
    if out.resolve() == source.resolve():
        out = source.with_name(source.name + ".refstack.json")
    results.save(out, body=True, cpid=body["cpid"])
    return out


def _json_of(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
