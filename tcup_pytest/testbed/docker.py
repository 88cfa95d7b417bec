"""A private Docker Engine for the container tests: our own dockerd, never the system's.

There is no registry here, so the base image is made from a debootstrap rootfs (cached as a
tarball under the cache dir) and tagged locally. The engine keeps its data root under the cache
dir too, so image layers survive between test runs; a second engine started while the cached
data root is busy gets a throw-away one instead of waiting::

    >>> with DockerEngine(tmp) as engine:                  # doctest: +SKIP
    ...     engine.ensure_base_image()                     # doctest: +SKIP
    ...     os.environ["DOCKER_HOST"] = engine.url         # doctest: +SKIP

The engine runs without a bridge or iptables rules (no host-global side effects); builds and
containers use host networking.
"""

from __future__ import annotations

import contextlib
import fcntl
import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from tcup_pytest.errors import TestbedError
from tcup_pytest.testbed.base import (
    ServiceProcess,
    cache_dir,
    ensure_debian_packages,
    file_lock,
    run,
    wait_for,
)

BASE_IMAGE = "localhost/debian:bookworm"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_SECURITY = "http://deb.debian.org/debian-security"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
HOST_EXTRA_CAS = Path("/usr/local/share/ca-certificates")


class DockerEngine:
    """dockerd on a private socket with its own data root and exec root, stopped by PID."""

    def __init__(self, run_dir: Path, *, data_root: Path | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.socket = self.run_dir / "docker.sock"
        self.exec_root = self.run_dir / "exec"
        self.log = self.run_dir / "dockerd.log"
        self.cached_root = data_root or cache_dir() / "docker" / "data"
        self.data_root = self.cached_root
        self.timings: dict[str, float] = {}
        self._process: ServiceProcess | None = None
        self._lock: IO[str] | None = None

    @property
    def url(self) -> str:
        """The DOCKER_HOST value for clients of this engine."""
        return f"unix://{self.socket}"

    def env(self) -> dict[str, str]:
        return {"DOCKER_HOST": self.url}

    def start(self, timeout: float = 60) -> DockerEngine:
        ensure_debian_packages({"dockerd": "docker.io"})
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_root = self._claim_data_root()
        began = time.monotonic()
        self._process = ServiceProcess("dockerd", [
            _dockerd(), "--host", self.url, "--data-root", str(self.data_root),
            "--exec-root", str(self.exec_root), "--pidfile", str(self.run_dir / "dockerd.pid"),
            "--storage-driver", "overlay2", "--bridge", "none", "--iptables=false",
            "--ip-masq=false", "--ip-forward=false"], log=self.log)
        self._process.start()
        try:
            wait_for(self._answers, timeout=timeout, what="dockerd", log=self.log)
        except BaseException:
            self.stop()
            raise
        self.timings["dockerd.start"] = round(time.monotonic() - began, 3)
        return self

    def stop(self) -> None:
        """Stop dockerd (it stops its containerd) and release the data root."""
        if self._process is not None:
            self._process.stop(timeout=30)
            self._process = None
            self._unmount_leftovers()
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        if self.data_root != self.cached_root:
            shutil.rmtree(self.data_root, ignore_errors=True)

    def __enter__(self) -> DockerEngine:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def docker(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """The docker CLI against this engine (for assertions: inspect, history, ps)."""
        return subprocess.run(["docker", "--host", self.url, *args], capture_output=True,
                              text=True, timeout=timeout, check=False)

    def ensure_base_image(self, tag: str = BASE_IMAGE) -> None:
        """Import the debootstrap rootfs as ``tag`` unless the engine has it already."""
        if self.docker("image", "inspect", tag).returncode == 0:
            return
        tarball = ensure_rootfs(self.timings)
        began = time.monotonic()
        run(["docker", "--host", self.url, "import", str(tarball), tag], log=self.log,
            what=f"importing the base image {tag}")
        self.timings["base.import"] = round(time.monotonic() - began, 3)

    def _unmount_leftovers(self) -> None:
        """dockerd leaves its network namespace mounted under the exec root; only mounts
        below our own run dir are touched."""
        with contextlib.suppress(OSError):
            for line in Path("/proc/self/mountinfo").read_text().splitlines():
                point = line.split()[4].replace("\\040", " ")
                if Path(point).is_relative_to(self.run_dir):
                    subprocess.run(["umount", "-l", point], capture_output=True, check=False)

    def _answers(self) -> bool:
        if self._process and self._process.pid and not _alive(self._process.pid):
            raise TestbedError(f"dockerd exited during start-up (see {self.log})",
                               hint="Read the log; another dockerd may use the data root")
        return self.socket.exists() and self.docker("version", timeout=10).returncode == 0

    def _claim_data_root(self) -> Path:
        """The cached data root if no other engine uses it, else a private throw-away one."""
        self.cached_root.mkdir(parents=True, exist_ok=True)
        handle = open(self.cached_root.with_suffix(".lock"), "w")  # noqa: SIM115 (held open)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return self.run_dir / "data"
        self._lock = handle
        return self.cached_root


def _dockerd() -> str:
    return shutil.which("dockerd") or "/usr/sbin/dockerd"


def _alive(pid: int) -> bool:
    from tcup_pytest.testbed.base import pid_alive

    return pid_alive(pid)


def rootfs_tarball() -> Path:
    return cache_dir() / "rootfs" / f"debian-{SUITE}-rootfs.tar"


def ensure_rootfs(timings: dict[str, float] | None = None) -> Path:
    """A minbase Debian rootfs tarball carrying the host's CA bundle (built once, cached)."""
    tarball = rootfs_tarball()
    with file_lock(tarball.with_suffix(".lock")):
        if tarball.exists():
            return tarball
        ensure_debian_packages({"debootstrap": "debootstrap"})
        began = time.monotonic()
        work = tarball.parent / "rootfs.work"
        shutil.rmtree(work, ignore_errors=True)
        log = tarball.with_suffix(".log")
        mirror, security = apt_mirrors()
        run(["debootstrap", "--variant=minbase", SUITE, str(work), mirror], log=log,
            what="debootstrap of the base image", timeout=1200)
        (work / "etc/apt/sources.list").write_text(
            f"deb {mirror} {SUITE} main\ndeb {mirror} {SUITE}-updates main\n"
            f"deb {security} {SUITE}-security main\n")
        _copy_host_cas(work)
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for path in (work / junk).glob("*"):
                if path.is_file():
                    path.unlink()
        partial = tarball.with_suffix(".partial")
        run(["tar", "-C", str(work), "--numeric-owner", "-cf", str(partial), "."], log=log,
            what="packing the base rootfs")
        partial.rename(tarball)
        shutil.rmtree(work, ignore_errors=True)
        if timings is not None:
            timings["rootfs.build"] = round(time.monotonic() - began, 3)
    return tarball


def _copy_host_cas(root: Path) -> None:
    """Behind a TLS-intercepting proxy the image must trust the proxy's CA, like the host."""
    target = root / "usr/local/share/ca-certificates"
    target.mkdir(parents=True, exist_ok=True)
    for crt in HOST_EXTRA_CAS.glob("*.crt"):
        shutil.copy(crt, target / crt.name)
    if HOST_CA_BUNDLE.exists():
        (root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
        shutil.copy(HOST_CA_BUNDLE, root / "etc/ssl/certs/ca-certificates.crt")


def apt_mirrors() -> tuple[str, str]:
    """The Debian and security mirrors apt on this host uses (deb822 or one-line format)."""
    uris: list[str] = []
    sources = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for path in sources:
        with contextlib.suppress(OSError):
            for line in path.read_text().splitlines():
                words = line.split()
                if line.startswith("URIs:"):
                    uris.extend(words[1:])
                elif words[:1] == ["deb"]:
                    uris.extend(w for w in words[1:] if "://" in w)
    mirror = next((u for u in uris if not u.rstrip("/").endswith("-security")), DEFAULT_MIRROR)
    security = next((u for u in uris if u.rstrip("/").endswith("-security")), DEFAULT_SECURITY)
    return mirror.rstrip("/"), security.rstrip("/")


