"""Tokens: issue one, validate it, and see a revoked one refused."""

import pytest
from keystoneauth1 import exceptions as ksa_exc

pytestmark = pytest.mark.requires_service("identity")


@pytest.mark.idempotent_id("6f8e4436-fc96-4282-8122-e41df57197a9")
def test_token_is_issued_and_validates(keystone_session, cloud_config):
    token = keystone_session.get_token()
    response = keystone_session.get("/auth/tokens", endpoint_filter={"service_type": "identity",
                                                                     "interface": "public"},
                                    headers={"X-Subject-Token": token})
    body = response.json()["token"]
    assert body["user"]["name"] == (cloud_config.username or body["user"]["name"])
    assert body["expires_at"]
    assert body["catalog"], "a project-scoped token carries the service catalog"


@pytest.mark.idempotent_id("9e4c2b1a-8d7f-4e6c-b5a4-3f2e1d0c9b8a")
def test_unknown_token_is_404(keystone_session):
    with pytest.raises(ksa_exc.NotFound):
        keystone_session.get("/auth/tokens",
                             endpoint_filter={"service_type": "identity", "interface": "public"},
                             headers={"X-Subject-Token": "gAAAAABnot-a-real-token"})
