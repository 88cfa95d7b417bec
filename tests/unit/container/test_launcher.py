"""container/tcup.py's pure logic: what goes into the container, what is refused, and the
image recipe it carries (the only source of both ways in; the checked-in copies must match)."""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode

from .conftest import ROOT

CLOUD = {"OS_AUTH_URL": "http://keystone:5000/v3", "OS_USERNAME": "demo",
         "OS_PROJECT_NAME": "demo", "OS_PASSWORD": "s3cret-canary"}


def test_exit_codes_mirror_tcup(launcher):
    for name in ("OK", "TESTS_FAILED", "USAGE", "CONFIG", "INPUT_FILE", "KEY", "DOCKER",
                 "INTERRUPTED"):
        assert getattr(launcher, name) == ExitCode[name].value, name


def test_checked_in_dockerfile_is_the_embedded_one(launcher, capsys):
    """tcup.py is the source; refresh the copy with:
    python3 container/tcup.py --print-dockerfile > container/Dockerfile"""
    assert launcher.main(["--print-dockerfile"]) == 0
    assert capsys.readouterr().out == launcher.DOCKERFILE
    assert (ROOT / "container" / "Dockerfile").read_text() == launcher.DOCKERFILE


def _session_source(text: str, name: str) -> str:
    tree = ast.parse(text)
    func = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.dump(func)


def test_embedded_noxfile_runs_the_repository_tcup_session(launcher):
    repo = (ROOT / "noxfile.py").read_text()
    assert _session_source(launcher.NOXFILE, "tcup") == _session_source(repo, "tcup")


def test_dockerfile_needs_no_buildkit():
    text = (ROOT / "container" / "Dockerfile").read_text()
    assert "# syntax=" not in text and "--mount" not in text and "<<" not in text
    assert "ARG BASE_IMAGE" in text and "ARG TCUP_PACKAGE" in text
    assert "\nUSER tcup\n" in text


def test_only_our_settings_enter_the_container(launcher):
    environ = {**CLOUD, "OS_REGION_NAME": "r1", "TCUP_WORKERS": "2", "REFSTACK_CPID": "c",
               "HOME": "/root", "PATH": "/bin", "AWS_SECRET_ACCESS_KEY": "x",
               "TCUP_CACHE_DIR": "/root/.cache", "OS_CLIENT_CONFIG_FILE": "/x.yaml",
               "OS_APPLICATION_CREDENTIAL_SECRET": "also-secret"}
    assert launcher.container_environment(environ) == {
        "OS_AUTH_URL": CLOUD["OS_AUTH_URL"], "OS_USERNAME": "demo", "OS_PROJECT_NAME": "demo",
        "OS_REGION_NAME": "r1", "TCUP_WORKERS": "2", "REFSTACK_CPID": "c"}
    assert launcher.secrets_of(environ) == {
        "OS_PASSWORD": "s3cret-canary", "OS_APPLICATION_CREDENTIAL_SECRET": "also-secret"}


@pytest.mark.parametrize(("drop", "named"), [
    ("OS_AUTH_URL", "OS_AUTH_URL"), ("OS_USERNAME", "OS_USERNAME"),
    ("OS_PROJECT_NAME", "OS_PROJECT_NAME"), ("OS_PASSWORD", "OS_PASSWORD")])
def test_a_missing_critical_value_is_named(launcher, drop, named):
    environ = {k: v for k, v in CLOUD.items() if k != drop}
    with pytest.raises(launcher.LauncherError) as err:
        launcher.resolve_cloud(environ, interactive=False)
    assert named in str(err.value) and err.value.code == ExitCode.CONFIG


def test_alternatives_satisfy_the_check(launcher):
    environ = {"OS_AUTH_URL": "u", "OS_USER_ID": "id", "OS_TENANT_NAME": "t",
               "OS_PASSWORD": "p"}
    assert launcher.missing_cloud_values(environ) == []
    appcred = {"OS_AUTH_URL": "u", "OS_AUTH_TYPE": "v3applicationcredential",
               "OS_APPLICATION_CREDENTIAL_ID": "i"}
    assert launcher.missing_cloud_values(appcred) == ["OS_APPLICATION_CREDENTIAL_SECRET"]


def test_clouds_yaml_alone_is_refused_with_the_way_out(launcher):
    missing = launcher.missing_cloud_values({"OS_CLOUD": "mine"})
    assert "openrc" in missing[0]


def test_password_is_prompted_on_a_terminal(launcher, monkeypatch):
    monkeypatch.setattr(launcher.getpass, "getpass", lambda prompt: "typed-in")
    environ = {k: v for k, v in CLOUD.items() if k != "OS_PASSWORD"}
    assert launcher.resolve_cloud(environ, interactive=True) == {"OS_PASSWORD": "typed-in"}


def test_key_must_be_readable_and_a_private_key(launcher, tmp_path):
    with pytest.raises(launcher.LauncherError) as err:
        launcher.read_key(tmp_path / "missing.pem")
    assert err.value.code == ExitCode.KEY and "missing.pem" in str(err.value)
    (tmp_path / "pub").write_text("ssh-rsa AAAA me@host\n")
    with pytest.raises(launcher.LauncherError):
        launcher.read_key(tmp_path / "pub")


def test_requirements_from_wheel_metadata(launcher, tmp_path):
    wheel = tmp_path / "tcup_pytest-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as whl:
        whl.writestr("tcup_pytest-0.1.0.dist-info/METADATA", "\n".join([
            "Name: tcup-pytest", "Requires-Dist: pytest>=8", "Requires-Dist: lxml>=5",
            'Requires-Dist: tempest>=40; extra == "tempest"',
            'Requires-Dist: docker>=7; extra == "container"']))
    text = launcher.package_metadata(wheel)
    assert launcher.requirements_from_metadata(text) == ["pytest>=8", "lxml>=5", "tempest>=40"]


def test_checkout_and_wheel_ask_for_the_same_requirements(launcher):
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    meta = "\n".join([f"Requires-Dist: {r}" for r in pyproject["project"]["dependencies"]]
                     + [f'Requires-Dist: {r}; extra == "tempest"'
                        for r in pyproject["project"]["optional-dependencies"]["tempest"]])
    assert launcher.requirements_from_metadata(meta) == \
        launcher.requirements_from_pyproject(pyproject)


def _plan(launcher, tmp_path: Path, **kw) -> tuple[dict, dict]:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n")
    args = {"checkout": ROOT, "package": None, "ca_bundle": ca, "wheelhouse": None,
            "base_image": "localhost/debian:bookworm", **kw}
    return launcher.plan_context(**args)


def test_checkout_context_and_its_tag(launcher, tmp_path):
    files, args = _plan(launcher, tmp_path)
    assert args == {"BASE_IMAGE": "localhost/debian:bookworm",
                    "TCUP_PACKAGE": "/tmp/tcup-build/pkg/src"}
    assert files["pkg/src/tcup_pytest/container.py"] == ROOT / "tcup_pytest/container.py"
    assert not [n for n in files if "__pycache__" in n or n.endswith(".pyc")]
    assert b"nox>=2024.4" in files["requirements.txt"].splitlines()
    tag = launcher.context_digest(files, args)
    assert launcher.context_digest(dict(files), args) == tag
    changed = {**files, "pkg/src/tcup_pytest/container.py": b"# changed\n"}
    assert launcher.context_digest(changed, args) != tag
    assert launcher.context_digest(files, {**args, "BASE_IMAGE": "other"}) != tag


def test_context_is_written_only_for_a_build(launcher, tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "six-1.0-py3-none-any.whl").write_bytes(b"wheel")
    files, _ = _plan(launcher, tmp_path, wheelhouse=wheels)
    ctx = tmp_path / "ctx"
    launcher.write_context(ctx, files)
    assert (ctx / "Dockerfile").read_text() == launcher.DOCKERFILE
    assert (ctx / "noxfile.py").read_text() == launcher.NOXFILE
    assert (ctx / "pkg/src/tcup_pytest/container.py").read_bytes() == \
        (ROOT / "tcup_pytest/container.py").read_bytes()
    assert (ctx / "wheelhouse/six-1.0-py3-none-any.whl").read_bytes() == b"wheel"
    assert (ctx / "build-ca.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_requirement_spec_installs_with_the_tempest_extra(launcher, tmp_path):
    (tmp_path / "empty.pem").write_bytes(b"")
    files, args = launcher.plan_context(checkout=None, package="tcup-pytest==9.9",
                                        ca_bundle=tmp_path / "empty.pem", wheelhouse=None,
                                        base_image="b")
    assert args["TCUP_PACKAGE"] == "tcup-pytest==9.9"
    assert files["requirements.txt"].splitlines()[0] == b"tcup-pytest[tempest]==9.9"
    assert files["Dockerfile"] == launcher.DOCKERFILE.encode()
    assert files["build-ca.pem"] == b""
    ctx = tmp_path / "ctx"
    launcher.write_context(ctx, files)
    assert (ctx / "pkg").is_dir() and (ctx / "wheelhouse").is_dir()  # COPY needs them


def test_only_a_checkout_builds_from_its_tree(launcher, tmp_path):
    assert launcher.find_checkout(ROOT / "container" / "tcup.py") == ROOT
    alone = tmp_path / "tcup.py"
    alone.write_text("")
    assert launcher.find_checkout(alone) is None


def test_run_arguments_and_mounts(launcher, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token\n")
    args = launcher.build_parser().parse_args(
        ["--no-upload", "--test-list", str(listing), "-j", "1", "--", "--include", "x"])
    command, mounts = launcher.command_for(args)
    assert command == ["--no-upload", "--workers", "1", "--test-list",
                       launcher.TEST_LIST_MOUNT, "--include", "x"]
    assert mounts == {str(listing): {"bind": launcher.TEST_LIST_MOUNT, "mode": "ro"}}
    default = launcher.build_parser().parse_args([])
    assert launcher.command_for(default)[0][:2] == ["--url", launcher.DEFAULT_URL]


def test_unreadable_test_list_is_an_input_error(launcher, tmp_path):
    args = launcher.build_parser().parse_args(["--test-list", str(tmp_path / "nope.txt")])
    with pytest.raises(launcher.LauncherError) as err:
        launcher.command_for(args)
    assert err.value.code == ExitCode.INPUT_FILE


@pytest.mark.parametrize("kwargs", [
    {"ca_bundle": Path("/nonexistent/ca.pem")}, {"wheelhouse": Path("/nonexistent/wheels")},
    {"package": "/nonexistent/tcup_pytest-0.1.0-py3-none-any.whl"}])
def test_unreadable_build_inputs_are_input_errors(launcher, tmp_path, kwargs):
    args = {"checkout": ROOT, "package": None, "ca_bundle": None, "wheelhouse": None,
            "base_image": "b", **kwargs}
    with pytest.raises(launcher.LauncherError) as err:
        launcher.plan_context(**args)
    assert err.value.code == ExitCode.INPUT_FILE and "/nonexistent/" in str(err.value)
