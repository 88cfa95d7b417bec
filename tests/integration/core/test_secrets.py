"""A whole session with a canary password and a canary token leaks neither, anywhere."""

import re
import secrets

import pytest

from tcup_pytest.testbed import ADMIN_CLOUD

#: keystone's fernet tokens all start like this; no artifact may hold one.
FERNET = re.compile(r"gAAAAA[A-Za-z0-9_\-]{60,}")

INNER_TESTS = '''
import logging

log = logging.getLogger("canary")


def test_prints_and_logs_secrets(cloud_config, keystone_session):
    token = keystone_session.get_token()
    print("stdout:", cloud_config.password, token)
    log.warning("log: %s %s", cloud_config.password, token)
    projects = keystone_session.get("/auth/projects", endpoint_filter={
        "service_type": "identity", "interface": "public"}).json()["projects"]
    assert [p["name"] for p in projects] == [cloud_config.project_name]


def test_fails_with_secrets_in_the_traceback(cloud_config, keystone_session):
    token = keystone_session.get_token()
    password = cloud_config.password
    assert password == token, f"password {password} token {token}"
'''


@pytest.fixture(scope="module")
def canary_user(testbed):
    """A real keystone user whose password is a canary value, member of a fresh project."""
    conn = testbed.connect(ADMIN_CLOUD)
    name = f"tcup-canary-{secrets.token_hex(3)}"
    password = f"CANARY-pw-{secrets.token_hex(8)}"
    project = conn.identity.create_project(name=name, domain_id="default")
    user = conn.identity.create_user(name=name, password=password, domain_id="default",
                                     default_project_id=project.id)
    role = conn.identity.find_role("member", ignore_missing=False)
    conn.identity.assign_project_role_to_user(project, user, role)
    env = {"OS_AUTH_URL": testbed.auth_url, "OS_USERNAME": name, "OS_PASSWORD": password,
           "OS_PROJECT_NAME": name, "OS_USER_DOMAIN_NAME": "Default",
           "OS_PROJECT_DOMAIN_NAME": "Default", "OS_REGION_NAME": "RegionOne"}
    yield env
    conn.identity.delete_user(user)
    conn.identity.delete_project(project)
    conn.close()


def canary_token(env: dict[str, str]) -> str:
    from keystoneauth1 import session
    from keystoneauth1.identity import v3

    auth = v3.Password(auth_url=env["OS_AUTH_URL"], username=env["OS_USERNAME"],
                       password=env["OS_PASSWORD"], project_name=env["OS_PROJECT_NAME"],
                       user_domain_id="default", project_domain_id="default")
    return session.Session(auth=auth).get_token()


def artifacts(root) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(errors="replace")
            for p in root.rglob("*") if p.is_file() and not p.name.endswith((".py", ".pyc"))}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_canary_password_and_tokens_appear_nowhere(testbed, run, tmp_path, canary_user,
                                                   workers):
    (tmp_path / "test_inner.py").write_text(INNER_TESTS)
    result = run("pytest", *workers, "-rA", "-l", "--tb=long", "--junitxml=junit.xml",
                 "--log-file=run.log", "--log-file-level=DEBUG", "--log-level=DEBUG",
                 "-o", "cache_dir=cache", "test_inner.py", env=canary_user)
    assert result.returncode == 1, result.stdout[-3000:]  # one test fails on purpose
    assert "1 failed, 1 passed" in result.stdout
    files = artifacts(tmp_path)
    assert {"junit.xml", "run.log"} <= set(files)
    assert any(name.startswith("cache") for name in files)
    everything = {"terminal": result.stdout + result.stderr, **files}
    password = canary_user["OS_PASSWORD"]
    for where, text in everything.items():
        assert password not in text, f"password leaked into {where}"
        assert not FERNET.search(text), f"a token leaked into {where}"
    assert "***" in everything["junit.xml"] and "***" in everything["terminal"]
    assert "password *** token ***" in result.stdout  # the traceback, masked


def test_canary_token_auth_leaks_nowhere(testbed, run, tmp_path, canary_user):
    token = canary_token(canary_user)
    env = {k: v for k, v in canary_user.items()
           if k not in ("OS_PASSWORD", "OS_USERNAME", "OS_USER_DOMAIN_NAME")}
    env.update(OS_AUTH_TYPE="v3token", OS_TOKEN=token)
    (tmp_path / "test_inner.py").write_text(
        "def test_token(keystone_session):\n"
        "    t = keystone_session.get_token()\n"
        "    print('token', t)\n"
        "    assert False, t\n")
    result = run("pytest", "-rA", "--junitxml=junit.xml", "--log-file=run.log",
                 "--log-file-level=DEBUG", "-p", "no:cacheprovider", "test_inner.py", env=env)
    assert "1 failed" in result.stdout, result.stdout[-3000:]
    for where, text in {"terminal": result.stdout + result.stderr, **artifacts(tmp_path)}.items():
        assert token not in text, f"token leaked into {where}"


def test_testbed_logs_hold_none_of_its_passwords(testbed):
    logs = [p for p in testbed.state_dir.rglob("*.log") if p.is_file()]
    assert logs
    for log in logs:
        text = log.read_text(errors="replace")
        assert testbed.admin_password not in text, f"admin password in {log}"
        assert testbed.member_password not in text, f"member password in {log}"
