"""`tcup`: readable help with the exit codes, one-line errors, masked config."""

import subprocess
import sys

import pytest

from tcup_pytest.cli import main
from tcup_pytest.errors import ExitCode


def tcup(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tcup_pytest.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture
def bare_env(tmp_path) -> dict[str, str]:
    import os
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(HOME=str(tmp_path), OS_CLIENT_CONFIG_FILE=str(tmp_path / "none.yaml"))
    return env


def test_help_lists_commands_and_every_exit_code():
    result = tcup("--help")
    assert result.returncode == 0
    for code in ExitCode:
        assert f"{code.value:>3}  {code.meaning}" in result.stdout
    assert "config" in result.stdout and "testbed" in result.stdout


def test_exit_codes_are_distinct():
    assert len({c.value for c in ExitCode}) == len(ExitCode)


def test_missing_variables_give_one_line_and_config_code(bare_env):
    result = tcup("config", "show", env={**bare_env, "OS_USERNAME": "bob"})
    assert result.returncode == ExitCode.CONFIG
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("tcup: error: cloud configuration incomplete, missing: "
                                     "OS_AUTH_URL")
    assert "Traceback" not in result.stderr


def test_config_show_masks_the_password(bare_env):
    env = {**bare_env, "OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_USERNAME": "bob",
           "OS_PASSWORD": "show-canary-77", "OS_PROJECT_NAME": "p",
           "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default"}
    result = tcup("config", "show", env=env)
    assert result.returncode == 0, result.stderr
    assert "show-canary-77" not in result.stdout + result.stderr
    assert "password: '***'" in result.stdout
    assert "username: bob" in result.stdout


def test_no_command_prints_help_and_usage_code(capsys):
    assert main([]) == ExitCode.USAGE
    assert "COMMAND" in capsys.readouterr().out
