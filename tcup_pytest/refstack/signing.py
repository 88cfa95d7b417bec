"""Sign an upload the way the RefStack server checks it.

The server verifies RSA PKCS#1 v1.5 + SHA-256 over the exact body bytes and looks the key up
by the MD5 of its OpenSSH blob. It answers 500 for Ed25519/ECDSA keys and cannot use a
passphrase, so such keys are refused here, before anything is sent.

    >>> key = SigningKey.load("~/.ssh/refstack_rsa")              # doctest: +SKIP
    >>> headers = key.headers(body_bytes)                         # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from tcup_pytest.errors import ExitCode, TcupError

_KEYGEN_HINT = "Make one with: ssh-keygen -m PEM -t rsa -b 4096 -N '' -f ~/.ssh/refstack_rsa"


_KINDS = [(ed25519.Ed25519PrivateKey, "Ed25519"), (ec.EllipticCurvePrivateKey, "ECDSA"),
          (dsa.DSAPrivateKey, "DSA (ssh-dss)"), (ed448.Ed448PrivateKey, "Ed448")]


class SigningKeyError(TcupError):
    """The key given with --sign cannot be used to sign RefStack uploads."""

    exit_code = ExitCode.KEY


class SigningKey:
    """An unencrypted RSA private key (PEM or OpenSSH format) used to sign uploads."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self.private_key = private_key

    @classmethod
    def load(cls, path: str | Path) -> SigningKey:
        path = Path(path).expanduser()
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SigningKeyError(f"signing key {path} does not exist", hint=_KEYGEN_HINT) from None
        except OSError as exc:
            raise SigningKeyError(f"cannot read signing key {path}: {exc.strerror}") from None
        return cls.from_bytes(data, source=str(path))

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str = "key") -> SigningKey:
        if b"ENCRYPTED" in data or b"Proc-Type: 4,ENCRYPTED" in data:
            raise _passphrase_error(source)
        try:
            if b"BEGIN OPENSSH PRIVATE KEY" in data:
                key = serialization.load_ssh_private_key(data, password=None)
            else:
                key = serialization.load_pem_private_key(data, password=None)
        except TypeError:  # "Password was not given but private key is encrypted"
            raise _passphrase_error(source) from None
        except (ValueError, UnsupportedAlgorithm) as exc:
            if "encrypted" in str(exc).lower() or "password" in str(exc).lower():
                raise _passphrase_error(source) from None
            raise SigningKeyError(f"{source} is not a private key cryptography can read "
                                  "(give the private key, not the .pub file)",
                                  hint=_KEYGEN_HINT) from None
        if not isinstance(key, rsa.RSAPrivateKey):
            kind = next((name for cls, name in _KINDS if isinstance(key, cls)), "non-RSA")
            raise SigningKeyError(f"{source} holds an {kind} key, but RefStack "
                                  "verifies RSA signatures only", hint=_KEYGEN_HINT)
        return cls(key)

    def public_key_openssh(self) -> str:
        """``ssh-rsa AAAA...`` without a comment (a comment may name the user or host)."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()

    def sign(self, data: bytes) -> str:
        """Hex RSA PKCS#1 v1.5 + SHA-256 signature of exactly ``data``."""
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()

    def headers(self, body: bytes) -> dict[str, str]:
        return {"X-Signature": self.sign(body), "X-Public-Key": self.public_key_openssh()}

    @property
    def md5(self) -> str:
        """The server's key id: md5 of the decoded OpenSSH blob (its ``pubkeys.md5_hash``)."""
        return openssh_md5(self.public_key_openssh())


def openssh_md5(public_key: str) -> str:
    return hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()


def _passphrase_error(source: str) -> SigningKeyError:
    return SigningKeyError(
        f"{source} is protected by a passphrase; RefStack signing needs an unencrypted key",
        hint="Use a dedicated key: ssh-keygen -m PEM -t rsa -b 4096 -N '' -f ~/.ssh/refstack_rsa")
