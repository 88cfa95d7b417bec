"""Bad input to container/tcup.py, run as a user would: one clear line, a distinct exit code,
no traceback. None of these needs a Docker engine (they stop before or at the connection)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tcup_pytest.errors import ExitCode

from .conftest import LAUNCHER

CLOUD = {"OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_USERNAME": "demo",
         "OS_PROJECT_NAME": "demo", "OS_USER_DOMAIN_NAME": "Default",
         "OS_PROJECT_DOMAIN_NAME": "Default"}


def launch(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "DOCKER_"))}
    base["DOCKER_HOST"] = f"unix://{tmp_path}/no-engine.sock"
    return subprocess.run([sys.executable, str(LAUNCHER), *args], env={**base, **env},
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def one_line(proc: subprocess.CompletedProcess) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    return lines[0]


def test_missing_password_without_a_terminal_is_refused(tmp_path):
    proc = launch(tmp_path, "--no-upload", env=CLOUD)
    assert proc.returncode == ExitCode.CONFIG
    assert "missing OS_PASSWORD" in one_line(proc)


def test_missing_auth_url_is_named(tmp_path):
    env = {k: v for k, v in CLOUD.items() if k != "OS_AUTH_URL"}
    proc = launch(tmp_path, env={**env, "OS_PASSWORD": "x"})
    assert proc.returncode == ExitCode.CONFIG
    assert "OS_AUTH_URL" in one_line(proc)


def test_unreadable_key_file(tmp_path):
    proc = launch(tmp_path, "--sign", str(tmp_path / "absent.pem"),
                  env={**CLOUD, "OS_PASSWORD": "x"})
    assert proc.returncode == ExitCode.KEY
    line = one_line(proc)
    assert "absent.pem" in line and "signing key" in line


def test_no_docker_engine_says_how_to_start_one(tmp_path):
    proc = launch(tmp_path, "--no-upload", env={**CLOUD, "OS_PASSWORD": "x"})
    assert proc.returncode == ExitCode.DOCKER
    line = one_line(proc)
    assert "no Docker engine answers at unix://" in line
    assert "dockerd" in line and "DOCKER_HOST" in line
