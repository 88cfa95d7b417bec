"""CloudConfig resolves OS_* and clouds.yaml through openstacksdk and names what is missing."""

import pytest

from tcup_pytest.config import CloudConfig
from tcup_pytest.errors import ConfigError, ExitCode
from tcup_pytest.redaction import REDACTOR

FULL = {
    "OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_USERNAME": "alice",
    "OS_PASSWORD": "cfg-canary-pw1", "OS_PROJECT_NAME": "demo",
    "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
    "OS_REGION_NAME": "RegionTwo",
}


@pytest.fixture
def env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))

    def set_env(values):
        for key, value in values.items():
            monkeypatch.setenv(key, value)
    return set_env


def test_os_variables_resolve_and_password_is_registered(env):
    env(FULL)
    cfg = CloudConfig.load(prompt=False)
    assert (cfg.auth_url, cfg.username, cfg.project_name, cfg.region_name) == (
        "http://127.0.0.1:9/v3", "alice", "demo", "RegionTwo")
    assert cfg.masked()["auth"]["password"] == "***"
    assert REDACTOR.redact("cfg-canary-pw1") == "***"


def test_old_tenant_name_is_accepted(env):
    env({**{k: v for k, v in FULL.items() if k != "OS_PROJECT_NAME"}, "OS_TENANT_NAME": "old"})
    assert CloudConfig.load(prompt=False).project_name == "old"


def test_every_missing_variable_is_named_in_one_error(env):
    env({"OS_USERNAME": "alice"})
    with pytest.raises(ConfigError) as info:
        CloudConfig.load(prompt=False)
    message = str(info.value)
    for name in ("OS_AUTH_URL", "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME"):
        assert name in message
    assert "\n" not in message
    assert info.value.exit_code == ExitCode.CONFIG


def test_missing_password_is_prompted_for_on_a_terminal(env, monkeypatch):
    env({k: v for k, v in FULL.items() if k != "OS_PASSWORD"})
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed-canary-pw")
    cfg = CloudConfig.load(prompt=True)
    assert cfg.password == "typed-canary-pw"
    assert REDACTOR.redact("typed-canary-pw") == "***"


def test_clouds_yaml_cloud_wins_over_os_variables(env, tmp_path):
    (tmp_path / "clouds.yaml").write_text(
        "clouds:\n  mine:\n    auth:\n      auth_url: http://127.0.0.1:8/v3\n"
        "      username: carol\n      password: yaml-canary-pw\n      project_name: p\n"
        "      user_domain_name: Default\n      project_domain_name: Default\n"
        "    region_name: R9\n")
    env({**FULL, "OS_CLIENT_CONFIG_FILE": str(tmp_path / "clouds.yaml"), "OS_CLOUD": "mine"})
    cfg = CloudConfig.load(prompt=False)
    assert (cfg.username, cfg.region_name) == ("carol", "R9")
    cfg = CloudConfig.load(prompt=False, overrides={"username": "dave"})
    assert cfg.username == "dave"


def test_unknown_cloud_and_broken_yaml_are_config_errors(env, tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds:\n  mine: {auth: {auth_url: x}}\n")
    env({"OS_CLIENT_CONFIG_FILE": str(path)})
    with pytest.raises(ConfigError, match="cloud 'other' not found"):
        CloudConfig.load(cloud="other", prompt=False)
    path.write_text("clouds:\n  mine: [unclosed\n")
    with pytest.raises(ConfigError, match=r"cannot parse .*line \d+"):
        CloudConfig.load(cloud="mine", prompt=False)


def test_insecure_and_cacert_give_verify(env):
    env({**FULL, "OS_INSECURE": "true"})
    assert CloudConfig.load(prompt=False).verify is False
    env({**FULL, "OS_INSECURE": "false", "OS_CACERT": "/etc/ssl/ca.pem"})
    assert CloudConfig.load(prompt=False).verify == "/etc/ssl/ca.pem"


def test_application_credentials_need_id_and_secret(env):
    env({"OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_AUTH_TYPE": "v3applicationcredential",
         "OS_APPLICATION_CREDENTIAL_ID": "abc"})
    with pytest.raises(ConfigError, match="OS_APPLICATION_CREDENTIAL_SECRET"):
        CloudConfig.load(prompt=False)
    env({"OS_APPLICATION_CREDENTIAL_SECRET": "app-canary-secret"})
    CloudConfig.load(prompt=False)
    assert REDACTOR.redact("app-canary-secret") == "***"


def test_dict_round_trip_keeps_everything(env):
    env(FULL)
    cfg = CloudConfig.load(prompt=False)
    again = CloudConfig.from_dict(cfg.to_dict())
    assert again.masked() | {"source": "x"} == cfg.masked() | {"source": "x"}
    assert again.password == "cfg-canary-pw1"


def test_a_variable_the_auth_type_does_not_take_is_named(env):
    env({"OS_AUTH_URL": "http://127.0.0.1:9/v3", "OS_AUTH_TYPE": "v3token",
         "OS_TOKEN": "tok-canary-123", "OS_USER_DOMAIN_NAME": "Default"})
    with pytest.raises(ConfigError, match="OS_USER_DOMAIN_NAME does not go with auth type "
                                          "v3token"):
        CloudConfig.load(prompt=False)
