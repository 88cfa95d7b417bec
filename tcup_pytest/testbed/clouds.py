"""The testbed's credentials as clients want them: clouds.yaml, openrc files, OS_* dicts.

These files hold passwords of throw-away local users, so they are written 0600 inside the 0700
state directory and removed by ``down``; nothing here is ever printed.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

REGION = "RegionOne"
DOMAIN = "Default"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` readable by the owner only, also when the file already existed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


@dataclass(frozen=True)
class CloudCredentials:
    """One project-scoped user of the testbed, named like its clouds.yaml entry."""

    cloud: str
    auth_url: str
    username: str
    password: str
    project_name: str
    region: str = REGION

    def clouds_entry(self) -> dict:
        return {
            "auth": {"auth_url": self.auth_url, "username": self.username,
                     "password": self.password, "project_name": self.project_name,
                     "user_domain_name": DOMAIN, "project_domain_name": DOMAIN},
            "auth_type": "password",
            "region_name": self.region,
            "interface": "public",
            "identity_api_version": 3,
        }

    def env(self) -> dict[str, str]:
        """OS_* variables equivalent to the clouds.yaml entry (for subprocesses)."""
        return {
            "OS_AUTH_TYPE": "password",
            "OS_AUTH_URL": self.auth_url,
            "OS_USERNAME": self.username,
            "OS_PASSWORD": self.password,
            "OS_PROJECT_NAME": self.project_name,
            "OS_USER_DOMAIN_NAME": DOMAIN,
            "OS_PROJECT_DOMAIN_NAME": DOMAIN,
            "OS_REGION_NAME": self.region,
            "OS_INTERFACE": "public",
            "OS_IDENTITY_API_VERSION": "3",
        }


def write_clouds_yaml(path: Path, clouds: list[CloudCredentials]) -> None:
    data = {"clouds": {c.cloud: c.clouds_entry() for c in clouds}}
    write_private(path, yaml.safe_dump(data, sort_keys=False))


def write_openrc(path: Path, cloud: CloudCredentials) -> None:
    """A file to ``source`` in a shell (``. tcup-member.openrc``)."""
    lines = [f"# {cloud.cloud}: written by tcup testbed, removed by 'tcup testbed down'"]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in cloud.env().items()]
    write_private(path, "\n".join(lines) + "\n")
