"""Host on local and recorded backends: results, quoting, files, sudo and container wrapping."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tcup_pytest.errors import HostError
from tcup_pytest.redaction import REDACTOR
from tcup_pytest.whitebox.hosts import (
    Backend,
    CommandFailed,
    CommandResult,
    ContainerBackend,
    Host,
    LocalBackend,
    SSHBackend,
)


class Recorder(Backend):
    """Keeps the final command strings: what would reach the remote shell."""

    def __init__(self, user: str = "root") -> None:
        self.user = user
        self.commands: list[tuple[str, bytes | None]] = []

    def run(self, command: str, *, stdin: bytes | None, timeout: float | None) -> CommandResult:
        self.commands.append((command, stdin))
        return CommandResult(command, 0, "ok\n", "")


@pytest.mark.idempotent_id("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f9001")
def test_local_run_and_check_output(tmp_path: Path) -> None:
    host = Host("local://")
    result = host.run("echo out; echo err >&2; exit 4")
    assert (result.rc, result.stdout, result.stderr) == (4, "out\n", "err\n")
    assert host.check_output(["printf", "%s|", "a b", "$X", "it's"]) == "a b|$X|it's|"
    with pytest.raises(CommandFailed, match=r"'false' exited 1"):
        host.check_output(["false"])


@pytest.mark.idempotent_id("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f9002")
def test_local_files_are_binary_safe_and_keep_mode(tmp_path: Path) -> None:
    path = tmp_path / "nova.conf"
    path.write_text("old")
    path.chmod(0o640)
    data = b"\xff\xfe[DEFAULT]\r\n\x00" + "ü".encode()
    host = Host("local://")
    host.write_file(str(path), data)
    assert path.read_bytes() == data and host.read_file(str(path)) == data
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.idempotent_id("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f9003")
def test_sudo_only_when_the_user_is_not_root() -> None:
    as_root, as_stack = Recorder("root"), Recorder("stack")
    Host(as_root).run(["virsh", "dumpxml", "x y"])
    Host(as_stack).run(["virsh", "dumpxml", "x y"])
    Host(as_stack).run("id", sudo=False)
    assert as_root.commands[0][0] == "virsh dumpxml 'x y'"
    assert as_stack.commands[0][0] == "sudo -n sh -c 'virsh dumpxml '\"'\"'x y'\"'\"''"
    assert as_stack.commands[1][0] == "id"


@pytest.mark.idempotent_id("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f9004")
def test_container_exec_goes_through_the_parent_connection() -> None:
    parent = Recorder()
    host = Host(parent, name="c1")
    libvirt = host.in_container("nova_virtqemud", "podman")
    assert host.in_container("nova_virtqemud", "podman") is libvirt
    libvirt.run(["virsh", "list"])
    libvirt.write_file("/etc/x", b"data")
    assert parent.commands[0] == (
        "podman exec -u root nova_virtqemud sh -c 'virsh list'", None)
    assert parent.commands[1] == (
        "podman exec -i -u root nova_virtqemud sh -c 'cat > /etc/x'", b"data")
    assert libvirt.backend.identity == host.backend.identity
    as_stack = Recorder("stack")
    Host(as_stack).in_container("nova_compute").run("id")
    assert as_stack.commands[0][0] == "sudo -n docker exec -u root nova_compute sh -c id"


@pytest.mark.idempotent_id("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f9005")
def test_backends_from_urls() -> None:
    ssh = Host("ssh://stack:pw-9876@198.18.9.9:2222?key=/k/id&timeout=3").backend
    assert isinstance(ssh, SSHBackend)
    assert (ssh.user, ssh.address, ssh.port, ssh.key_filename, ssh.connect_timeout) == (
        "stack", "198.18.9.9", 2222, "/k/id", 3.0)
    assert "pw-9876" not in REDACTOR.redact("login pw-9876")
    assert isinstance(Host("local://").backend, LocalBackend)
    docker = Host("docker://nova_compute").backend
    assert isinstance(docker, ContainerBackend) and docker.container == "nova_compute"
    assert Host("podman://x").backend.runtime == "podman"  # type: ignore[attr-defined]
    with pytest.raises(HostError, match="unknown host URL scheme 'telnet'"):
        Host("telnet://h")


@pytest.mark.idempotent_id("e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f9006")
def test_commands_and_output_are_logged_redacted(caplog: pytest.LogCaptureFixture) -> None:
    REDACTOR.register("hunter2-wb-secret")
    with caplog.at_level(logging.DEBUG, logger="tcup_pytest.whitebox.hosts"):
        Host("local://", name="here").run("echo hunter2-wb-secret")
    text = caplog.text
    assert "[here] $ echo ***" in text and "stdout=***" in text
    assert "hunter2-wb-secret" not in text
