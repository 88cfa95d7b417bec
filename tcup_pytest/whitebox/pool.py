"""One :class:`Host` per inventory host for a whole session, found by API names.

The API names a guest's host in ``OS-EXT-SRV-ATTR:host`` (openstacksdk: ``compute_host``) and
its hypervisor in ``hypervisor_hostname``; both resolve through the inventory::

    >>> pool = HostPool(Inventory.load("inventory.yaml"))  # doctest: +SKIP
    >>> pool.for_server(server).domain_xml(server.id)      # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from tcup_pytest.errors import InventoryError
from tcup_pytest.whitebox.database import Database
from tcup_pytest.whitebox.hosts import Host, SSHBackend
from tcup_pytest.whitebox.inventory import HostSpec, Inventory

_HOST_KEYS = ("OS-EXT-SRV-ATTR:host", "compute_host", "host")
_HYPERVISOR_KEYS = ("OS-EXT-SRV-ATTR:hypervisor_hostname", "hypervisor_hostname")


def server_host_name(server: Any) -> str:
    """The compute host of an openstacksdk ``Server``, an API dict, or a plain name."""
    if isinstance(server, str):
        return server
    for key in (*_HOST_KEYS, *_HYPERVISOR_KEYS):
        value = server.get(key) if isinstance(server, Mapping) else getattr(server, key, None)
        if value:
            return str(value)
    raise InventoryError("the server has no host attribute (OS-EXT-SRV-ATTR:host)",
                         hint="Fetch it with admin credentials; non-admins do not see hosts")


def host_from_spec(spec: HostSpec) -> Host:
    if spec.address in ("local", "localhost-local"):
        return Host("local://", name=spec.name, services=spec.services)
    backend = SSHBackend(spec.address, user=spec.ssh.user, port=spec.ssh.port,
                         key_filename=spec.ssh.key, password=spec.ssh.password,
                         connect_timeout=spec.ssh.timeout)
    return Host(backend, name=spec.name, services=spec.services)


class HostPool(Mapping[str, Host]):
    """Lazily opened hosts by inventory name; :meth:`close` ends every connection."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._hosts: dict[str, Host] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Host:
        spec = self.inventory.resolve(name)
        with self._lock:
            if spec.name not in self._hosts:
                self._hosts[spec.name] = host_from_spec(spec)
            return self._hosts[spec.name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.inventory.hosts)

    def __len__(self) -> int:
        return len(self.inventory.hosts)

    def spec(self, name: str) -> HostSpec:
        return self.inventory.resolve(name)

    def for_server(self, server: Any) -> Host:
        """The host running ``server`` (an openstacksdk Server, an API dict or a host name)."""
        return self[server_host_name(server)]

    def database(self) -> Database:
        spec = self.inventory.database
        if spec is None:
            raise InventoryError(f"{self.inventory.source} has no 'database' section",
                                 hint="Add database: {host, port, user, password_env}")
        return Database(host=spec.host, port=spec.port, user=spec.user,
                        password=spec.password, names=spec.names,
                        via=self[spec.via] if spec.via else None)

    def close(self) -> None:
        with self._lock:
            for host in self._hosts.values():
                host.close()
            self._hosts.clear()
