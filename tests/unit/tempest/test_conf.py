"""tempest.conf in a private directory: options, permissions, masking, removal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode, TcupError
from tcup_pytest.tempest import conf

BASE = """\
[DEFAULT]
debug = true

[auth]
admin_username = admin
admin_password = s3cret-Base-pw

[identity]
uri_v3 = http://127.0.0.1:5000/v3
"""


@pytest.fixture
def base(tmp_path: Path) -> Path:
    path = tmp_path / "tempest.conf"
    path.write_text(BASE)
    return path


def test_parse_options():
    assert conf.parse_options(["identity-feature-enabled.api_v3=True", "a.b=x=y.z"]) == [
        ("identity-feature-enabled", "api_v3", "True"), ("a", "b", "x=y.z")]


@pytest.mark.parametrize("bad", ["noequals", "nodot=1", ".key=1", "sec.=1", "s ec.k=1"])
def test_broken_option_is_one_line_config_error(bad):
    with pytest.raises(TcupError) as info:
        conf.parse_options([bad])
    assert info.value.exit_code == ExitCode.CONFIG
    assert "\n" not in str(info.value) and bad in str(info.value)


def test_render_from_base_applies_options_privately(base: Path):
    with conf.PrivateDir() as private:
        path = conf.render(None, private, base=base,
                           options=["compute.build_timeout=60", "auth.admin_username=other"])
        assert oct(private.stat().st_mode & 0o777) == "0o700"
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        parser = conf.read_conf(path)
        assert parser.get("compute", "build_timeout") == "60"
        assert parser.get("auth", "admin_username") == "other"
        assert parser.get("identity", "uri_v3") == "http://127.0.0.1:5000/v3"
        # shared by xdist workers and removed with the directory
        assert parser.get("oslo_concurrency", "lock_path") == str(private / "locks")
        assert parser.get("DEFAULT", "log_dir") == str(private / "logs")
        shown = conf.masked(path)
        assert "s3cret-Base-pw" not in shown and "admin_password = ***" in shown
    assert not private.exists()


def test_existing_lock_path_is_kept(base: Path):
    base.write_text(BASE + "\n[oslo_concurrency]\nlock_path = /srv/locks\n")
    with conf.PrivateDir() as private:
        path = conf.render(None, private, base=base)
        assert conf.read_conf(path).get("oslo_concurrency", "lock_path") == "/srv/locks"


def test_unreadable_base_is_an_input_file_error(tmp_path: Path):
    with conf.PrivateDir() as private, pytest.raises(TcupError) as info:
        conf.render(None, private, base=tmp_path / "missing.conf")
    assert info.value.exit_code == ExitCode.INPUT_FILE


def test_private_dir_removed_on_error():
    with pytest.raises(RuntimeError), conf.PrivateDir() as private:
        (private / "tempest.conf").write_text("x")
        raise RuntimeError("boom")
    assert not private.exists()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_private_dir_removed_on_signal(sig: int):
    code = ("import sys, time\nfrom tcup_pytest.tempest.conf import PrivateDir\n"
            "d = PrivateDir()\n(d.path / 'tempest.conf').write_text('x')\n"
            "print(d.path, flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            stderr=subprocess.DEVNULL)
    path = Path(proc.stdout.readline().strip())
    assert path.exists()
    proc.send_signal(sig)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not path.exists()


def test_write_private_never_world_readable(tmp_path: Path):
    old = os.umask(0)
    try:
        path = conf.write_private(tmp_path / "f", "secret")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_point_tempest_at(monkeypatch, tmp_path: Path):
    monkeypatch.delenv("TEMPEST_CONFIG_DIR", raising=False)
    conf.point_tempest_at(tmp_path / "tempest.conf")
    assert os.environ["TEMPEST_CONFIG_DIR"] == str(tmp_path)
    assert os.environ["TEMPEST_CONFIG"] == "tempest.conf"
