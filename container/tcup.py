#!/usr/bin/env python3
"""tcup.py: Tempest in a Container, Upload from Probe.

Runs the OpenStack interop tests against your cloud with nothing but Docker and this file:
builds the TCUP image if needed, runs it with your OS_* variables, saves the results in a
host directory and uploads them to RefStack (``--no-upload`` keeps them local).

Two ways in, the same run: next to a tcup-pytest checkout (``container/tcup.py``) the image is
built from the working tree; as a single downloaded file it is built from the released
package (``--package`` names another one: a requirement, a wheel or an sdist). Both end in the
same entry point inside the container, ``nox -s tcup``.

Secrets (OS_PASSWORD, an application credential secret, the signing key) never become
environment variables, build arguments or files of the container: they go to the entry
point as one JSON line on its stdin. Standard library and the ``docker`` SDK only.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

VERSION = "0.1.0"
PACKAGE = "tcup-pytest"
IMAGE_REPOSITORY = "localhost/tcup"
LABEL = "org.openstack.tcup"
DEFAULT_URL = "https://refstack.openstack.org/api"
DEFAULT_BASE_IMAGE = "debian:bookworm-slim"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE_UID = 1000
DEBUG_MOUNT = "/work/src"
RESULTS_MOUNT = "/results"
CACERT_MOUNT = "/run/tcup/cacert.pem"
TEST_LIST_MOUNT = "/run/tcup/test-list.txt"

# Exit codes: the same numbers as tcup's (tcup_pytest/errors.py ExitCode); this file imports
# nothing of ours, so they are mirrored here (a unit test keeps them equal).
OK = 0
TESTS_FAILED = 1
USAGE = 2
CONFIG = 10
INPUT_FILE = 14
KEY = 17
DOCKER = 23
INTERRUPTED = 130

#: values that never leave this process except on the container's stdin
SECRET_VARIABLES = ("OS_PASSWORD", "OS_APPLICATION_CREDENTIAL_SECRET", "OS_TOKEN")
#: our settings that name host paths: meaningless inside the container
HOST_ONLY_VARIABLES = ("TCUP_CACHE_DIR", "TCUP_TESTBED_DIR", "OS_CLIENT_CONFIG_FILE")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                   "no_proxy")
EXTRA_REQUIREMENTS = ("nox>=2024.4", "setuptools>=68", "wheel")
SOURCE_PATHS = ("pyproject.toml", "README.md", "tcup_pytest", "tests_api", "tests_whitebox")

# The image recipe and the in-container noxfile: this file is their only source, for both ways
# in, so that the single downloaded file builds the same image as a checkout. container/Dockerfile
# is a copy for reading and building by hand (`tcup.py --print-dockerfile > container/Dockerfile`)
# and the `tcup` session of the repository's noxfile.py is this one; unit tests keep both equal.
DOCKERFILE = r"""# TCUP image: tcup-pytest, tempest and nox; the entry point is `nox -s tcup`.
# Built by container/tcup.py, which assembles the context: this file, noxfile.py,
# build-ca.pem (CA bundle; may be empty), requirements.txt, wheelhouse/ (may be empty) and
# pkg/ (the package: a source tree, a wheel or an sdist). Classic builder only: no BuildKit
# syntax. Proxy variables (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) are predefined build args and
# stay out of the image history. Layers go from rarely to often changed: a code change
# rebuilds only the last two.
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS system
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
COPY build-ca.pem /usr/local/share/ca-certificates/tcup-build-ca.crt
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && update-ca-certificates > /dev/null 2>&1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 --shell /bin/bash tcup \
 && mkdir -p /results /work/src && chown tcup:tcup /results /work/src

FROM system AS deps
COPY requirements.txt /tmp/tcup-build/requirements.txt
COPY wheelhouse/ /tmp/tcup-build/wheelhouse/
RUN python3 -m venv /opt/tcup/venv \
 && /opt/tcup/venv/bin/pip install -q --find-links /tmp/tcup-build/wheelhouse \
        -r /tmp/tcup-build/requirements.txt

FROM system
COPY --from=deps /opt/tcup/venv /opt/tcup/venv
ENV PATH=/opt/tcup/venv/bin:$PATH
COPY noxfile.py /opt/tcup/noxfile.py
COPY pkg/ /tmp/tcup-build/pkg/
# Where the package comes from: a path under /tmp/tcup-build/pkg or a requirement.
ARG TCUP_PACKAGE=/tmp/tcup-build/pkg/src
RUN pip install -q --no-deps --no-build-isolation "$TCUP_PACKAGE" \
 && rm -rf /tmp/tcup-build
USER tcup
WORKDIR /home/tcup
ENTRYPOINT ["nox", "--noxfile", "/opt/tcup/noxfile.py", "--envdir", "/tmp/nox", \
            "--sessions", "tcup", "--"]
"""

NOXFILE = r'''"""The TCUP image's noxfile: the ``tcup`` session of tcup-pytest's noxfile.py."""

import sys

import nox


@nox.session(python=False)
def tcup(session: nox.Session) -> None:
    """Inside the TCUP container (the image's entry point; container/tcup.py starts it):
    the guideline or test list through `tcup run`, results into /results, then upload."""
    from tcup_pytest.container import main

    code = main(session.posargs)
    if code:
        sys.exit(code)  # keep the run's exit code (session.error() would make it 1)
'''


class LauncherError(Exception):
    """A problem the user can fix: one line, and the exit code to leave with."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


# -- what goes into the container ---------------------------------------------------------


def container_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """OS_*, TCUP_* and REFSTACK_* settings, without secrets and host-only paths."""
    return {k: v for k, v in environ.items()
            if k.startswith(("OS_", "TCUP_", "REFSTACK_"))
            and k not in SECRET_VARIABLES and k not in HOST_ONLY_VARIABLES}


def secrets_of(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: environ[k] for k in SECRET_VARIABLES if environ.get(k)}


def missing_cloud_values(environ: Mapping[str, str]) -> list[str]:
    """The critical OS_* variables that are not set (the password may still be prompted)."""
    def has(*names: str) -> bool:
        return any(environ.get(n) for n in names)

    if has("OS_CLOUD") and not has("OS_AUTH_URL"):
        return ["OS_AUTH_URL (OS_CLOUD/clouds.yaml is not passed into the container: "
                "source an openrc file instead)"]
    missing = [] if has("OS_AUTH_URL") else ["OS_AUTH_URL"]
    if environ.get("OS_AUTH_TYPE", "").startswith(("v3applicationcredential",
                                                   "applicationcredential")):
        if not has("OS_APPLICATION_CREDENTIAL_ID", "OS_APPLICATION_CREDENTIAL_NAME"):
            missing.append("OS_APPLICATION_CREDENTIAL_ID")
        if not has("OS_APPLICATION_CREDENTIAL_SECRET"):
            missing.append("OS_APPLICATION_CREDENTIAL_SECRET")
        return missing
    if environ.get("OS_AUTH_TYPE", "").endswith("token"):
        return missing + ([] if has("OS_TOKEN") else ["OS_TOKEN"])
    if not has("OS_USERNAME", "OS_USER_ID"):
        missing.append("OS_USERNAME")
    if not has("OS_PROJECT_NAME", "OS_PROJECT_ID", "OS_TENANT_NAME", "OS_TENANT_ID"):
        missing.append("OS_PROJECT_NAME")
    if not has("OS_PASSWORD"):
        missing.append("OS_PASSWORD")
    return missing


def resolve_cloud(environ: Mapping[str, str], *, interactive: bool) -> dict[str, str]:
    """The secrets to send; prompts for a missing password on a terminal, else refuses."""
    secrets = secrets_of(environ)
    missing = missing_cloud_values(environ)
    if missing == ["OS_PASSWORD"] and interactive:
        password = getpass.getpass(f"Password for {environ.get('OS_USERNAME')} at "
                                   f"{environ.get('OS_AUTH_URL')}: ")
        if password:
            secrets["OS_PASSWORD"] = password
            missing = []
    if missing:
        raise LauncherError(f"missing {', '.join(missing)}: set it in the environment "
                            "(e.g. source your openrc file)", CONFIG)
    return secrets


def read_key(path: Path) -> str:
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise LauncherError(f"cannot read the signing key {path}: {reason}; give a readable "
                            "unencrypted RSA private key (--sign)", KEY) from None
    if "PRIVATE KEY" not in text:
        raise LauncherError(f"{path} is not a private key (PEM or OpenSSH); give the RSA "
                            "private key registered in your RefStack profile", KEY)
    return text


# -- the image ----------------------------------------------------------------------------


def find_checkout(start: Path) -> Path | None:
    """The tcup-pytest working tree this file sits in (as container/tcup.py), if any."""
    here = start.resolve().parent
    if here.name != "container":
        return None
    try:
        project = tomllib.loads((here.parent / "pyproject.toml").read_text())["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None
    return here.parent if project.get("name") == PACKAGE else None


def requirements_from_pyproject(pyproject: Mapping[str, Any]) -> list[str]:
    project = pyproject["project"]
    extras = project.get("optional-dependencies", {})
    return [*project.get("dependencies", []), *extras.get("tempest", [])]


def requirements_from_metadata(text: str) -> list[str]:
    """Requires-Dist lines of a wheel's METADATA or an sdist's PKG-INFO (plus the tempest
    extra), without their markers."""
    out = []
    for line in text.splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req, _, marker = line.split(":", 1)[1].strip().partition(";")
        marker = marker.replace("'", '"').replace(" ", "")
        if not marker or marker == 'extra=="tempest"':
            out.append(req.strip())
    return out


def package_metadata(path: Path) -> str:
    try:
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as whl:
                name = next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))
                return whl.read(name).decode()
        with tarfile.open(path) as sdist:
            member = next(m for m in sdist.getmembers() if m.name.count("/") == 1
                          and m.name.endswith("/PKG-INFO"))
            handle = sdist.extractfile(member)
            return handle.read().decode() if handle else ""
    except (OSError, StopIteration, zipfile.BadZipFile, tarfile.TarError) as exc:
        raise LauncherError(f"cannot read the package {path}: {exc}; give a wheel or an "
                            "sdist of tcup-pytest", INPUT_FILE) from None


#: the build context before it is written: relative path -> file to copy, or the content
Context = dict[str, Path | bytes]
SKIPPED = ("__pycache__", ".egg-info")


def plan_context(*, checkout: Path | None, package: str | None, ca_bundle: Path | None,
                 wheelhouse: Path | None, base_image: str) -> tuple[Context, dict[str, str]]:
    """The build context and the build arguments. Nothing is copied: the image tag is hashed
    from the sources in place, and an image that exists already needs no context at all."""
    for what, given, ok in (("CA bundle", ca_bundle, Path.is_file),
                            ("wheelhouse", wheelhouse, Path.is_dir)):
        if given is not None and not (ok(given) and os.access(given, os.R_OK)):
            raise LauncherError(f"cannot read the {what} {given}", INPUT_FILE)
    if package and not Path(package).expanduser().exists() and (
            "/" in package or package.endswith((".whl", ".tar.gz", ".zip"))):
        raise LauncherError(f"the package file {package} does not exist", INPUT_FILE)
    files: Context = {"Dockerfile": DOCKERFILE.encode(), "noxfile.py": NOXFILE.encode()}
    if checkout is not None and package is None:
        for name in SOURCE_PATHS:
            for path in source_files(checkout / name):
                files[f"pkg/src/{path.relative_to(checkout).as_posix()}"] = path
        requirements = requirements_from_pyproject(
            tomllib.loads((checkout / "pyproject.toml").read_text()))
        spec = "/tmp/tcup-build/pkg/src"
    else:
        package = package or f"{PACKAGE}=={VERSION}"
        path = Path(package).expanduser()
        if path.is_file():
            files[f"pkg/{path.name}"] = path
            requirements = requirements_from_metadata(package_metadata(path))
            spec = f"/tmp/tcup-build/pkg/{path.name}"
        else:  # a requirement: the deps stage installs it with its dependencies
            match = re.match(r"([A-Za-z0-9_.-]+)(.*)", package)
            if match is None:
                raise LauncherError(f"--package {package!r} is neither a file nor a "
                                    "requirement", USAGE)
            requirements = [f"{match.group(1)}[tempest]{match.group(2)}"]
            spec = package
    files["requirements.txt"] = ("\n".join([*requirements, *EXTRA_REQUIREMENTS]) + "\n").encode()
    bundle = ca_bundle if ca_bundle is not None else HOST_CA_BUNDLE
    files["build-ca.pem"] = bundle.read_bytes() if bundle.is_file() else b""
    if wheelhouse is not None:
        for wheel in sorted(wheelhouse.glob("*.whl")):
            files[f"wheelhouse/{wheel.name}"] = wheel
    return files, {"BASE_IMAGE": base_image, "TCUP_PACKAGE": spec}


def source_files(top: Path) -> list[Path]:
    """The files of one source path, without bytecode and build metadata."""
    if not top.is_dir():
        return [top] if top.exists() else []
    found = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.endswith(SKIPPED)]
        found += [Path(folder, n) for n in names if not n.endswith((".pyc", *SKIPPED))]
    return found


def context_digest(files: Context, buildargs: Mapping[str, str]) -> str:
    """Same context and arguments, same tag: an existing image is used without a build."""
    digest = hashlib.sha256(json.dumps(sorted(buildargs.items())).encode())
    for name in sorted(files):
        source = files[name]
        digest.update(name.encode() + b"\0")
        if isinstance(source, bytes):
            digest.update(source)
        elif name.startswith("wheelhouse/"):  # large and immutable: name and size suffice
            digest.update(str(source.stat().st_size).encode())
        else:
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def write_context(ctx: Path, files: Context) -> None:
    """Lay the context out for the build (pkg/ and wheelhouse/ exist even when empty)."""
    for folder in ("pkg", "wheelhouse"):
        (ctx / folder).mkdir(parents=True, exist_ok=True)
    for name, source in files.items():
        target = ctx / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            target.write_bytes(source)
        elif name.startswith("wheelhouse/"):
            try:
                os.link(source, target)  # no copy of large wheels when on the same filesystem
            except OSError:
                shutil.copy(source, target)
        else:
            shutil.copy2(source, target)


def build_image(client: Any, ctx: Path, tag: str, buildargs: Mapping[str, str],
                network: str, out: Any) -> None:
    """Build with the classic builder, one progress line per step; a failure names its step."""
    args = dict(buildargs)
    args.update({k: v for k, v in os.environ.items() if k in PROXY_VARIABLES})
    step = "the build context"
    from docker.errors import APIError, BuildError

    try:
        stream = client.api.build(path=str(ctx), tag=tag, buildargs=args, rm=True,
                                  forcerm=True, pull=False, network_mode=network, decode=True,
                                  labels={LABEL: VERSION})
        for chunk in stream:
            text = chunk.get("stream", "")
            if text.startswith("Step "):
                step = text.strip()
                print(f"tcup.py:   {step[:110]}", file=out, flush=True)
            if "error" in chunk:
                detail = chunk.get("error", "").strip().splitlines()
                raise LauncherError(f"image build failed at {step}: {' '.join(detail)[-300:]}",
                                    DOCKER)
    except (APIError, BuildError) as exc:
        raise LauncherError(f"image build failed at {step}: {exc}", DOCKER) from None


# -- the engine and the run ---------------------------------------------------------------


def connect(timeout: float = 3600) -> Any:
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if not where.startswith("ssh://"):
        # the SDK imports paramiko (when installed) for ssh:// engines only: ~0.1 s saved
        sys.modules.setdefault("paramiko", None)  # type: ignore[arg-type]
    try:
        import docker
    except ImportError:
        raise LauncherError("the docker Python SDK is missing: pip install docker", DOCKER) \
            from None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # the SDK raises several unrelated types here
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise LauncherError(f"no Docker engine answers at {where} ({reason}): start one "
                            "(e.g. `sudo systemctl start docker` or `sudo dockerd &`) or point "
                            "DOCKER_HOST at a running one", DOCKER) from None
    return client


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so the container is removed either way."""
    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def owned_by_image_user(path: Path) -> Iterator[str | None]:
    """The container's user must write the results (also over an earlier run's); afterwards
    everything there belongs to whom it belonged before, new files to the host user.

    Yields the user to run the container as (None: the image's own non-root user)."""
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        yield f"{uid}:{gid}"
        return
    owners = {item: item.lstat() for item in [path, *path.rglob("*")]}
    for item in owners:
        os.chown(item, IMAGE_UID, IMAGE_UID, follow_symlinks=False)
    try:
        yield None
    finally:
        for item in [path, *path.rglob("*")]:
            was = owners.get(item)
            with contextlib.suppress(OSError):
                os.chown(item, was.st_uid if was else uid, was.st_gid if was else gid,
                         follow_symlinks=False)


def send_secrets(container: Any, secrets: Mapping[str, str]) -> None:
    """One JSON line on the container's stdin, then EOF; nothing reaches the container's
    configuration, logs or disk."""
    sock = container.attach_socket(params={"stdin": 1, "stream": 1})
    raw = getattr(sock, "_sock", sock)
    try:
        raw.sendall(json.dumps(dict(secrets)).encode() + b"\n")
        with contextlib.suppress(OSError):
            raw.shutdown(socket.SHUT_WR)
    finally:
        raw.close()


def run_container(client: Any, image: str, *, command: list[str], environment: dict[str, str],
                  mounts: dict[str, dict[str, str]], user: str | None, network: str,
                  secrets: Mapping[str, str], out: Any) -> int:
    """Create, feed the secrets, stream the output, wait; always remove the container."""
    api = client.api
    host_config = api.create_host_config(binds=mounts, network_mode=network, init=True)
    # detach=False + stdin_open sets StdinOnce: stdin closes once the secrets are sent
    extra = {"TCUP_SECRETS_STDIN": "1", "PYTHONUNBUFFERED": "1"}
    if user:  # another uid than the image user's: its home is not writable
        extra["HOME"] = "/tmp"
    created = api.create_container(
        image, command=command, environment={**environment, **extra},
        user=user or "", stdin_open=True, detach=False, tty=False,
        labels={LABEL: VERSION}, host_config=host_config)
    container = client.containers.get(created["Id"])
    try:
        container.start()
        send_secrets(container, secrets)
        for chunk in container.logs(stream=True, follow=True):
            out.write(chunk.decode(errors="replace"))
            out.flush()
        return int(container.wait().get("StatusCode", DOCKER))
    except KeyboardInterrupt:
        print("\ntcup.py: interrupted; stopping the container", file=sys.stderr, flush=True)
        with contextlib.suppress(Exception):
            container.kill(signal="SIGINT")  # pytest writes what it has, then stops
            container.wait(timeout=20)
        return INTERRUPTED
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


def debug_shell(client: Any, image: str, *, environment: dict[str, str],
                mounts: dict[str, dict[str, str]], user: str | None, network: str) -> int:
    """A shell in the image, the current directory at /work/src; no test runs."""
    docker_cli = shutil.which("docker")
    if docker_cli is None or not sys.stdin.isatty():
        raise LauncherError("--debug needs a terminal and the docker command-line client",
                            USAGE)
    container = client.containers.create(
        image, entrypoint=["/bin/bash"], environment=environment, working_dir=DEBUG_MOUNT,
        volumes=mounts, user=user or "", network_mode=network, init=True, stdin_open=True,
        tty=True, labels={LABEL: VERSION}, detach=True)
    try:
        return subprocess.call([docker_cli, "start", "--attach", "--interactive",
                                container.id])
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)


# -- the command line ---------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tcup.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit codes: the run's own (0 passed, 1 failed, ...; see `tcup --help`), and "
               f"{CONFIG} missing OS_* values, {INPUT_FILE} bad input file, {KEY} unusable "
               f"signing key, {DOCKER} no Docker engine or the image build failed, "
               f"{INTERRUPTED} interrupted.")
    sel = parser.add_argument_group("what to run (passed to `tcup run` in the container)")
    sel.add_argument("--guideline", help="interop guideline, e.g. 2020.06")
    sel.add_argument("--target", help="platform, compute, object or an add-on")
    sel.add_argument("--test-list", type=Path, metavar="FILE", help="a RefStack test list")
    sel.add_argument("-j", "--workers", type=int, help="parallel workers")
    res = parser.add_argument_group("results")
    res.add_argument("--results", type=Path, metavar="DIR",
                     help="host directory for the results (default ./tcup-results/<time>)")
    up = res.add_mutually_exclusive_group()
    up.add_argument("--url", default=os.environ.get("REFSTACK_URL", DEFAULT_URL),
                    help="RefStack API to upload to (default %(default)s)")
    up.add_argument("--no-upload", action="store_true", help="only save the results")
    res.add_argument("--sign", type=Path, metavar="KEY",
                     help="sign the upload with this RSA private key")
    img = parser.add_argument_group("image")
    img.add_argument("--package", metavar="SPEC|FILE",
                     help="build from this package (requirement, wheel or sdist) instead of "
                          f"the checkout (default outside a checkout: {PACKAGE}=={VERSION})")
    img.add_argument("--base-image", default=os.environ.get("TCUP_BASE_IMAGE",
                                                            DEFAULT_BASE_IMAGE),
                     help="base image of the build (default %(default)s)")
    img.add_argument("--ca-bundle", type=Path,
                     help=f"CA bundle trusted during the build (default {HOST_CA_BUNDLE})")
    img.add_argument("--wheelhouse", type=Path, metavar="DIR",
                     help="local wheels pip prefers during the build (saves downloads)")
    img.add_argument("--network", default="host",
                     help="network of the build and the run (default %(default)s)")
    img.add_argument("--build-only", action="store_true", help="build the image, run nothing")
    parser.add_argument("--debug", action="store_true",
                        help=f"start a shell in the container instead of the tests, with the "
                             f"current directory mounted at {DEBUG_MOUNT}, as your own user "
                             "id (no secrets are passed: `tcup run` there prompts for the "
                             "password)")
    img.add_argument("--print-dockerfile", action="store_true",
                     help="print the Dockerfile this launcher builds from, run nothing")
    parser.add_argument("run_args", nargs=argparse.REMAINDER,
                        help="after --: more `tcup run` arguments")
    return parser


def prepare_image(client: Any, args: argparse.Namespace, out: Any) -> str:
    """The image's tag; built first unless an image of this very context exists."""
    checkout = find_checkout(Path(__file__))
    files, buildargs = plan_context(checkout=checkout, package=args.package,
                                    ca_bundle=args.ca_bundle, wheelhouse=args.wheelhouse,
                                    base_image=args.base_image)
    tag = f"{IMAGE_REPOSITORY}:{context_digest(files, buildargs)}"
    if client.images.list(name=tag):
        return tag
    source = "the checkout" if checkout and not args.package else (args.package or
                                                                   f"{PACKAGE}=={VERSION}")
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="tcup-ctx-") as tmp:
        ctx = Path(tmp)
        write_context(ctx, files)
        # tagged by what was copied: a source edited since hashing must not get the old tag
        copied = {n: ctx / n if isinstance(f, Path) else f for n, f in files.items()}
        tag = f"{IMAGE_REPOSITORY}:{context_digest(copied, buildargs)}"
        print(f"tcup.py: building {tag} from {source} (base {args.base_image})", file=out,
              flush=True)
        build_image(client, ctx, tag, buildargs, args.network, out)
    print(f"tcup.py: built {tag} in {time.monotonic() - began:.1f} s", file=out, flush=True)
    return tag


def command_for(args: argparse.Namespace) -> tuple[list[str], dict[str, dict[str, str]]]:
    """The entry point's arguments and the extra mounts they need."""
    mounts: dict[str, dict[str, str]] = {}
    command = ["--no-upload"] if args.no_upload else ["--url", args.url]
    if args.guideline:
        command += ["--guideline", args.guideline]
    if args.target:
        command += ["--target", args.target]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.test_list:
        if not os.access(args.test_list, os.R_OK) or not args.test_list.is_file():
            raise LauncherError(f"cannot read the test list {args.test_list}", INPUT_FILE)
        mounts[str(args.test_list.resolve())] = {"bind": TEST_LIST_MOUNT, "mode": "ro"}
        command += ["--test-list", TEST_LIST_MOUNT]
    rest = list(args.run_args)
    return command + (rest[1:] if rest[:1] == ["--"] else rest), mounts


def launch(args: argparse.Namespace, out: Any) -> int:
    environ = dict(os.environ)
    environment = container_environment(environ)
    secrets: dict[str, str] = {}
    key = read_key(args.sign) if args.sign else None
    if not args.debug and not args.build_only:
        secrets = resolve_cloud(environ, interactive=sys.stdin.isatty())
        if key:
            secrets["sign_key"] = key
    command, mounts = command_for(args)
    if environ.get("OS_CACERT"):
        cacert = Path(environ["OS_CACERT"]).expanduser()
        if not cacert.is_file():
            raise LauncherError(f"OS_CACERT {cacert} does not exist", INPUT_FILE)
        mounts[str(cacert.resolve())] = {"bind": CACERT_MOUNT, "mode": "ro"}
        environment["OS_CACERT"] = CACERT_MOUNT
    client = connect()
    tag = prepare_image(client, args, out)
    if args.build_only:
        print(tag, file=out)
        return OK
    if args.debug:
        mounts[os.getcwd()] = {"bind": DEBUG_MOUNT, "mode": "rw"}
        # as the invoking user: the mounted directory stays readable and new files are theirs
        user = f"{os.getuid()}:{os.getgid()}"
        if os.getuid():
            environment["HOME"] = "/tmp"
        return debug_shell(client, tag, environment=environment, mounts=mounts, user=user,
                           network=args.network)
    results = (args.results or Path("tcup-results") / datetime.now().strftime(
        "%Y%m%d-%H%M%S")).resolve()
    results.mkdir(parents=True, exist_ok=True)
    mounts[str(results)] = {"bind": RESULTS_MOUNT, "mode": "rw"}
    print(f"tcup.py: running {tag}; results go to {results}", file=out, flush=True)
    with owned_by_image_user(results) as user:
        code = run_container(client, tag, command=command, environment=environment,
                             mounts=mounts, user=user, network=args.network, secrets=secrets,
                             out=out)
    print(f"tcup.py: results in {results} (exit code {code})", file=out, flush=True)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.print_dockerfile:
        sys.stdout.write(DOCKERFILE)
        return OK
    try:
        with interruptible():
            return launch(args, sys.stdout)
    except LauncherError as error:
        print(f"tcup.py: error: {error}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        print("tcup.py: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
