"""OpenStack API services served by gunicorn on 127.0.0.1 and listed in keystone's catalog.

One sync worker each: the services use SQLite and in-process caches, which stay coherent only
with a single process and a single writer (see the reference notes on uWSGI threads).
"""

from __future__ import annotations

import configparser
import io
import signal
from collections.abc import Mapping
from typing import Any, ClassVar

from tcup_pytest.testbed.base import run
from tcup_pytest.testbed.clouds import write_private
from tcup_pytest.testbed.component import HOST, Component, Context, ensure_port_free, new_password

#: Same policy mode as keystone's, so the testbed behaves like a current deployment.
POLICY = {"enforce_new_defaults": "true", "enforce_scope": "true"}


def render_ini(sections: Mapping[str, Mapping[str, str]]) -> str:
    """INI text for oslo.config (no inline comments, no interpolation)."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    for section, options in sections.items():
        parser[section] = dict(options)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


class WsgiService(Component):
    """A gunicorn-served API; subclasses say which app, config and catalog entry."""

    #: gunicorn application, "module:attribute".
    wsgi_app: ClassVar[str]
    #: environment variable naming the directory its WSGI app reads its config from.
    config_dir_env: ClassVar[str]
    #: catalog service type; ``None``: not registered (keystone itself).
    service_type: ClassVar[str | None] = None
    #: path appended to the base URL for the catalog endpoint and the readiness probe.
    url_path: ClassVar[str] = ""
    ready_timeout: ClassVar[float] = 90
    #: gunicorn's quick shutdown; SIGTERM waits for its graceful timeout.
    stop_signal = signal.SIGINT

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.port = ctx.port(self.name, self.log)
        self.url = f"http://{HOST}:{self.port}{self.url_path}"
        self.password = new_password() if self.service_type else None

    def server_env(self) -> dict[str, str]:
        return {self.config_dir_env: str(self.dir)}

    def gunicorn_argv(self) -> list[str]:
        return [self.venv.bin("gunicorn"), "--no-control-socket",
                "--bind", f"{HOST}:{self.port}", "--workers", "1", "--worker-class", "sync",
                "--timeout", "120", "--graceful-timeout", "5", self.wsgi_app]

    def manage(self, *args: str, what: str, env: Mapping[str, str] | None = None) -> None:
        """One set-up step (``*-manage``), timed and logged to the component log."""
        with self.ctx.phase(f"{self.name}.{what}"):
            run(args, log=self.log, what=f"{self.name}: {what}",
                env={**self.server_env(), **(env or {})}, cwd=self.dir)

    def write_config(self, filename: str, sections: Mapping[str, Mapping[str, str]]) -> None:
        write_private(self.dir / filename, render_ini(sections))

    def authtoken(self) -> dict[str, str]:
        """keystonemiddleware settings for this service's own user in project ``service``."""
        auth_url = self.ctx.auth_url
        assert auth_url is not None and self.password is not None
        return {"www_authenticate_uri": auth_url, "auth_url": auth_url, "auth_type": "password",
                "username": self.name, "password": self.password, "project_name": "service",
                "user_domain_name": "Default", "project_domain_name": "Default",
                "service_token_roles_required": "true"}

    def up(self) -> dict[str, Any]:
        """Start gunicorn, add the catalog entries while it boots, then wait for it."""
        with self.ctx.phase(f"{self.name}.start"):
            ensure_port_free(self.name, self.port, self.log)
            proc = self.start(self.gunicorn_argv(), env=self.server_env())
            if self.service_type:
                assert self.ctx.keystone is not None and self.password is not None
                with self.ctx.phase(f"{self.name}.register"):
                    self.ctx.keystone.register_service(
                        name=self.name, service_type=self.service_type, url=self.url,
                        password=self.password)
            proc.wait_http(self.url, timeout=self.ready_timeout)
        return self.state()

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"url": self.url, "port": self.port, "log": str(self.log),
                                 "processes": self.process_records()}
        if self.password:
            state["password"] = self.password
        return state
