"""Read Nova's and placement's databases: PyMySQL, dict rows, parameterised queries only.

Host, port and credentials come from the inventory (no fixed 3306); where the database is
reachable only from a controller, the connection goes through an SSH tunnel over that
host's reused Fabric connection::

    >>> db = Database(host="127.0.0.1", port=3306, user="nova", password="...")  # doctest: +SKIP
    >>> with db.session("nova") as nova:                                         # doctest: +SKIP
    ...     instance_numa_topology(nova, server_id).cpu_pinning
    {0: 2, 1: 3}
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pymysql
import pymysql.cursors

from tcup_pytest.errors import DatabaseError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.whitebox.hosts import Host, SSHBackend
from tcup_pytest.whitebox.numa import HostNUMATopology, InstanceNUMATopology

Params = Sequence[Any] | Mapping[str, Any] | None


class DBSession:
    """One connection to one database; every query takes its values as parameters."""

    def __init__(self, connection: pymysql.connections.Connection, name: str) -> None:
        self.connection, self.name = connection, name

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows as dicts. Put values in ``params`` (``%s`` placeholders), never in ``sql``."""
        self._ensure_open()
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _ensure_open(self) -> None:
        """Reopen a connection the server dropped (idle timeout) before using it."""
        try:
            self.connection.ping(reconnect=False)
        except pymysql.err.Error:
            self.connection.connect()

    def one(self, sql: str, params: Params = None) -> dict[str, Any] | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: Params = None) -> int:
        """Run a statement (committed at once); returns the affected row count."""
        self._ensure_open()
        with self.connection.cursor() as cursor:
            count = cursor.execute(sql, params)
        self.connection.commit()
        return count

    def close(self) -> None:
        with contextlib.suppress(pymysql.err.Error):
            self.connection.close()

    def __enter__(self) -> DBSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Database:
    """Where the cloud's databases live; :meth:`session` opens one of them by role or name."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 3306, user: str = "root",
                 password: str | None = None, names: Mapping[str, str] | None = None,
                 via: Host | None = None, connect_timeout: float = 10) -> None:
        self.host, self.port, self.user = host, port, user
        self.password = password or ""
        REDACTOR.register(password)
        self.names = dict(names or {"nova": "nova", "nova_api": "nova_api",
                                    "placement": "placement"})
        self.via = via
        self.connect_timeout = connect_timeout
        self._tunnel: contextlib.ExitStack | None = None
        self._local: tuple[str, int] | None = None

    def _endpoint(self) -> tuple[str, int]:
        if self.via is None:
            return self.host, self.port
        if self._local is None:
            backend = self.via.backend
            if not isinstance(backend, SSHBackend):
                raise DatabaseError(f"cannot tunnel to the database through {self.via.name}: "
                                    "it is not an SSH host")
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                local_port = probe.getsockname()[1]
            stack = contextlib.ExitStack()
            stack.enter_context(backend.connection.forward_local(
                local_port=local_port, remote_port=self.port, remote_host=self.host,
                local_host="127.0.0.1"))
            self._tunnel, self._local = stack, ("127.0.0.1", local_port)
        return self._local

    def session(self, role_or_name: str) -> DBSession:
        """Connect to ``nova`` / ``nova_api`` / ``placement`` (mapped by the inventory)."""
        name = self.names.get(role_or_name, role_or_name)
        host, port = self._endpoint()
        where = f"{self.host}:{self.port}" + (f" via {self.via.name}" if self.via else "")
        try:
            connection = pymysql.connect(
                host=host, port=port, user=self.user, password=self.password, database=name,
                cursorclass=pymysql.cursors.DictCursor, autocommit=True, charset="utf8mb4",
                connect_timeout=self.connect_timeout)
        except pymysql.err.OperationalError as exc:
            code = exc.args[0] if exc.args else 0
            message = REDACTOR.redact(str(exc.args[1]) if len(exc.args) > 1 else str(exc))
            if code in (1044, 1045, 1698):
                raise DatabaseError(
                    f"the database at {where} refused the login for {self.user!r} "
                    f"to {name!r}: {message}",
                    hint="Check the inventory's database user and password") from None
            if code == 1049:
                raise DatabaseError(f"the database {name!r} does not exist at {where}",
                                    hint="Set database.names in the inventory") from None
            raise DatabaseError(f"cannot connect to the database at {where}: {message}",
                                hint="Check the inventory's database host and port") from None
        return DBSession(connection, name)

    def close(self) -> None:
        if self._tunnel is not None:
            self._tunnel.close()
            self._tunnel, self._local = None, None


def instance_numa_topology(nova: DBSession, instance_uuid: str) -> InstanceNUMATopology | None:
    """``instance_extra.numa_topology`` decoded; ``None`` for a guest without NUMA topology."""
    row = nova.one("SELECT numa_topology FROM instance_extra "
                   "WHERE instance_uuid = %s AND deleted = 0", (instance_uuid,))
    if row is None or not row["numa_topology"]:
        return None
    return InstanceNUMATopology.from_json(row["numa_topology"])


@dataclass(frozen=True)
class ComputeNode:
    uuid: str
    host: str
    hypervisor_hostname: str
    vcpus: int
    vcpus_used: int
    memory_mb: int
    memory_mb_used: int
    cpu_info: dict[str, Any]
    numa_topology: HostNUMATopology | None


def compute_node(nova: DBSession, name: str) -> ComputeNode | None:
    """The live ``compute_nodes`` row by service host or hypervisor hostname."""
    row = nova.one("SELECT uuid, host, hypervisor_hostname, vcpus, vcpus_used, memory_mb, "
                   "memory_mb_used, cpu_info, numa_topology FROM compute_nodes "
                   "WHERE (host = %s OR hypervisor_hostname = %s) AND deleted = 0 "
                   "ORDER BY id DESC LIMIT 1", (name, name))
    if row is None:
        return None
    return ComputeNode(
        uuid=row["uuid"], host=row["host"], hypervisor_hostname=row["hypervisor_hostname"],
        vcpus=row["vcpus"], vcpus_used=row["vcpus_used"], memory_mb=row["memory_mb"],
        memory_mb_used=row["memory_mb_used"],
        cpu_info=json.loads(row["cpu_info"]) if row["cpu_info"] else {},
        numa_topology=HostNUMATopology.from_json(row["numa_topology"])
        if row["numa_topology"] else None)


def instance_row(nova: DBSession, instance_uuid: str) -> dict[str, Any] | None:
    """The ``instances`` row (host, node, vm_state...) of a live instance."""
    return nova.one("SELECT * FROM instances WHERE uuid = %s AND deleted = 0",
                    (instance_uuid,))
