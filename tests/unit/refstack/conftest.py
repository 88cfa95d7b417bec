"""Shared makings of the RefStack unit tests: keys and result streams built in the test."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
import subunit
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

DATA = Path(__file__).parents[2] / "data" / "refstack"
UUIDS = ["0146f675-ffbd-4208-b3a4-60eb628dbc5e", "6f8e4436-fc96-4282-8122-e41df57197a9",
         "e36c0eaa-dff5-4082-ad1f-3f9a80aa3f59", "6c0a0990-43b6-4529-9b61-5fd8daf7c55c"]


def subunit_v2(tests: list[tuple[str, str]], *, seconds: float = 1.0) -> bytes:
    """A subunit v2 stream: each (test id, status) with an inprogress event before it."""
    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i, (test_id, status) in enumerate(tests):
        t0 = start + dt.timedelta(seconds=i * seconds)
        out.status(test_id=test_id, test_status="inprogress", timestamp=t0)
        out.status(test_id=test_id, test_status=status, timestamp=t0 + dt.timedelta(
            seconds=seconds))
    return buf.getvalue()


def subunit_v1(tests: list[tuple[str, str]]) -> bytes:
    """A subunit v1 (text) stream as stestr 4 stores it in .stestr/<N>."""
    lines = ["time: 2026-01-01 00:00:00.000000Z"]
    for i, (test_id, status) in enumerate(tests):
        lines += [f"test: {test_id}", f"time: 2026-01-01 00:00:{i + 1:02d}.000000Z"]
        if status == "fail":
            lines += [f"failure: {test_id} [", "Traceback: boom", "]"]
        else:
            lines.append(f"{status}: {test_id}")
    return ("\n".join(lines) + "\n").encode()


def _write_key(path: Path, key, fmt=serialization.PrivateFormat.TraditionalOpenSSL,
               password: bytes | None = None) -> Path:
    enc = (serialization.BestAvailableEncryption(password) if password
           else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, fmt, enc))
    return path


@pytest.fixture(scope="session")
def rsa_private():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def keys(tmp_path, rsa_private):
    """Key files of every kind users hand us."""
    ossh = serialization.PrivateFormat.OpenSSH
    return {
        "rsa_pem": _write_key(tmp_path / "rsa.pem", rsa_private),
        "rsa_openssh": _write_key(tmp_path / "rsa_openssh", rsa_private, ossh),
        "rsa_pkcs8": _write_key(tmp_path / "rsa.p8", rsa_private,
                                serialization.PrivateFormat.PKCS8),
        "rsa_passphrase_pem": _write_key(tmp_path / "rsa_pw.pem", rsa_private,
                                         serialization.PrivateFormat.PKCS8, b"secret-pw"),
        "rsa_passphrase_openssh": _write_key(tmp_path / "rsa_pw", rsa_private, ossh,
                                             b"secret-pw"),
        "ed25519": _write_key(tmp_path / "ed", ed25519.Ed25519PrivateKey.generate(), ossh),
        "ecdsa": _write_key(tmp_path / "ec.pem", ec.generate_private_key(ec.SECP256R1())),
    }
