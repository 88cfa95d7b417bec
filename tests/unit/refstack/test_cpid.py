"""cpid derivation: catalog identity service id, refstack-client's host-hash fallback."""

import json

from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

from tcup_pytest.refstack.cpid import cpid_from_auth_url, cpid_from_catalog, cpid_from_session
from tcup_pytest.refstack.results import ResultSet, TestResult
from tcup_pytest.testbed.base import free_port


def test_fallback_is_md5_of_the_host_name_like_refstack_client():
    assert cpid_from_auth_url("https://keystone.example.com:5000/v3") == \
        "b33dc8a37c8607c6a7612f6296139578"
    assert cpid_from_auth_url("https://KEYSTONE.example.com/identity/v3") == \
        cpid_from_auth_url("https://keystone.example.com:5000/v3")


def test_catalog_v3_service_id_and_v2_endpoint_id():
    v3_catalog = [{"type": "compute", "id": "c1"},
                  {"type": "identity", "id": "svc-id", "endpoints": [{"id": "ep-1"}]}]
    v2_catalog = [{"type": "identity", "endpoints": [{"id": "ep-2"}, {"id": "ep-3"}]}]
    assert cpid_from_catalog(v3_catalog) == "svc-id"
    assert cpid_from_catalog(v2_catalog) == "ep-2"
    assert cpid_from_catalog([{"type": "compute", "id": "c1"}]) is None


def test_body_keeps_the_user_identity_hidden():
    """Canary user, project, domain, password and auth URL: none may reach the body."""
    canaries = {"username": "canary-user-7731", "password": "canary-pw-7731",
                "project_name": "canary-project-7731", "user_domain_name": "canary-dom-7731",
                "project_domain_name": "canary-pdom-7731"}
    port = free_port()  # nothing listens: the session fails, the fallback applies
    auth_url = f"http://canary-host-7731.localhost:{port}/v3"
    auth = v3.Password(auth_url=auth_url, **canaries)
    cpid = cpid_from_session(ks_session.Session(auth=auth, timeout=2))
    assert cpid == cpid_from_auth_url(auth_url)
    body = ResultSet([TestResult("tempest.api.a.T.test_x")], duration_seconds=3).body(cpid)
    text = json.dumps(body)
    for value in [*canaries.values(), auth_url, "canary-host-7731", str(port)]:
        assert value not in text
    assert set(body) == {"cpid", "duration_seconds", "results"}
    assert set(body["results"][0]) <= {"name", "uuid"}
