"""Talk to a RefStack API server: upload (optionally signed), list and read results, guidelines.

    >>> client = RefStackClient("http://127.0.0.1:8000")            # doctest: +SKIP
    >>> receipt = client.upload(results.body(), key=SigningKey.load("~/.ssh/rs"))  # doctest: +SKIP
    >>> receipt.url                                                 # doctest: +SKIP

Connection errors (any request) and 5xx answers to uploads are retried with exponential
backoff (urllib3's ``Retry``); 4xx answers are shown in plain words, never as a traceback.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.refstack.signing import SigningKey

LOG = logging.getLogger(__name__)

#: The public RefStack API (the production server's root).
DEFAULT_URL = "https://refstack.openstack.org/api"


def default_url() -> str:
    return os.environ.get("REFSTACK_URL") or DEFAULT_URL


class UploadError(TcupError):
    """The server could not be reached or refused the request; local files are untouched."""

    exit_code = ExitCode.UPLOAD


@dataclass(frozen=True)
class UploadReceipt:
    test_id: str
    url: str


class _LoggingRetry(Retry):
    """urllib3's Retry, telling the user each time it waits (they see why it is slow)."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None,
                  _stacktrace=None):
        new = super().increment(method, url, response, error, _pool, _stacktrace)
        why = f"HTTP {response.status}" if response is not None else type(error).__name__
        LOG.warning("RefStack request %s %s failed (%s); retrying in %.1f s",
                    method, url, why, new.get_backoff_time())
        return new


class RefStackClient:
    """A RefStack API root such as ``http://127.0.0.1:8000`` or :data:`DEFAULT_URL`."""

    def __init__(self, url: str | None = None, *, verify: bool | str = True,
                 retries: int = 4, backoff: float = 0.5, timeout: float = 60) -> None:
        self.url = (url or default_url()).rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.verify = verify
        self.session.headers["User-Agent"] = "tcup-pytest"
        retry = _LoggingRetry(total=retries, connect=retries, read=0, status=retries,
                              other=0, backoff_factor=backoff, allowed_methods=frozenset({"POST"}),
                              status_forcelist=(500, 502, 503, 504), raise_on_status=False,
                              respect_retry_after_header=True)
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"RefStackClient({self.url!r})"

    # -- results ----------------------------------------------------------------------------
    def upload(self, body: dict | bytes, *, key: SigningKey | None = None) -> UploadReceipt:
        """POST a results body; ``key`` signs the exact bytes sent."""
        data = body if isinstance(body, bytes) else encode_body(body)
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers.update(key.headers(data))
        answer = self._request("POST", "/v1/results", data=data, headers=headers,
                               expect=(201,), what="upload the results")
        test_id = answer["test_id"]
        return UploadReceipt(test_id, answer.get("url") or f"{self.url}/v1/results/{test_id}")

    def result(self, test_id: str) -> dict:
        """One run: its passed test names (and, for the owner, the cpid)."""
        return self._request("GET", f"/v1/results/{test_id}", what=f"read result {test_id}")

    def list_results(self, page: int = 1, **filters: str) -> dict:
        """One page (20 runs, newest first) plus ``pagination``; filters as the API names them."""
        params = {"page": page, **{k: v for k, v in filters.items() if v is not None}}
        return self._request("GET", "/v1/results", params=params, what="list results")

    def iter_results(self, *, max_pages: int | None = None, **filters: str) -> Iterator[dict]:
        page = 1
        while max_pages is None or page <= max_pages:
            answer = self.list_results(page, **filters)
            yield from answer.get("results", [])
            if page >= int(answer.get("pagination", {}).get("total_pages") or 0):
                return
            page += 1

    # -- guidelines -------------------------------------------------------------------------
    def guidelines(self) -> dict[str, list[dict]]:
        """What the server offers: ``{"powered": [{name, file}], "dns": [...], ...}``."""
        return self._request("GET", "/v1/guidelines", what="list guidelines")

    def guideline(self, name: str) -> dict:
        """The guideline JSON; ``name`` as listed (``2020.06.json``, ``dns.2020.06.json``)."""
        return self._request("GET", f"/v1/guidelines/{name}", what=f"get guideline {name}")

    def guideline_tests(self, version: str, *, target: str = "platform",
                        types: str | None = None, alias: bool = True,
                        flag: bool = True) -> str:
        """The raw text of ``/v1/guidelines/<version>/tests`` (errors come back as 200 text)."""
        params = {"target": target, "alias": str(alias).lower(), "flag": str(flag).lower()}
        if types:
            params["type"] = types
        response = self._send("GET", f"/v1/guidelines/{version}/tests", params=params,
                              what="get the test list")
        if response.status_code == 204:  # the server's answer for an empty list
            return ""
        if response.status_code != 200:
            raise UploadError(f"{self.url} answered {response.status_code} for the test list")
        return response.text

    # -- plumbing ---------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, what: str, **kwargs) -> requests.Response:
        url = self.url + path
        try:
            return self.session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            raise UploadError(f"could not {what}: TLS verification of {self.url} failed",
                              hint="Pass --insecure or point REQUESTS_CA_BUNDLE at the CA",
                              exit_code=ExitCode.TLS) from exc
        except requests.exceptions.RequestException as exc:
            raise UploadError(f"could not {what}: RefStack server {self.url} is unreachable "
                              f"({_reason(exc)})",
                              hint=_UNREACHABLE_HINT + (_KEPT if method == "POST" else "")
                              ) from exc

    def _request(self, method: str, path: str, *, what: str, expect=(200,), **kwargs):
        response = self._send(method, path, what=what, **kwargs)
        if response.status_code not in expect:
            raise UploadError(_plain_error(response, what, self.url),
                              hint=_hint(response, method))
        try:
            return response.json()
        except ValueError:
            raise UploadError(f"could not {what}: {self.url} did not answer JSON "
                              f"(is it a RefStack API root?)") from None


def encode_body(body: dict) -> bytes:
    """The exact bytes we send (and sign): compact JSON, ASCII-safe."""
    return json.dumps(body, separators=(",", ":"), sort_keys=False).encode("utf-8")


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "Temporary failure in name resolution", "No route to host",
                   "Max retries exceeded"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def _server_message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason or ""
    if isinstance(data, dict):
        parts = [str(data.get(k)) for k in ("title", "detail") if data.get(k)]
        if parts:
            return ": ".join(dict.fromkeys(parts))
    return str(data)[:200]


def _plain_error(response: requests.Response, what: str, url: str) -> str:
    message = _server_message(response).rstrip(".")
    code = response.status_code
    if code == 401:
        return f"RefStack refused to {what} (401 unauthorized): {message}"
    if code == 404:
        return f"RefStack has nothing there (404): {message}"
    if code == 400:
        return f"RefStack rejected the request to {what} (400): {message}"
    return f"could not {what}: {url} answered {code}: {message}"


_UNREACHABLE_HINT = "Check --url / REFSTACK_URL"
_KEPT = "; the results stay on disk: run tcup upload FILE again later"


def _hint(response: requests.Response, method: str) -> str | None:
    message = _server_message(response)
    if response.status_code == 401 and "key not found" in message:
        return "Upload the public key to your RefStack profile, or upload without --sign"
    if response.status_code == 401 and "Anonymous" in message:
        return "Sign the upload with --sign KEY (an RSA key registered in your profile)"
    if "Signature verification failed" in message:
        return "The body changed after signing or the key pair does not match"
    if response.status_code >= 500 and method == "POST":
        return "The server failed" + _KEPT
    return None
