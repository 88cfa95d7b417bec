"""Keystone from PyPI on 127.0.0.1: SQLite, fernet tokens, gunicorn with one sync worker.

Besides the bootstrap admin it creates a non-admin user (role ``member`` in its own project),
and hands the other components a :class:`KeystoneHandle` to add their catalog entries.
"""

from __future__ import annotations

import grp
import os
import pwd
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tcup_pytest.errors import TestbedError
from tcup_pytest.testbed.clouds import DOMAIN, REGION
from tcup_pytest.testbed.component import Context, new_password, run_parallel
from tcup_pytest.testbed.wsgi import POLICY, WsgiService

if TYPE_CHECKING:
    from openstack.connection import Connection

ADMIN_USER = ADMIN_PROJECT = "admin"
MEMBER_USER = MEMBER_PROJECT = "tcup-member"
SERVICE_PROJECT = "service"

# keystone runs oslo.config on sys.argv while building its app; gunicorn's argv would be
# taken for keystone options, so this module (on gunicorn's --pythonpath) hides it first.
SHIM = '''"""gunicorn entry point for keystone, written by tcup testbed."""
import sys

del sys.argv[1:]
from keystone.wsgi.api import application  # noqa: E402,F401
'''


class Keystone(WsgiService):
    name = "keystone"
    requirements = ("keystone>=30,<31", "gunicorn")
    needs_keystone = False
    wsgi_app = "keystone_wsgi_shim:application"
    config_dir_env = "OS_KEYSTONE_CONFIG_DIR"
    url_path = "/v3"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.admin_password = new_password()
        self.member_password = new_password()
        self.conf = self.dir / "keystone.conf"

    def gunicorn_argv(self) -> list[str]:
        argv = super().gunicorn_argv()
        return [*argv[:-1], "--pythonpath", str(self.dir), argv[-1]]

    def prepare(self) -> None:
        super().prepare()
        self._write_config()
        owner = ["--keystone-user", pwd.getpwuid(os.getuid()).pw_name,
                 "--keystone-group", grp.getgrgid(os.getgid()).gr_name]
        km = [self.venv.bin("keystone-manage"), "--config-file", str(self.conf)]
        # Each keystone-manage call spends ~2 s importing; the key setups need no database.
        run_parallel([
            lambda: self.manage(*km, "db_sync", what="db_sync"),
            lambda: (self.manage(*km, "fernet_setup", *owner, what="fernet_setup"),
                     self.manage(*km, "credential_setup", *owner, what="credential_setup")),
        ])
        # The password goes in the environment: argv is visible to every user in `ps`.
        self.manage(*km, "bootstrap", "--bootstrap-username", ADMIN_USER,
                    "--bootstrap-project-name", ADMIN_PROJECT,
                    "--bootstrap-role-name", "admin", "--bootstrap-service-name", "keystone",
                    "--bootstrap-region-id", REGION, "--bootstrap-admin-url", self.url,
                    "--bootstrap-internal-url", self.url, "--bootstrap-public-url", self.url,
                    what="bootstrap", env={"OS_BOOTSTRAP_PASSWORD": self.admin_password})

    def _write_config(self) -> None:
        d = self.dir
        (d / "keystone_wsgi_shim.py").write_text(SHIM)
        self.write_config("keystone.conf", {
            "DEFAULT": {"debug": "false", "log_file": str(self.log)},
            "database": {"connection": f"sqlite:///{d / 'keystone.db'}"},
            "token": {"provider": "fernet", "expiration": "14400"},
            "fernet_tokens": {"key_repository": str(d / "fernet-keys"), "max_active_keys": "3"},
            "fernet_receipts": {"key_repository": str(d / "fernet-keys")},
            "credential": {"key_repository": str(d / "credential-keys")},
            # bcrypt's minimum: otherwise hashing dominates every token request.
            "identity": {"password_hash_rounds": "4"},
            # In-process cache: ~20x faster, coherent because there is one worker. dogpile's
            # plain dict, not oslo_cache.dict: that one scans every entry for expired ones on
            # each write, which grew to a quarter of keystone's CPU over a Tempest run.
            "cache": {"enabled": "true", "backend": "dogpile.cache.memory",
                      "expiration_time": "600"},
            # devstack's values, which tempest's [identity] user_lockout_* defaults expect.
            "security_compliance": {"lockout_failure_attempts": "2", "lockout_duration": "5",
                                    "unique_last_password_count": "2",
                                    "minimum_password_age": "0"},
            "oslo_policy": POLICY,
        })

    def up(self) -> dict[str, Any]:
        state = super().up()
        handle = KeystoneHandle(self.url, self.admin_password)
        with self.ctx.phase("keystone.users"):
            handle.ensure_user(MEMBER_USER, self.member_password, MEMBER_PROJECT,
                               roles=("member",))
        self.ctx.keystone = handle
        return {**state, "admin_password": self.admin_password,
                "member_password": self.member_password}


class KeystoneHandle:
    """Admin access to the testbed's keystone (project-scoped, like a cloud operator)."""

    def __init__(self, auth_url: str, admin_password: str) -> None:
        self.auth_url = auth_url
        self.admin_password = admin_password
        self._lock = threading.Lock()  # components register in parallel; one writer at a time

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> KeystoneHandle:
        return cls(state["url"], state["admin_password"])

    @cached_property
    def connection(self) -> Connection:
        import openstack  # slow import, needed only while starting

        return openstack.connect(
            load_yaml_config=False, load_envvars=False, auth_type="password",
            auth={"auth_url": self.auth_url, "username": ADMIN_USER,
                  "password": self.admin_password, "project_name": ADMIN_PROJECT,
                  "user_domain_name": DOMAIN, "project_domain_name": DOMAIN},
            region_name=REGION, interface="public", identity_api_version="3")

    def ensure_user(self, name: str, password: str, project: str,
                    roles: tuple[str, ...]) -> None:
        """Create (or reset) a user with ``roles`` on ``project``, creating the project too."""
        from openstack import exceptions

        with self._lock:
            try:
                self._ensure_user(name, password, project, roles)
            except exceptions.SDKException as exc:
                raise TestbedError(f"keystone refused to set up user {name!r}: {exc}",
                                   hint=f"Keystone answers at {self.auth_url}") from exc

    def _ensure_user(self, name: str, password: str, project: str,
                     roles: tuple[str, ...]) -> None:
        ident = self.connection.identity
        proj = (ident.find_project(project, domain_id="default")
                or ident.create_project(name=project, domain_id="default"))
        user = ident.find_user(name, domain_id="default")
        if user is None:
            user = ident.create_user(name=name, password=password, domain_id="default",
                                     default_project_id=proj.id)
        else:
            ident.update_user(user, password=password)
        for role in roles:
            ident.assign_project_role_to_user(proj, user, ident.find_role(role,
                                                                          ignore_missing=False))

    def register_service(self, *, name: str, service_type: str, url: str,
                         password: str) -> None:
        """Service user ``name`` (admin + service on project ``service``), the service and its
        public + internal endpoints in RegionOne; replaces stale entries of an earlier run."""
        from openstack import exceptions

        self.ensure_user(name, password, SERVICE_PROJECT, roles=("admin", "service"))
        ident = self.connection.identity
        with self._lock:
            try:
                service = ident.find_service(name)
                if service is None:
                    service = ident.create_service(name=name, type=service_type, enabled=True)
                for endpoint in list(ident.endpoints(service_id=service.id)):
                    ident.delete_endpoint(endpoint)
                for interface in ("public", "internal"):
                    ident.create_endpoint(service_id=service.id, interface=interface, url=url,
                                          region_id=REGION)
            except exceptions.SDKException as exc:
                raise TestbedError(f"keystone refused the catalog entry of {name}: {exc}",
                                   hint=f"Keystone answers at {self.auth_url}") from exc
