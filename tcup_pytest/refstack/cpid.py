"""The cloud provider id (cpid) RefStack files a run under, derived as refstack-client does.

The id of the catalog's ``identity`` service (v3; v2 catalogs: its first endpoint's id) keeps
new runs comparable with a vendor's refstack-client history. When that fails, the documented
fallback is ``md5(hostname of the auth URL)``: the raw URL never leaves the machine.

    >>> cpid_from_auth_url("https://keystone.example.com:5000/v3")
    'b33dc8a37c8607c6a7612f6296139578'
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlparse

LOG = logging.getLogger(__name__)


def cpid_from_auth_url(auth_url: str) -> str:
    """refstack-client's fallback: md5 of the auth URL's host name."""
    host = urlparse(auth_url).hostname or ""
    return hashlib.md5(host.encode("utf-8")).hexdigest()


def cpid_from_catalog(catalog: list[dict]) -> str | None:
    """The identity service id of a v3 catalog, or the first endpoint id of a v2 one."""
    for service in catalog or []:
        if service.get("type") != "identity":
            continue
        if service.get("id"):
            return str(service["id"])
        endpoints = service.get("endpoints") or []
        if endpoints and endpoints[0].get("id"):
            return str(endpoints[0]["id"])
    return None


def cpid_from_session(session) -> str:
    """cpid for a keystoneauth1 ``Session``; never raises (falls back to the host hash)."""
    auth = getattr(session, "auth", None)
    auth_url = getattr(auth, "auth_url", None) or ""
    try:
        access = auth.get_access(session)
        cpid = cpid_from_catalog(access.service_catalog.catalog)
        if cpid:
            return cpid
        LOG.warning("the service catalog has no identity service; cpid falls back to the "
                    "md5 of the auth URL's host name")
    except Exception as exc:  # any failure → refstack-client's documented fallback
        LOG.warning("could not read the service catalog (%s); cpid falls back to the md5 of "
                    "the auth URL's host name", type(exc).__name__)
    return cpid_from_auth_url(auth_url)
