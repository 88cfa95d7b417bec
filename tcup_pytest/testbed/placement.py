"""Placement from PyPI: SQLite and gunicorn; the app needs no argv shim."""

from __future__ import annotations

from tcup_pytest.testbed.wsgi import POLICY, WsgiService


class Placement(WsgiService):
    name = "placement"
    requirements = ("openstack-placement>=16,<17", "gunicorn")
    wsgi_app = "placement.wsgi.api:application"
    config_dir_env = "OS_PLACEMENT_CONFIG_DIR"
    service_type = "placement"

    def prepare(self) -> None:
        super().prepare()
        conf = self.dir / "placement.conf"
        self.write_config(conf.name, {
            "DEFAULT": {"debug": "false", "log_file": str(self.log)},
            "api": {"auth_strategy": "keystone"},
            "placement_database": {"connection": f"sqlite:///{self.dir / 'placement.db'}"},
            "keystone_authtoken": self.authtoken(),
            "oslo_policy": POLICY,
        })
        self.manage(self.venv.bin("placement-manage"), "--config-file", str(conf), "db", "sync",
                    what="db_sync")
