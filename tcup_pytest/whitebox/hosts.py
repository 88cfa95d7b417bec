"""Run commands on cloud hosts: one reused connection per host, backends picked by URL scheme.

The Whitebox plugin opened a new SSH connection for every command; a :class:`Host` keeps one
Fabric connection for its lifetime (reopened if it drops), so a test's twenty commands cost
one handshake. Backends, testinfra-style::

    >>> host = Host("ssh://root@198.18.1.2:22?key=/root/.ssh/id_ed25519")  # doctest: +SKIP
    >>> host.run(["virsh", "dumpxml", "instance-00000001"]).rc               # doctest: +SKIP
    0

``local://`` runs on this machine, ``docker://NAME`` / ``podman://NAME`` in a local container;
``host.in_container("nova_virtqemud", "podman")`` execs inside a container on any host.
"""

from __future__ import annotations

import base64
import logging
import os
import shlex
import socket
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tcup_pytest.errors import HostError
from tcup_pytest.redaction import REDACTOR

if TYPE_CHECKING:
    from fabric import Connection

    from tcup_pytest.whitebox.libvirt import Capabilities, DomainXML

LOG = logging.getLogger("tcup_pytest.whitebox.hosts")
#: Longest output kept in one log line; whole XML documents would drown the log.
LOG_OUTPUT_LIMIT = 2000


@dataclass(frozen=True)
class CommandResult:
    """What every backend returns: the command, its exit code and both outputs (text)."""

    command: str
    rc: int
    stdout: str
    stderr: str

    @property
    def succeeded(self) -> bool:
        return self.rc == 0


class CommandFailed(HostError):
    """``check_output`` saw a non-zero exit code."""

    def __init__(self, host: str, result: CommandResult) -> None:
        self.result = result
        detail = (result.stderr or result.stdout).strip().splitlines()
        super().__init__(f"on {host}: {REDACTOR.redact(result.command)!r} exited {result.rc}"
                         + (f": {REDACTOR.redact(detail[-1])}" if detail else ""))


def to_command(command: str | Sequence[str]) -> str:
    """A shell string as given, or an argv list quoted for the shell (callers never quote)."""
    return command if isinstance(command, str) else shlex.join(str(a) for a in command)


class Backend:
    """How a command reaches a machine. Subclasses implement :meth:`run`."""

    user: str = "root"

    def run(self, command: str, *, stdin: bytes | None, timeout: float | None) -> CommandResult:
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection (it is reopened on the next command)."""

    @property
    def identity(self) -> str:
        """Names the machine (not the container): the key of the per-host config lock."""
        return "local"

    @property
    def is_root(self) -> bool:
        return self.user == "root"


class LocalBackend(Backend):
    """``local://``: a shell on this machine."""

    def __init__(self) -> None:
        import pwd
        self.user = pwd.getpwuid(os.geteuid()).pw_name

    def run(self, command: str, *, stdin: bytes | None, timeout: float | None) -> CommandResult:
        try:
            proc = subprocess.run(["/bin/sh", "-c", command], input=stdin or b"",
                                  capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HostError(f"{command!r} timed out after {timeout} s on this machine") from None
        return CommandResult(command, proc.returncode, proc.stdout.decode(errors="replace"),
                             proc.stderr.decode(errors="replace"))


class ContainerBackend(Backend):
    """``docker exec`` / ``podman exec`` through another backend (local or SSH)."""

    def __init__(self, parent: Backend, container: str, runtime: str = "docker") -> None:
        self.parent, self.container, self.runtime = parent, container, runtime
        self.user = "root"  # ``exec -u root`` inside; sudo, if any, goes on the runtime call

    @property
    def identity(self) -> str:
        return self.parent.identity

    def run(self, command: str, *, stdin: bytes | None, timeout: float | None) -> CommandResult:
        wrapped = shlex.join([*([] if self.parent.is_root else ["sudo", "-n"]), self.runtime,
                              "exec", *(["-i"] if stdin else []), "-u", "root",
                              self.container, "sh", "-c", command])
        result = self.parent.run(wrapped, stdin=stdin, timeout=timeout)
        return CommandResult(command, result.rc, result.stdout, result.stderr)

    def close(self) -> None:
        self.parent.close()


class SSHBackend(Backend):
    """``ssh://user@host:port``: one Fabric connection, opened lazily, reopened when dropped."""

    def __init__(self, address: str, *, user: str = "root", port: int = 22,
                 key_filename: str | None = None, password: str | None = None,
                 connect_timeout: float = 10) -> None:
        self.address, self.user, self.port = address, user, port
        self.key_filename = key_filename
        self.password = password
        REDACTOR.register(password)
        self.connect_timeout = connect_timeout
        self._connection: Connection | None = None
        self.connects = 0  # how many times a connection was opened (tests and the benchmark)

    @property
    def target(self) -> str:
        return f"ssh://{self.user}@{self.address}:{self.port}"

    @property
    def identity(self) -> str:
        return f"{self.address}:{self.port}"

    @property
    def connection(self) -> Connection:
        """The live Fabric connection (also for tunnels), reopened if it dropped."""
        conn = self._connection
        transport = conn.client.get_transport() if conn is not None else None
        if conn is None or transport is None or not transport.is_active():
            if conn is not None:
                LOG.info("%s: connection dropped, reconnecting", self.target)
                conn.close()
            conn = self._open()
        return conn

    def _open(self) -> Connection:
        import paramiko
        from fabric import Config, Connection

        connect_kwargs: dict[str, Any] = {"look_for_keys": False, "allow_agent": False}
        if self.key_filename:
            connect_kwargs["key_filename"] = self.key_filename
        if self.password:
            connect_kwargs["password"] = self.password
        config = Config(lazy=True, overrides={"load_ssh_configs": False})
        conn = Connection(self.address, user=self.user, port=self.port, config=config,
                          connect_timeout=self.connect_timeout, connect_kwargs=connect_kwargs)
        try:
            conn.open()
        except paramiko.AuthenticationException as exc:
            key = f" with key {self.key_filename}" if self.key_filename else ""
            raise HostError(f"{self.target} refused the SSH login for {self.user}{key}: {exc}",
                            hint="Check the inventory's ssh user and key, and the host's "
                                 "authorized_keys") from None
        except (OSError, EOFError, paramiko.SSHException) as exc:
            reason = "timed out" if isinstance(exc, socket.timeout) else str(exc) or type(
                exc).__name__
            raise HostError(f"cannot reach {self.target}: {reason}",
                            hint="Check the inventory address and port, and that sshd runs") \
                from None
        self._connection = conn
        self.connects += 1
        return conn

    def run(self, command: str, *, stdin: bytes | None, timeout: float | None) -> CommandResult:
        import paramiko
        from invoke.exceptions import CommandTimedOut

        for attempt in (1, 2):
            conn = self.connection
            try:
                if stdin is not None:
                    return self._run_with_stdin(conn, command, stdin, timeout)
                result = conn.run(command, hide=True, warn=True, in_stream=False,
                                  timeout=timeout, pty=False)
                return CommandResult(command, result.exited, result.stdout, result.stderr)
            except (CommandTimedOut, TimeoutError):
                raise HostError(f"{command!r} timed out after {timeout} s on {self.target}",
                                hint="Raise the timeout, or check the host") from None
            except (ConnectionError, OSError) as exc:
                # Dropped while the command ran: not retried (it may have had effects).
                self.close()
                raise HostError(f"{self.target}: connection lost while running {command!r}: "
                                f"{exc}") from None
            except (EOFError, paramiko.SSHException) as exc:
                # The session could not be opened: the transport died between commands.
                if attempt == 2:
                    raise HostError(f"{self.target}: SSH connection lost: {exc}") from None
                LOG.info("%s: %s; reconnecting", self.target, exc or type(exc).__name__)
                conn.close()
                self._connection = None
        raise AssertionError("unreachable")

    @staticmethod
    def _run_with_stdin(conn: Connection, command: str, stdin: bytes,
                        timeout: float | None) -> CommandResult:
        """Feed bytes on a raw channel: invoke pushes stdin a byte per 10 ms and decodes it.
        Meant for small outputs (files written with ``cat >``): stdout is read before stderr."""
        channel = conn.client.get_transport().open_session()
        try:
            channel.settimeout(timeout)
            channel.exec_command(command)
            channel.sendall(stdin)
            channel.shutdown_write()
            out = channel.makefile("rb").read()
            err = channel.makefile_stderr("rb").read()
            rc = channel.recv_exit_status()
        finally:
            channel.close()
        return CommandResult(command, rc, out.decode(errors="replace"),
                             err.decode(errors="replace"))

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _ssh_from_url(parts: Any) -> Backend:
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return SSHBackend(parts.hostname or "", user=unquote(parts.username or "root"),
                      port=parts.port or 22, key_filename=query.get("key"),
                      password=unquote(parts.password) if parts.password else None,
                      connect_timeout=float(query.get("timeout", 10)))


#: URL scheme -> factory; small and lazy, like testinfra's backend table.
BACKENDS: dict[str, Callable[[Any], Backend]] = {
    "ssh": _ssh_from_url,
    "local": lambda parts: LocalBackend(),
    "docker": lambda parts: ContainerBackend(LocalBackend(), parts.netloc, "docker"),
    "podman": lambda parts: ContainerBackend(LocalBackend(), parts.netloc, "podman"),
}


def backend_from_url(url: str) -> Backend:
    parts = urlsplit(url if "://" in url else f"ssh://{url}")
    factory = BACKENDS.get(parts.scheme)
    if factory is None:
        raise HostError(f"unknown host URL scheme {parts.scheme!r} in {url!r}",
                        hint=f"Use one of: {', '.join(s + '://' for s in BACKENDS)}")
    return factory(parts)


class Host:
    """A machine of the cloud: ``run``/``check_output``, files, libvirt XML.

    Commands run privileged: prefixed with ``sudo -n`` only when the login user is not root.
    """

    def __init__(self, target: str | Backend, *, name: str | None = None,
                 sudo: bool = True, services: Mapping[str, Any] | None = None) -> None:
        self.backend = backend_from_url(target) if isinstance(target, str) else target
        self.name = name or (target if isinstance(target, str) else type(target).__name__)
        self.sudo = sudo
        #: Inventory service entries (``services.Service``), keyed by name.
        self.services: dict[str, Any] = dict(services or {})
        self._children: dict[tuple[str, str], Host] = {}

    def __repr__(self) -> str:
        return f"Host({self.name!r})"

    # commands ------------------------------------------------------------------------------
    def run(self, command: str | Sequence[str], *, stdin: bytes | str | None = None,
            timeout: float | None = 120, sudo: bool | None = None) -> CommandResult:
        """Run a shell string or an argv list (quoted for you); never raises on rc != 0."""
        text = to_command(command)
        if (self.sudo if sudo is None else sudo) and not self.backend.is_root:
            text = shlex.join(["sudo", "-n", "sh", "-c", text])
        data = stdin.encode() if isinstance(stdin, str) else stdin
        LOG.info("[%s] $ %s", self.name, REDACTOR.redact(text))
        result = self.backend.run(text, stdin=data, timeout=timeout)
        result = CommandResult(text, result.rc, result.stdout, result.stderr)
        LOG.debug("[%s] rc=%s stdout=%s stderr=%s", self.name, result.rc,
                  REDACTOR.redact(_clip(result.stdout)), REDACTOR.redact(_clip(result.stderr)))
        return result

    def check_output(self, command: str | Sequence[str], **kwargs: Any) -> str:
        """stdout of a command that must succeed (:class:`CommandFailed` otherwise)."""
        result = self.run(command, **kwargs)
        if result.rc != 0:
            raise CommandFailed(self.name, result)
        return result.stdout

    # files (binary-safe, so a restore is byte-for-byte) -------------------------------------
    def read_file(self, path: str) -> bytes:
        return base64.b64decode(self.check_output(["base64", path]))

    def write_file(self, path: str, data: bytes) -> None:
        """Overwrite ``path`` in place (``cat >`` keeps its owner and mode)."""
        self.check_output(f"cat > {shlex.quote(path)}", stdin=data)

    def exists(self, path: str) -> bool:
        return self.run(["test", "-e", path]).rc == 0

    # containers and services ------------------------------------------------------------
    def in_container(self, container: str, runtime: str = "docker") -> Host:
        """A host that runs commands inside ``container`` here, sharing this connection."""
        key = (runtime, container)
        if key not in self._children:
            child = Host(ContainerBackend(self.backend, container, runtime),
                         name=f"{self.name}/{container}", sudo=self.sudo)
            self._children[key] = child
        return self._children[key]

    def for_service(self, service: str) -> Host:
        """Where a service's commands run: its container if the inventory names one."""
        spec = self.services.get(service)
        container = getattr(spec, "container", None)
        if not container:
            return self
        return self.in_container(container, getattr(spec, "runtime", None) or "docker")

    # libvirt --------------------------------------------------------------------------------
    def virsh(self, *args: str) -> str:
        return self.for_service("libvirt").check_output(["virsh", *args])

    def domain_xml(self, name_or_uuid: str) -> DomainXML:
        """``virsh dumpxml`` of a guest (libvirt name or Nova instance uuid)."""
        from tcup_pytest.whitebox.libvirt import DomainXML
        return DomainXML.from_string(self.virsh("dumpxml", name_or_uuid))

    def capabilities(self) -> Capabilities:
        from tcup_pytest.whitebox.libvirt import Capabilities
        return Capabilities.from_string(self.virsh("capabilities"))

    # lifetime -------------------------------------------------------------------------------
    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _clip(text: str) -> str:
    text = text.rstrip()
    return text if len(text) <= LOG_OUTPUT_LIMIT else text[:LOG_OUTPUT_LIMIT] + "...[clipped]"
