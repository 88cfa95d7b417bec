"""Keep secrets out of everything we print or write.

Every secret the framework learns (password, application credential secret, token, DB URL
password) is registered here the moment it is read; patterns catch the ones we never saw
(an ``X-Auth-Token:`` header, ``"password": ...`` in a JSON body, ``user:pass@`` in a URL,
``OS_PASSWORD=...``). One process-wide :data:`REDACTOR` is used by the logging hook and the
pytest report hooks; scripts may use it directly::

    >>> from tcup_pytest.redaction import REDACTOR
    >>> REDACTOR.register("s3cr3t-pw")
    >>> REDACTOR.redact("login with s3cr3t-pw")
    'login with ***'
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"
#: Shorter values are not replaced literally: masking every "ab" would make output unreadable.
MIN_SECRET_LENGTH = 4

_KEY = r"[\w.-]*(?:password|passwd|secret|token|api_key|apikey)[\w.-]*"
#: (regex, replacement) pairs for secrets we were never told about.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # HTTP headers carrying credentials
    (re.compile(r"(?im)^(\s*(?:x-auth-token|x-subject-token|x-service-token|authorization)"
                r"\s*:\s*)(?!\{SHA256\})\S.*$"), r"\1" + MASK),
    (re.compile(r"(?i)(['\"](?:x-auth-token|x-subject-token|x-service-token|authorization)['\"]"
                r"\s*:\s*['\"])[^'\"]+"), r"\1" + MASK),
    # JSON bodies / Python reprs: "password": "value"
    (re.compile(r"(?i)(['\"]" + _KEY + r"['\"]\s*:\s*['\"])((?:\\.|[^'\"\\])*)"), r"\1" + MASK),
    # user:password@host in URLs
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(@)"), r"\1" + MASK + r"\2"),
    # OS_PASSWORD=..., export OS_TOKEN="..."
    (re.compile(r"(?i)\b(OS_[A-Z_]*(?:PASSWORD|SECRET|TOKEN)\s*=\s*)(['\"]?)[^\s'\"]+"),
     r"\1\2" + MASK),
    # INI / config lines: admin_password = value
    (re.compile(r"(?im)^(\s*" + _KEY + r"\s*=[ \t]*)(?!\*\*\*)\S.*$"), r"\1" + MASK),
    # --password value / --os-password=value on command lines
    (re.compile(r"(?i)(--(?:os-)?" + _KEY + r"[ =])(\S+)"), r"\1" + MASK),
]


class Redactor:
    """Registered secrets plus patterns; thread-safe, cheap when nothing is registered."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._regex: re.Pattern[str] | None = None
        self._lock = threading.Lock()
        #: changes whenever the set of secrets does (a key for caches of redacted text)
        self.generation = 0

    def register(self, secret: str | bytes | None) -> None:
        """Remember a secret (and its URL-encoded forms) so it is masked from now on."""
        if secret is None:
            return
        if isinstance(secret, bytes):
            secret = secret.decode("utf-8", "replace")
        secret = str(secret)
        if len(secret) < MIN_SECRET_LENGTH:
            return
        forms = {secret, quote(secret, safe=""), quote_plus(secret),
                 secret.replace("\\", "\\\\").replace('"', '\\"')}
        with self._lock:
            if forms <= self._secrets:
                return
            self._secrets |= forms
            # Longest first, so a secret containing another is masked whole.
            alternatives = sorted(self._secrets, key=len, reverse=True)
            self._regex = re.compile("|".join(re.escape(s) for s in alternatives))
            self.generation += 1

    def register_all(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            self.register(secret)

    @property
    def secrets(self) -> list[str]:
        """The registered values, to hand to another process (never written to disk)."""
        with self._lock:
            return sorted(self._secrets)

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered secret and every pattern match masked."""
        if not text:
            return text
        regex = self._regex
        if regex is not None:
            text = regex.sub(MASK, text)
        for pattern, replacement in PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def redact_obj(self, value: object) -> object:
        """Redact strings inside lists, tuples and dicts (report properties, JSON)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.redact_obj(v) for v in value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._secrets.clear()
            self._regex = None
            self.generation += 1


REDACTOR = Redactor()


def register(secret: str | bytes | None) -> None:
    """Register a secret with the process-wide redactor."""
    REDACTOR.register(secret)


def redact(text: str) -> str:
    return REDACTOR.redact(text)


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message (and traceback) redacted.

    :func:`install_logging` puts it on the record factory, so it applies to every logger and
    handler, including pytest's capture handlers created later; it can also be added to a
    handler by hand.
    """

    def __init__(self, redactor: Redactor = REDACTOR) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; keep the raw text
            message = str(record.msg)
        record.msg = self.redactor.redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redactor.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redactor.redact(record.stack_info)
        return True


_installed_factory = None


def install_logging(redactor: Redactor = REDACTOR) -> None:
    """Redact every log record at creation time (idempotent)."""
    global _installed_factory
    current = logging.getLogRecordFactory()
    if current is _installed_factory:
        return
    flt = RedactingFilter(redactor)

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = current(*args, **kwargs)
        flt.filter(record)
        return record

    _installed_factory = factory
    logging.setLogRecordFactory(factory)
