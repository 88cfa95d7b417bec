"""`tcup config`: show the resolved cloud configuration (secrets masked), check it works.

Also home of the ``--os-*`` arguments every cloud-facing command shares.
"""

from __future__ import annotations

import argparse
import importlib

import yaml

from tcup_pytest.config import CloudConfig
from tcup_pytest.plugins.cloud import OPTIONS

#: Modules adding actions under `tcup config` (each with ``register(subparsers)``).
EXTRA_SUBCOMMANDS: list[str] = ["tcup_pytest.cli.config_tempest"]


def add_cloud_arguments(parser: argparse.ArgumentParser) -> None:
    """The --os-* options (as openstackclient and refstack-client spell them)."""
    group = parser.add_argument_group("cloud (default: OS_CLOUD / OS_* variables)")
    group.add_argument("--os-cloud", metavar="NAME", help="cloud name in clouds.yaml")
    for key, text in OPTIONS.items():
        group.add_argument(f"--os-{key.replace('_', '-')}", dest=f"os_{key}", help=text)
    group.add_argument("--os-insecure", action="store_true", default=None,
                       help="skip TLS verification (OS_INSECURE)")


def load_cloud(args: argparse.Namespace, *, prompt: bool | None = None) -> CloudConfig:
    overrides = {key: getattr(args, f"os_{key}", None) for key in OPTIONS}
    if getattr(args, "os_insecure", None):
        overrides["insecure"] = True
    return CloudConfig.load(cloud=args.os_cloud, overrides=overrides, prompt=prompt)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show or check the cloud configuration",
                                   description=__doc__)
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="print the resolved configuration, secrets as ***")
    show.add_argument("--check", action="store_true",
                      help="also authenticate and report user, project, roles and services")
    add_cloud_arguments(show)
    show.set_defaults(func=show_config)
    for module in EXTRA_SUBCOMMANDS:
        importlib.import_module(module).register(sub)


def show_config(args: argparse.Namespace) -> int:
    cfg = load_cloud(args)
    print(yaml.safe_dump(cfg.masked(), sort_keys=False).rstrip())
    if args.check:
        access = cfg.check()
        print(f"authenticated: user {access.username} "
              f"project {access.project_name or '-'} roles {', '.join(sorted(access.role_names))}")
        services = sorted({entry.get("type", "?") for entry in access.service_catalog.catalog})
        print(f"services: {', '.join(services)}")
    return 0
