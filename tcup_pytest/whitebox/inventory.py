"""The whitebox inventory: which hosts exist, how to reach them, what runs on them.

One YAML file replaces the Whitebox plugin's split between tempest.conf, ``nodes.yaml`` and
``ctlplane_addresses``. It is validated on load, walking PyYAML's node tree so every error
names the key and its line::

    defaults: {ssh: {user: root, key: ~/.ssh/id_ed25519}}
    database: {host: 127.0.0.1, port: 3306, user: nova, password_env: NOVA_DB_PASSWORD,
               names: {nova: nova_cell1}, via: compute-1}
    hosts:
      compute-1:
        address: 198.18.7.11
        hypervisor_hostname: compute-1.example.org
        exec: direct                      # or docker / podman (services' containers)
        cpu_dedicated_set: 2-7,10-15
        cpu_shared_set: 0-1,8-9
        services:
          libvirt: {container: nova_virtqemud}
          nova-compute:
            systemd_unit: devstack@n-cpu
            config: [/etc/nova/nova-cpu.conf]
            health: {nova_service: nova-compute, timeout: 120}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import yaml

from tcup_pytest.errors import InventoryError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.whitebox.cpuset import CPUSetError, parse_cpuset

EXEC_MODES = ("direct", "docker", "podman")


@dataclass(frozen=True)
class SSHSpec:
    user: str = "root"
    port: int = 22
    key: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10


@dataclass(frozen=True)
class ServiceSpec:
    """A service on a host: how to restart it, its config files, how to tell it is healthy."""

    name: str
    systemd_unit: str | None = None
    container: str | None = None
    runtime: str | None = None  # docker / podman, from the host's ``exec`` unless set
    start: str | None = None
    stop: str | None = None
    restart: str | None = None
    config: tuple[str, ...] = ()
    health_command: str | None = None
    health_nova_service: str | None = None  # binary, e.g. nova-compute
    health_timeout: float = 120


@dataclass(frozen=True)
class HostSpec:
    name: str
    address: str
    ssh: SSHSpec = SSHSpec()
    exec: str = "direct"
    hypervisor_hostname: str | None = None
    aliases: tuple[str, ...] = ()
    cpu_dedicated_set: frozenset[int] | None = None
    cpu_shared_set: frozenset[int] | None = None
    services: dict[str, ServiceSpec] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The :class:`~tcup_pytest.whitebox.hosts.Host` URL (no password in it)."""
        if self.address in ("local", "localhost-local"):
            return "local://"
        query = {"timeout": f"{self.ssh.timeout:g}"}
        if self.ssh.key:
            query["key"] = self.ssh.key
        return f"ssh://{quote(self.ssh.user)}@{self.address}:{self.ssh.port}?{urlencode(query)}"

    @property
    def names(self) -> set[str]:
        """Every name the API may use for this host (service host, hypervisor hostname)."""
        names = {self.name, *self.aliases}
        if self.hypervisor_hostname:
            names.add(self.hypervisor_hostname)
        return names


@dataclass(frozen=True)
class DatabaseSpec:
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"
    password: str | None = field(default=None, repr=False)
    via: str | None = None  # inventory host to tunnel through
    names: dict[str, str] = field(default_factory=lambda: {
        "nova": "nova", "nova_api": "nova_api", "placement": "placement"})


class _Reader:
    """Typed reads from a YAML node, each error naming the key path and line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: yaml.Node, path: str, problem: str) -> InventoryError:
        return InventoryError(f"{self.source}:{node.start_mark.line + 1}: {path}: {problem}",
                              hint="Fix the inventory (see docs: whitebox inventory)")

    def mapping(self, node: yaml.Node, path: str, allowed: set[str] | None = None,
                ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, "expected a mapping")
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if allowed is not None and key not in allowed:
                raise self.fail(key_node, f"{path}.{key}" if path else key,
                                f"unknown key (allowed: {', '.join(sorted(allowed))})")
            if key in result:
                raise self.fail(key_node, f"{path}.{key}", "duplicate key")
            result[key] = (key_node, value_node)
        return result

    def scalar(self, node: yaml.Node, path: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, path, "expected a value")
        return str(node.value)

    def integer(self, node: yaml.Node, path: str) -> int:
        text = self.scalar(node, path)
        if not text.isdigit():
            raise self.fail(node, path, f"expected a number, got {text!r}")
        return int(text)

    def strings(self, node: yaml.Node, path: str) -> tuple[str, ...]:
        if isinstance(node, yaml.ScalarNode):
            return (self.scalar(node, path),)
        if not isinstance(node, yaml.SequenceNode):
            raise self.fail(node, path, "expected a list")
        return tuple(self.scalar(item, f"{path}[{i}]") for i, item in enumerate(node.value))

    def cpuset(self, node: yaml.Node, path: str) -> frozenset[int]:
        try:
            return frozenset(parse_cpuset(self.scalar(node, path)))
        except CPUSetError as exc:
            raise self.fail(node, path, exc.message) from None

    def password(self, fields: dict[str, tuple[yaml.Node, yaml.Node]], path: str) -> str | None:
        if "password_env" in fields:
            node = fields["password_env"][1]
            variable = self.scalar(node, f"{path}.password_env")
            if variable not in os.environ:
                raise self.fail(node, f"{path}.password_env", f"${variable} is not set")
            value: str | None = os.environ[variable]
        elif "password" in fields:
            node = fields["password"][1]
            value = "" if node.tag.endswith(":null") else str(node.value)
        else:
            value = None
        REDACTOR.register(value)
        return value


_SSH_KEYS = {"user", "port", "key", "password", "password_env", "timeout"}
_SERVICE_KEYS = {"systemd_unit", "container", "runtime", "start", "stop", "restart", "config",
                 "health"}
_HOST_KEYS = {"address", "ssh", "exec", "hypervisor_hostname", "aliases", "cpu_dedicated_set",
              "cpu_shared_set", "services"}
_DB_KEYS = {"host", "port", "user", "password", "password_env", "via", "names"}


class Inventory:
    """Hosts by name, plus the database settings; resolves API host names to hosts."""

    def __init__(self, hosts: dict[str, HostSpec], database: DatabaseSpec | None = None,
                 source: str = "<inventory>") -> None:
        self.hosts = hosts
        self.database = database
        self.source = source

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Inventory:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise InventoryError(f"cannot read the whitebox inventory {path}: {exc.strerror}",
                                 hint="Check --whitebox-inventory / TCUP_WHITEBOX_INVENTORY") \
                from None
        return cls.from_string(text, str(path))

    @classmethod
    def from_string(cls, text: str, source: str = "<inventory>") -> Inventory:
        reader = _Reader(source)
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f":{mark.line + 1}" if mark else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise InventoryError(f"{source}{where}: not valid YAML: {problem}") from None
        if root is None:
            raise InventoryError(f"{source}: the inventory is empty",
                                 hint="Describe at least one host under 'hosts:'")
        top = reader.mapping(root, "", {"defaults", "hosts", "database"})
        defaults: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        if "defaults" in top:
            defaults = reader.mapping(top["defaults"][1], "defaults", {"ssh", "exec"})
        if "hosts" not in top:
            raise reader.fail(root, "hosts", "missing (a mapping of host name to host)")
        hosts = {}
        for name, (key, node) in reader.mapping(top["hosts"][1], "hosts").items():
            hosts[name] = _host(reader, name, key, node, defaults)
        if not hosts:
            raise reader.fail(top["hosts"][1], "hosts", "no host described")
        database = _database(reader, top["database"][1], hosts) if "database" in top else None
        return cls(hosts, database, source)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.hosts.values())

    def __len__(self) -> int:
        return len(self.hosts)

    def resolve(self, name: str) -> HostSpec:
        """The host an API name (``OS-EXT-SRV-ATTR:host``, ``hypervisor_hostname``) means."""
        for spec in self.hosts.values():
            if name in spec.names:
                return spec
        short = name.split(".", 1)[0]
        matches = [s for s in self.hosts.values() if short in {n.split(".", 1)[0]
                                                              for n in s.names}]
        if len(matches) == 1:
            return matches[0]
        raise InventoryError(
            f"unknown hypervisor {name!r}: no host in {self.source} has that name",
            hint=f"Known hosts: {', '.join(sorted(self.hosts))}; add it as a host, "
                 "hypervisor_hostname or alias")


def _ssh(reader: _Reader, node: yaml.Node | None, path: str, base: SSHSpec) -> SSHSpec:
    if node is None:
        return base
    fields = reader.mapping(node, path, _SSH_KEYS)
    values: dict[str, Any] = {}
    if "user" in fields:
        values["user"] = reader.scalar(fields["user"][1], f"{path}.user")
    if "port" in fields:
        values["port"] = reader.integer(fields["port"][1], f"{path}.port")
    if "key" in fields:
        values["key"] = os.path.expanduser(reader.scalar(fields["key"][1], f"{path}.key"))
    if "timeout" in fields:
        values["timeout"] = float(reader.integer(fields["timeout"][1], f"{path}.timeout"))
    password = reader.password(fields, path)
    if password is not None:
        values["password"] = password
    return SSHSpec(**{**base.__dict__, **values})


def _host(reader: _Reader, name: str, key: yaml.Node, node: yaml.Node,
          defaults: dict[str, tuple[yaml.Node, yaml.Node]]) -> HostSpec:
    path = f"hosts.{name}"
    fields = reader.mapping(node, path, _HOST_KEYS)
    if "address" not in fields:
        raise reader.fail(key, f"{path}.address", "missing (the host's SSH address)")
    ssh = _ssh(reader, defaults["ssh"][1] if "ssh" in defaults else None, "defaults.ssh",
               SSHSpec())
    ssh = _ssh(reader, fields["ssh"][1] if "ssh" in fields else None, f"{path}.ssh", ssh)
    exec_field = fields.get("exec") or defaults.get("exec")
    exec_mode = "direct"
    if exec_field is not None:
        exec_mode = reader.scalar(exec_field[1], f"{path}.exec")
        if exec_mode not in EXEC_MODES:
            raise reader.fail(exec_field[1], f"{path}.exec",
                              f"{exec_mode!r} is not one of {', '.join(EXEC_MODES)}")
    services = {}
    if "services" in fields:
        for service, (_, snode) in reader.mapping(fields["services"][1],
                                                   f"{path}.services").items():
            services[service] = _service(reader, service, snode, f"{path}.services.{service}",
                                         exec_mode)
    optional = {k: reader.scalar(fields[k][1], f"{path}.{k}")
                for k in ("hypervisor_hostname",) if k in fields}
    return HostSpec(
        name=name, address=reader.scalar(fields["address"][1], f"{path}.address"), ssh=ssh,
        exec=exec_mode,
        aliases=reader.strings(fields["aliases"][1], f"{path}.aliases")
        if "aliases" in fields else (),
        cpu_dedicated_set=reader.cpuset(fields["cpu_dedicated_set"][1],
                                        f"{path}.cpu_dedicated_set")
        if "cpu_dedicated_set" in fields else None,
        cpu_shared_set=reader.cpuset(fields["cpu_shared_set"][1], f"{path}.cpu_shared_set")
        if "cpu_shared_set" in fields else None,
        services=services, **optional)


def _service(reader: _Reader, name: str, node: yaml.Node, path: str,
             exec_mode: str) -> ServiceSpec:
    if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
        return ServiceSpec(name)
    fields = reader.mapping(node, path, _SERVICE_KEYS)
    values: dict[str, Any] = {
        key: reader.scalar(fields[key][1], f"{path}.{key}")
        for key in ("systemd_unit", "container", "runtime", "start", "stop", "restart")
        if key in fields}
    if values.get("runtime") not in (None, "docker", "podman"):
        raise reader.fail(fields["runtime"][1], f"{path}.runtime", "use docker or podman")
    if "container" in values and "runtime" not in values:
        if exec_mode == "direct":
            raise reader.fail(fields["container"][1], f"{path}.container",
                              "a container needs the host's exec: docker|podman or a runtime")
        values["runtime"] = exec_mode
    if "config" in fields:
        values["config"] = reader.strings(fields["config"][1], f"{path}.config")
    if "health" in fields:
        health = reader.mapping(fields["health"][1], f"{path}.health",
                                {"command", "nova_service", "timeout"})
        if "command" in health:
            values["health_command"] = reader.scalar(health["command"][1],
                                                     f"{path}.health.command")
        if "nova_service" in health:
            values["health_nova_service"] = reader.scalar(health["nova_service"][1],
                                                          f"{path}.health.nova_service")
        if "timeout" in health:
            values["health_timeout"] = float(reader.integer(health["timeout"][1],
                                                            f"{path}.health.timeout"))
    if ("start" in values) != ("stop" in values):
        raise reader.fail(node, path, "give both start and stop commands (or neither)")
    return ServiceSpec(name, **values)


def _database(reader: _Reader, node: yaml.Node, hosts: dict[str, HostSpec]) -> DatabaseSpec:
    fields = reader.mapping(node, "database", _DB_KEYS)
    values: dict[str, Any] = {}
    for key in ("host", "user"):
        if key in fields:
            values[key] = reader.scalar(fields[key][1], f"database.{key}")
    if "port" in fields:
        values["port"] = reader.integer(fields["port"][1], "database.port")
    if "via" in fields:
        via = reader.scalar(fields["via"][1], "database.via")
        if via not in hosts:
            raise reader.fail(fields["via"][1], "database.via", f"no host named {via!r}")
        values["via"] = via
    if "names" in fields:
        names = dict(DatabaseSpec().names)
        for key, (_, value) in reader.mapping(fields["names"][1], "database.names",
                                              {"nova", "nova_api", "placement",
                                               "nova_cell0"}).items():
            names[key] = reader.scalar(value, f"database.names.{key}")
        values["names"] = names
    values["password"] = reader.password(fields, "database")
    return DatabaseSpec(**values)
