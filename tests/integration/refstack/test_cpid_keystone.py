"""cpid from a real keystone (the testbed's): its identity service id; the user stays hidden."""

import json
import os
import subprocess
import sys
from urllib.parse import urlparse

import pytest

from tcup_pytest.refstack.cpid import cpid_from_auth_url, cpid_from_session
from tcup_pytest.testbed import ADMIN_CLOUD, MEMBER_CLOUD

pytestmark = pytest.mark.integration


def test_cpid_is_the_identity_service_id(testbed):
    conn = testbed.connect(ADMIN_CLOUD)
    try:
        identity = [s.id for s in conn.identity.services() if s.type == "identity"]
        cpid = cpid_from_session(conn.session)
    finally:
        conn.close()
    assert identity == [cpid]
    assert cpid != cpid_from_auth_url(conn.auth["auth_url"])


def test_pytest_run_against_the_cloud_derives_cpid_and_leaks_no_identity(testbed, tmp_path):
    env_vars = testbed.env(MEMBER_CLOUD)
    (tmp_path / "test_one.py").write_text("def test_one():\n    pass\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "PYTEST_"))}
    env.update(env_vars, HOME=str(tmp_path), OS_CLIENT_CONFIG_FILE=str(tmp_path / "none.yaml"))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "--refstack-json", "body.json", "test_one.py"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    text = (tmp_path / "body.json").read_text()
    body = json.loads(text)
    conn = testbed.connect(ADMIN_CLOUD)
    try:
        identity = next(s.id for s in conn.identity.services() if s.type == "identity")
    finally:
        conn.close()
    assert body["cpid"] == identity
    secrets = [env_vars[k] for k in ("OS_USERNAME", "OS_PASSWORD", "OS_PROJECT_NAME",
                                     "OS_AUTH_URL") if env_vars.get(k)]
    secrets.append(urlparse(env_vars["OS_AUTH_URL"]).netloc)
    for value in secrets:
        assert value not in text
    assert set(body) == {"cpid", "duration_seconds", "results"}
