"""STAND-IN, not Neutron: answers the few read-only networking calls Nova makes for servers
booted with ``networks='none'``, with empty lists.

The testbed runs no networking service (no agents, no OVS, nothing to plug). Nova still asks
Neutron, per server, for its ports, networks and security groups (``GET /v2.0/ports?...``,
``/v2.0/networks?...``, ``/v2.0/extensions``); a real Neutron would answer these with empty
lists too, which is all this returns. Anything else gets 501, so a test that needs real
networking fails loudly instead of passing on a fake. Run: ``python -m
tcup_pytest.testbed.network_standin PORT``.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOST = "127.0.0.1"


class _Handler(BaseHTTPRequestHandler):
    server_version = "tcup-network-standin/1"

    def _send(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        if not parts:
            base = f"http://{HOST}:{self.server.server_address[1]}/v2.0/"
            self._send(200, {"versions": [{"id": "v2.0", "status": "CURRENT",
                                           "links": [{"href": base, "rel": "self"}]}]})
        elif parts[0] == "v2.0" and len(parts) == 2:
            collection = parts[1].removesuffix(".json")
            self._send(200, {collection: []})
        else:
            self._send(404, {"NeutronError": {"type": "NotFound", "detail": "",
                                              "message": f"{self.path} not found (stand-in)"}})

    def _unsupported(self) -> None:
        self._send(501, {"NeutronError": {"type": "NotImplemented", "detail": "",
                                          "message": "the testbed has no networking service"}})

    do_POST = do_PUT = do_DELETE = _unsupported  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        sys.stderr.write(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")


def main(argv: list[str]) -> None:
    server = ThreadingHTTPServer((HOST, int(argv[0])), _Handler)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
