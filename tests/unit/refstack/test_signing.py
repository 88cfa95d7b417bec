"""Signing keys: RSA accepted in every file format, anything else refused before sending."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from tcup_pytest.errors import ExitCode
from tcup_pytest.refstack.signing import SigningKey, SigningKeyError


@pytest.mark.parametrize("kind", ["rsa_pem", "rsa_openssh", "rsa_pkcs8"])
def test_rsa_keys_sign_the_exact_bytes(keys, kind):
    key = SigningKey.load(keys[kind])
    body = b'{"cpid":"c","duration_seconds":1,"results":[{"name":"a"}]}'
    headers = key.headers(body)
    public = serialization.load_ssh_public_key(headers["X-Public-Key"].encode())
    public.verify(bytes.fromhex(headers["X-Signature"]), body, padding.PKCS1v15(),
                  hashes.SHA256())  # raises if the server would refuse it
    with pytest.raises(Exception):  # noqa: B017 - any InvalidSignature
        public.verify(bytes.fromhex(headers["X-Signature"]), body + b" ", padding.PKCS1v15(),
                      hashes.SHA256())


def test_public_key_is_one_openssh_line_without_comment(keys):
    public = SigningKey.load(keys["rsa_pem"]).public_key_openssh()
    kind, blob, *rest = public.split()
    assert kind == "ssh-rsa" and rest == []
    assert SigningKey.load(keys["rsa_pem"]).md5 == hashlib.md5(base64.b64decode(blob)).hexdigest()


@pytest.mark.parametrize(("kind", "message"), [
    ("ed25519", "an Ed25519 key, but RefStack verifies RSA"),
    ("ecdsa", "an ECDSA key, but RefStack verifies RSA"),
    ("rsa_passphrase_pem", "protected by a passphrase"),
    ("rsa_passphrase_openssh", "protected by a passphrase"),
])
def test_unusable_keys_are_refused_with_a_reason(keys, kind, message):
    with pytest.raises(SigningKeyError, match=message) as err:
        SigningKey.load(keys[kind])
    assert err.value.exit_code == ExitCode.KEY
    assert "ssh-keygen -m PEM -t rsa" in str(err.value)


def test_missing_key_and_public_key_given(tmp_path, keys):
    with pytest.raises(SigningKeyError, match="does not exist"):
        SigningKey.load(tmp_path / "nope")
    pub = tmp_path / "k.pub"
    pub.write_text(SigningKey.load(keys["rsa_pem"]).public_key_openssh())
    with pytest.raises(SigningKeyError, match="not the .pub file"):
        SigningKey.load(pub)
