"""`tcup config tempest`: the tempest.conf a run would use, secrets masked.

Rendered exactly as `tcup run` renders it (python-tempestconf against the cloud, then the
--tempest-option values) into a private directory that is removed before this returns.
"""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from tcup_pytest.cli.config import add_cloud_arguments
    from tcup_pytest.cli.run import add_tempest_arguments

    parser = subparsers.add_parser("tempest", help="print the rendered tempest.conf, secrets "
                                   "as ***", description=__doc__)
    add_cloud_arguments(parser)
    add_tempest_arguments(parser)
    parser.set_defaults(func=show_tempest_conf)


def show_tempest_conf(args: argparse.Namespace) -> int:
    print(render_masked(args))
    return 0


def render_masked(args: argparse.Namespace) -> str:
    """Render into a private dir, return the masked text; the dir is gone afterwards."""
    from tcup_pytest.cli.config import load_cloud
    from tcup_pytest.tempest import conf, require_tempest

    require_tempest()
    conf.parse_options(args.tempest_option)
    cloud = None
    if not args.tempest_conf:
        cloud = load_cloud(args)
        cloud.check()
    with conf.PrivateDir() as private:
        path = conf.render(cloud, private, base=args.tempest_conf, options=args.tempest_option,
                           image=args.tempest_image)
        return conf.masked(path).rstrip()
