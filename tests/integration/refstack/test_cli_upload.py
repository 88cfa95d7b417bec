"""The user's path: pytest writes the body, `tcup upload` sends it; outages lose nothing."""

import json
import os
import subprocess
import sys

import pytest

from tcup_pytest.refstack import RefStackClient
from tcup_pytest.testbed.refstack import RefStackServer

from .conftest import start_server

pytestmark = pytest.mark.integration

SUITE = '''
import pytest

class TestServers:
    @pytest.mark.idempotent_id("0146f675-ffbd-4208-b3a4-60eb628dbc5e")
    def test_create(self):
        pass

    @pytest.mark.idempotent_id("6f8e4436-fc96-4282-8122-e41df57197a9")
    def test_delete(self):
        pass

    def test_broken(self):
        assert False
'''


@pytest.fixture(scope="module")
def body_file(tmp_path_factory):
    """A RefStack body written by a pytest run with our plugin (2 xdist workers)."""
    folder = tmp_path_factory.mktemp("run")
    (folder / "test_servers.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PYTEST_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2",
                           "--refstack-json", "results.json", "--refstack-cpid", "cpid-e2e",
                           "test_servers.py"], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr  # one test fails on purpose
    return folder / "results.json"


def test_pytest_body_uploads_and_reads_back(refstack, body_file, tcup):
    before = body_file.read_bytes()
    done = tcup("upload", str(body_file), "--url", refstack.url)
    assert done.returncode == 0, done.stderr
    assert body_file.read_bytes() == before  # a ready body is sent as is, never rewritten
    url_line = [line for line in done.stdout.splitlines() if line.startswith("results: ")]
    assert url_line == [url_line[0]] and "/#/results/" in url_line[0]
    test_id = url_line[0].rsplit("/", 1)[1]
    names = RefStackClient(refstack.url).result(test_id)["results"]
    assert sorted(names) == ["test_servers.TestServers.test_create",
                             "test_servers.TestServers.test_delete"]
    assert dict(refstack.query("SELECT name, uuid FROM results WHERE test_id = %s",
                               (test_id,))) == {
        "test_servers.TestServers.test_create": "0146f675-ffbd-4208-b3a4-60eb628dbc5e",
        "test_servers.TestServers.test_delete": "6f8e4436-fc96-4282-8122-e41df57197a9"}


def test_signed_cli_upload(refstack, registered_user, rsa_key_file, body_file, tcup):
    done = tcup("upload", str(body_file), "--url", refstack.url, "--sign", str(rsa_key_file))
    assert done.returncode == 0, done.stderr
    assert "private until you share it" in done.stdout


def test_tcup_list_pages(refstack, body_file, tcup):
    client = RefStackClient(refstack.url)
    for _ in range(21):  # more than one page of 20
        client.upload(json.loads(body_file.read_text()))
    first = tcup("list", "--url", refstack.url)
    assert first.returncode == 0, first.stderr
    assert len(first.stdout.splitlines()) == 21 and "page 1 of " in first.stdout
    everything = tcup("list", "--url", refstack.url, "--pages", "0", "--json")
    runs = [json.loads(line) for line in everything.stdout.splitlines()]
    assert len(runs) >= 21 and len({r["id"] for r in runs}) == len(runs)


def test_server_stopped_midway_keeps_results_and_a_later_upload_succeeds(tmp_path_factory,
                                                                         tmp_path, tcup):
    server: RefStackServer = start_server(tmp_path_factory.mktemp("refstack-outage"))
    try:
        subunit_file = tmp_path / "run.subunit"  # v1, as stestr keeps it in .stestr/<N>
        subunit_file.write_text(
            "test: tempest.api.compute.T.test_a[id-0146f675-ffbd-4208-b3a4-60eb628dbc5e]\n"
            "success: tempest.api.compute.T.test_a[id-0146f675-ffbd-4208-b3a4-60eb628dbc5e]\n"
            "test: tempest.api.compute.T.test_b\nfailure: tempest.api.compute.T.test_b\n")
        before = subunit_file.read_bytes()
        server.stop_api()
        done = tcup("upload", str(subunit_file), "--url", server.url, "--cpid", "cpid-out",
                    "--retries", "2")
        assert done.returncode == 19
        assert done.stderr.count("retrying") == 2
        assert done.stderr.strip().splitlines()[-1].startswith(
            "tcup: error: could not upload the results: RefStack server")
        body_file = tmp_path / "run.refstack.json"
        assert f"saved 1 passed tests to {body_file}" in done.stdout
        assert subunit_file.read_bytes() == before
        saved = json.loads(body_file.read_text())
        assert saved["results"] == [{"name": "tempest.api.compute.T.test_a",
                                     "uuid": "0146f675-ffbd-4208-b3a4-60eb628dbc5e"}]
        server.start_api()
        again = tcup("upload", str(body_file), "--url", server.url)
        assert again.returncode == 0, again.stderr
        (url,) = [line for line in again.stdout.splitlines() if line.startswith("results: ")]
        test_id = url.rsplit("/", 1)[1]
        assert RefStackClient(server.url).result(test_id)["results"] == [
            "tempest.api.compute.T.test_a"]
    finally:
        server.stop()


def test_refstack_url_environment_variable(refstack, body_file, tcup):
    done = tcup("upload", str(body_file), env={"REFSTACK_URL": refstack.url})
    assert done.returncode == 0, done.stderr
    assert refstack.url in done.stdout
