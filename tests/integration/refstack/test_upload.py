"""Uploads to a real RefStack 2.1.0 server: accepted, read back, signed, refused, private."""

import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tcup_pytest.errors import ExitCode
from tcup_pytest.refstack import RefStackClient, ResultSet, TestResult, UploadError
from tcup_pytest.refstack.client import encode_body
from tcup_pytest.refstack.signing import SigningKey
from tcup_pytest.testbed.base import free_port

pytestmark = pytest.mark.integration

UUIDS = ["0146f675-ffbd-4208-b3a4-60eb628dbc5e", "6f8e4436-fc96-4282-8122-e41df57197a9",
         "e36c0eaa-dff5-4082-ad1f-3f9a80aa3f59"]


def sample(cpid: str = "c0ffee1234") -> ResultSet:
    """Passes, a failure, a duplicate differing only by case, and attrs in names."""
    return ResultSet([
        TestResult(f"tempest.api.compute.test_a.T.test_one[id-{UUIDS[0]},smoke]"),
        TestResult(f"tempest.api.compute.test_a.T.test_two[id-{UUIDS[1]}]"),
        TestResult(f"tempest.api.compute.test_a.T.TEST_TWO[id-{UUIDS[1]}]"),
        TestResult("tempest.api.compute.test_a.T.test_three"),
        TestResult(f"tempest.api.compute.test_a.T.test_failed[id-{UUIDS[2]}]",
                   outcome="failed"),
    ], cpid=cpid, duration_seconds=42.9)


def stored(server, test_id: str) -> dict[str, str | None]:
    return dict(server.query("SELECT name, uuid FROM results WHERE test_id = %s", (test_id,)))


def test_our_body_is_accepted_and_reads_back_with_the_same_names_and_uuids(refstack):
    body = sample().body()
    client = RefStackClient(refstack.url)
    receipt = client.upload(body)
    assert receipt.url.endswith(f"/#/results/{receipt.test_id}")
    run = client.result(receipt.test_id)
    assert sorted(run["results"]) == sorted(r["name"] for r in body["results"])
    assert run["duration_seconds"] == 42
    assert stored(refstack, receipt.test_id) == {r["name"]: r.get("uuid") for r in body["results"]}
    assert refstack.query("SELECT cpid FROM test WHERE id = %s", (receipt.test_id,)) == \
        [("c0ffee1234",)]
    assert receipt.test_id in [r["id"] for r in client.iter_results(max_pages=1)]


def test_signed_upload_with_a_registered_key_stays_private(refstack, registered_user,
                                                          rsa_key_file):
    client = RefStackClient(refstack.url)
    receipt = client.upload(sample().body(), key=SigningKey.load(rsa_key_file))
    owner = refstack.query("SELECT meta_key, value FROM meta WHERE test_id = %s",
                           (receipt.test_id,))
    assert ("user", registered_user) in owner
    assert stored(refstack, receipt.test_id) == {r["name"]: r.get("uuid")
                                                  for r in sample().body()["results"]}
    with pytest.raises(UploadError, match="401") as err:
        client.result(receipt.test_id)  # anonymous reader: not shared yet
    assert err.value.exit_code == ExitCode.UPLOAD
    assert receipt.test_id not in [r["id"] for r in client.iter_results()]
    assert not any(key == "shared" for key, _ in owner)


def test_unregistered_key_is_refused_in_plain_words(refstack):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(UploadError) as err:
        RefStackClient(refstack.url).upload(sample().body(), key=SigningKey(key))
    message = str(err.value)
    assert "401" in message and "User with specified key not found" in message
    assert "Upload the public key to your RefStack profile" in message


def test_unsigned_upload_refused_when_anonymous_upload_is_off(refstack_closed,
                                                              rsa_key_file):
    client = RefStackClient(refstack_closed.url)
    with pytest.raises(UploadError, match="Anonymous result uploads are disabled") as err:
        client.upload(sample().body())
    assert "Sign the upload with --sign KEY" in str(err.value)
    openid = "https://openstackid.test/closed-user"
    refstack_closed.add_user(openid)
    refstack_closed.register_key(openid, SigningKey.load(rsa_key_file).public_key_openssh())
    assert client.upload(sample().body(), key=SigningKey.load(rsa_key_file)).test_id


def test_the_signature_covers_the_exact_bytes(refstack, registered_user, rsa_key_file):
    """Signed over one encoding, sent with another: the server refuses it."""
    key = SigningKey.load(rsa_key_file)
    data = encode_body(sample().body())
    headers = key.headers(data)
    tampered = json.dumps(json.loads(data), indent=2).encode()
    response = RefStackClient(refstack.url).session.post(
        f"{refstack.url}/v1/results", data=tampered,
        headers={**headers, "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400
    assert "Signature verification failed" in response.text


def test_server_answers_for_bad_bodies_are_plain(refstack):
    client = RefStackClient(refstack.url)
    with pytest.raises(UploadError, match="400.*at least one passing test"):
        client.upload({"cpid": "x", "duration_seconds": 1, "results": []})
    with pytest.raises(UploadError, match="400.*schema"):
        client.upload({"cpid": "x", "duration_seconds": 1, "results": [{"name": "a"}],
                       "meta": {}})
    with pytest.raises(UploadError, match="404.*not found"):
        client.result("00000000-0000-0000-0000-000000000000")


def test_unreachable_server_is_retried_then_one_clear_error(caplog):
    client = RefStackClient(f"http://127.0.0.1:{free_port()}", retries=2, backoff=0.05)
    with caplog.at_level(logging.WARNING), pytest.raises(UploadError) as err:
        client.upload(sample().body())
    assert "unreachable (connection refused)" in str(err.value)
    assert "\n" not in str(err.value)
    assert sum("retrying" in r.getMessage() for r in caplog.records) == 2
