"""The client against a small local HTTP server: retries on 5xx, plain errors, exact bytes."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tcup_pytest.refstack.client import RefStackClient, UploadError, encode_body
from tcup_pytest.refstack.signing import SigningKey


class FlakyRefStack(BaseHTTPRequestHandler):
    """Answers 503 ``failures`` times, then 201 like RefStack; records what it received."""

    failures = 0
    received: list[tuple[bytes, dict]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((body, dict(self.headers)))
        if type(self).failures > 0:
            type(self).failures -= 1
            self._answer(503, {"title": "Service Unavailable", "code": 503})
        else:
            self._answer(201, {"test_id": "t-1", "url": "http://ui/#/results/t-1"})

    def do_GET(self):  # noqa: N802
        self._answer(500, {"title": "Internal Server Error", "code": 500})

    def _answer(self, code, data):
        raw = json.dumps(data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    FlakyRefStack.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FlakyRefStack)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(server) -> str:
    return f"http://127.0.0.1:{server.server_port}"


BODY = {"cpid": "c", "duration_seconds": 1, "results": [{"name": "a.b.T.test_x"}]}


def test_upload_is_retried_on_5xx_and_then_succeeds(server, keys):
    FlakyRefStack.failures = 2
    key = SigningKey.load(keys["rsa_pem"])
    receipt = RefStackClient(url(server), retries=3, backoff=0.01).upload(BODY, key=key)
    assert (receipt.test_id, receipt.url) == ("t-1", "http://ui/#/results/t-1")
    assert len(FlakyRefStack.received) == 3
    sent, headers = FlakyRefStack.received[-1]
    assert sent == encode_body(BODY)
    assert headers["X-Signature"] == key.sign(sent)
    assert headers["X-Public-Key"] == key.public_key_openssh()


def test_persistent_5xx_ends_in_one_plain_error(server):
    FlakyRefStack.failures = 10
    with pytest.raises(UploadError) as err:
        RefStackClient(url(server), retries=1, backoff=0.01).upload(BODY)
    assert len(FlakyRefStack.received) == 2
    assert "answered 503: Service Unavailable" in str(err.value)
    assert "the results stay on disk" in str(err.value)


def test_reads_are_not_retried_on_5xx(server):
    with pytest.raises(UploadError, match="answered 500: Internal Server Error"):
        RefStackClient(url(server), retries=3, backoff=0.01).result("x")
