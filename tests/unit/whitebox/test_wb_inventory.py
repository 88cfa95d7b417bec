"""Inventory loading: typed hosts and services, errors that name the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, InventoryError
from tcup_pytest.whitebox.inventory import Inventory

GOOD = """\
defaults:
  ssh: {user: stack, key: /keys/id_ed25519}
  exec: podman
database:
  host: 10.0.0.5
  port: 13306
  user: nova
  password_env: TCUP_TEST_DB_PASSWORD
  via: controller
  names: {nova: nova_cell1}
hosts:
  controller:
    address: 10.0.0.5
    exec: direct
  compute-1:
    address: 10.0.0.11
    ssh: {port: 2222}
    hypervisor_hostname: compute-1.example.org
    aliases: [c1]
    cpu_dedicated_set: 2-7,10-15
    cpu_shared_set: 0-1,8-9
    services:
      libvirt: {container: nova_virtqemud}
      nova-compute:
        systemd_unit: tripleo_nova_compute
        config: /var/lib/config-data/nova.conf
        health: {nova_service: nova-compute, timeout: 60}
"""


@pytest.fixture
def inventory(monkeypatch: pytest.MonkeyPatch) -> Inventory:
    monkeypatch.setenv("TCUP_TEST_DB_PASSWORD", "db-secret-123")
    return Inventory.from_string(GOOD, "inv.yaml")


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8001")
def test_hosts_services_and_defaults(inventory: Inventory) -> None:
    compute = inventory.hosts["compute-1"]
    assert (compute.ssh.user, compute.ssh.port, compute.ssh.key) == (
        "stack", 2222, "/keys/id_ed25519")
    assert compute.exec == "podman" and inventory.hosts["controller"].exec == "direct"
    assert compute.cpu_dedicated_set == frozenset({2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15})
    assert compute.services["libvirt"].container == "nova_virtqemud"
    assert compute.services["libvirt"].runtime == "podman"
    nova = compute.services["nova-compute"]
    assert nova.config == ("/var/lib/config-data/nova.conf",)
    assert (nova.health_nova_service, nova.health_timeout) == ("nova-compute", 60)
    assert compute.url == "ssh://stack@10.0.0.11:2222?timeout=10&key=%2Fkeys%2Fid_ed25519"


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8002")
def test_database_and_secret_registration(inventory: Inventory) -> None:
    from tcup_pytest.redaction import REDACTOR
    db = inventory.database
    assert db is not None
    assert (db.host, db.port, db.user, db.via, db.password) == (
        "10.0.0.5", 13306, "nova", "controller", "db-secret-123")
    assert db.names["nova"] == "nova_cell1" and db.names["nova_api"] == "nova_api"
    assert "db-secret-123" not in REDACTOR.redact("password was db-secret-123")


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8003")
@pytest.mark.parametrize("name", ["compute-1", "compute-1.example.org", "c1",
                                  "compute-1.other.domain"])
def test_api_names_resolve(inventory: Inventory, name: str) -> None:
    assert inventory.resolve(name).name == "compute-1"


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8004")
def test_unknown_hypervisor(inventory: Inventory) -> None:
    with pytest.raises(InventoryError) as info:
        inventory.resolve("compute-7")
    assert info.value.exit_code == ExitCode.INVENTORY
    assert str(info.value).startswith("unknown hypervisor 'compute-7': no host in inv.yaml")
    assert "Known hosts: compute-1, controller" in str(info.value)


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8005")
@pytest.mark.parametrize(("text", "expected"), [
    ("hosts:\n  c1:\n    adress: 1.2.3.4\n", "inv.yaml:3: hosts.c1.adress: unknown key"),
    ("hosts:\n  c1:\n    ssh: {user: root}\n", "inv.yaml:2: hosts.c1.address: missing"),
    ("hosts:\n  c1:\n    address: h\n    ssh: {port: twenty}\n",
     "inv.yaml:4: hosts.c1.ssh.port: expected a number, got 'twenty'"),
    ("hosts:\n  c1:\n    address: h\n    cpu_shared_set: 0-x\n",
     "inv.yaml:4: hosts.c1.cpu_shared_set: invalid cpuset '0-x'"),
    ("hosts:\n  c1:\n    address: h\n    exec: lxc\n",
     "inv.yaml:4: hosts.c1.exec: 'lxc' is not one of direct, docker, podman"),
    ("hosts:\n  c1:\n    address: h\n    services:\n      n: {start: go}\n",
     "inv.yaml:5: hosts.c1.services.n: give both start and stop"),
    ("hosts:\n  c1:\n    address: h\n    services:\n      n: {container: x}\n",
     "inv.yaml:5: hosts.c1.services.n.container: a container needs"),
    ("hosts:\n  c1: {address: h}\ndatabase: {via: c9}\n",
     "inv.yaml:3: database.via: no host named 'c9'"),
    ("hosts:\n  c1: {address: h}\n  c1: {address: i}\n", "inv.yaml:3: hosts.c1: duplicate key"),
    ("hosts: [a, b]\n", "inv.yaml:1: hosts: expected a mapping"),
    ("hosts:\n  c1: {address: h\n", "inv.yaml:3: not valid YAML"),
    ("", "inv.yaml: the inventory is empty"),
    ("hostz: {}\n", "inv.yaml:1: hostz: unknown key"),
])
def test_malformed_inventory_names_key_and_line(text: str, expected: str) -> None:
    with pytest.raises(InventoryError) as info:
        Inventory.from_string(text, "inv.yaml")
    assert str(info.value).startswith(expected), str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.exit_code == ExitCode.INVENTORY


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8006")
def test_missing_file_and_unset_password_variable(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InventoryError, match="cannot read the whitebox inventory"):
        Inventory.load(tmp_path / "missing.yaml")
    monkeypatch.delenv("TCUP_TEST_DB_PASSWORD", raising=False)
    with pytest.raises(InventoryError, match=r"database.password_env: \$TCUP_TEST_DB_PASSWORD "
                                             "is not set"):
        Inventory.from_string(GOOD, "inv.yaml")


@pytest.mark.idempotent_id("d7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e8007")
def test_server_host_names_from_api_dicts_and_sdk_objects(inventory: Inventory) -> None:
    from types import SimpleNamespace

    from tcup_pytest.whitebox.pool import HostPool, server_host_name
    sdk_like = SimpleNamespace(compute_host=None, hypervisor_hostname="compute-1.example.org")
    assert server_host_name({"OS-EXT-SRV-ATTR:host": "compute-1"}) == "compute-1"
    assert server_host_name(sdk_like) == "compute-1.example.org"
    assert server_host_name("c1") == "c1"
    pool = HostPool(inventory)
    assert pool.for_server(sdk_like) is pool["compute-1"] is pool["c1"]
    with pytest.raises(InventoryError, match="no host attribute"):
        server_host_name({"id": "x"})
