"""Glance (image API) from PyPI: SQLite, a filesystem store in the state dir, gunicorn."""

from __future__ import annotations

import shutil
from pathlib import Path

from tcup_pytest.testbed.wsgi import POLICY, WsgiService


class Glance(WsgiService):
    name = "glance"
    requirements = ("glance>=33,<34", "gunicorn")
    wsgi_app = "glance.wsgi.api:application"
    config_dir_env = "OS_GLANCE_CONFIG_DIR"
    service_type = "image"

    def prepare(self) -> None:
        super().prepare()
        shipped = Path(self.venv.path) / "etc" / "glance"
        shutil.copyfile(shipped / "glance-api-paste.ini", self.dir / "glance-api-paste.ini")
        stores = {store: self.dir / store for store in ("images", "staging", "tasks")}
        for path in stores.values():
            path.mkdir(exist_ok=True)
        self.write_config("glance-api.conf", {
            "DEFAULT": {"debug": "false", "log_file": str(self.log),
                        "enabled_backends": "fs:file",
                        "worker_self_reference_url": self.url},
            "database": {"connection": f"sqlite:///{self.dir / 'glance.db'}"},
            "glance_store": {"default_backend": "fs"},
            "fs": {"filesystem_store_datadir": str(stores["images"])},
            "os_glance_staging_store": {"filesystem_store_datadir": str(stores["staging"])},
            "os_glance_tasks_store": {"filesystem_store_datadir": str(stores["tasks"])},
            "paste_deploy": {"flavor": "keystone"},
            "keystone_authtoken": self.authtoken(),
            "oslo_policy": POLICY,
        })
        gm = [self.venv.bin("glance-manage"), "--config-file", str(self.dir / "glance-api.conf")]
        self.manage(*gm, "db_sync", what="db_sync")
        # Without the metadata definitions tempest's metadefs tests fail (IndexError).
        self.manage(*gm, "db_load_metadefs", str(shipped / "metadefs"), what="db_load_metadefs")
