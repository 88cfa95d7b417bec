"""container/tcup.py end to end on a private dockerd against the testbed's keystone: results
come out, the exit code is the run's, the container is always removed, and the password shows
up nowhere (docker inspect, image history, container logs, results, terminal)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.testbed.base import wait_for
from tcup_pytest.testbed.docker import BASE_IMAGE

from .conftest import (
    LAUNCHER,
    ROOT,
    GatedProxy,
    Launch,
    containers,
    launcher_argv,
    pty_run,
    user_env,
)

pytestmark = pytest.mark.integration


def outcomes(results: Path) -> dict[str, str]:
    """test id -> passed/failed/skipped from the run's junit XML."""
    out = {}
    for case in ET.parse(results / "junit.xml").iter("testcase"):
        tags = {child.tag for child in case}
        outcome = ("failed" if tags & {"failure", "error"} else
                   "skipped" if "skipped" in tags else "passed")
        out[f"{case.get('classname')}.{case.get('name')}"] = outcome
    return out


def refstack_names(results: Path) -> list[tuple[str, str]]:
    body = json.loads((results / "refstack.json").read_text())
    return sorted((r["name"], r.get("uuid", "")) for r in body["results"])


def everything_in(results: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in results.rglob("*") if p.is_file())


def test_results_land_in_the_host_directory(checkout_run: Launch):
    assert outcomes(checkout_run.results) == {
        "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token": "passed"}
    assert refstack_names(checkout_run.results) == [
        ("tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token",
         "6f8e4436-fc96-4282-8122-e41df57197a9")]
    for path in [checkout_run.results, *checkout_run.results.iterdir()]:
        assert path.stat().st_uid == os.getuid()  # the user's files, not the image user's


def test_container_removed_and_image_runs_as_non_root(checkout_run: Launch, docker_engine):
    assert containers(docker_engine) == []
    config = json.loads(docker_engine.docker("image", "inspect", checkout_run.image()).stdout)
    assert config[0]["Config"]["User"] == "tcup"
    assert config[0]["Config"]["Entrypoint"][:1] == ["nox"]


@pytest.mark.parametrize("case", ["wrong password", "nothing selected"])
def test_exit_code_is_the_runs(case, launch, member_cloud, tmp_path, docker_engine):
    if case == "wrong password":
        run = launch(cloud={**member_cloud, "OS_PASSWORD": "canary-wrong-Xq7"})
        expected = ExitCode.AUTH_FAILED
        assert "canary-wrong-Xq7" not in run.output + everything_in(run.results)
    else:
        bogus = tmp_path / "bogus.txt"
        bogus.write_text("tempest.api.identity.v3.test_nothing.NoTest.test_none\n")
        run = launch("--test-list", str(bogus))
        expected = ExitCode.NOTHING_SELECTED
    assert run.returncode == expected, run.output
    assert f"(exit code {int(expected)})" in run.output
    assert containers(docker_engine) == []


def test_interrupted_run_leaves_no_container_and_no_secret(
        docker_engine, member_cloud, test_list, testbed, tmp_path, checkout_run):
    """Catch the container mid-run (its keystone requests are held), look at everything
    docker shows about it, then Ctrl-C the launcher."""
    password = member_cloud["OS_PASSWORD"]
    proxy = GatedProxy(testbed.auth_url)
    env = user_env(docker_engine, tmp_path, {**member_cloud, "OS_AUTH_URL": proxy.url})
    proc = subprocess.Popen(launcher_argv(LAUNCHER, tmp_path / "results", test_list), env=env,
                            cwd=tmp_path, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        wait_for(proxy.reached.is_set, timeout=600, what="the container's first request")
        [container] = containers(docker_engine)
        inspect = docker_engine.docker("inspect", container).stdout
        logs = docker_engine.docker("logs", container)
        top = docker_engine.docker("top", container, "-o", "pid,args").stdout
        for shown in (inspect, logs.stdout, logs.stderr, top):
            assert password not in shown
        assert "OS_PASSWORD" not in inspect
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=120)
    finally:
        proxy.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED, output.decode(errors="replace")
    assert containers(docker_engine) == []
    assert password.encode() not in output
    history = docker_engine.docker("history", "--no-trunc", checkout_run.image()).stdout
    assert history and password not in history


def test_password_prompted_on_the_terminal_is_shown_nowhere(
        docker_engine, member_cloud, test_list, tmp_path, checkout_run):
    password = member_cloud["OS_PASSWORD"]
    cloud = {k: v for k, v in member_cloud.items() if k != "OS_PASSWORD"}
    env = user_env(docker_engine, tmp_path, cloud)
    code, shown = pty_run(launcher_argv(LAUNCHER, tmp_path / "results", test_list), env,
                          tmp_path, answers={b"Password for": password.encode() + b"\n"})
    assert code == 0, shown.decode(errors="replace")
    assert b"Password for tcup-member" in shown
    assert password.encode() not in shown
    assert outcomes(tmp_path / "results")
    assert password not in everything_in(tmp_path / "results")
    assert containers(docker_engine) == []


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The released package's stand-in: a wheel of this tree (nothing is published yet)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "tcup_pytest", "tests_api", "tests_whitebox"):
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(work / "dist"), str(src)], check=True, timeout=600)
    [built] = (work / "dist").glob("tcup_pytest-*.whl")
    return built


def test_downloaded_file_and_checkout_make_the_same_run(launch, checkout_run, wheel,
                                                        tmp_path, docker_engine):
    """The single file, alone in a directory, builds from the package and runs the same."""
    alone = tmp_path / "download" / "tcup.py"
    alone.parent.mkdir()
    shutil.copy(LAUNCHER, alone)
    run = launch("--package", str(wheel), script=alone, cwd=alone.parent)
    assert run.returncode == 0, run.output
    assert run.image() != checkout_run.image()
    assert outcomes(run.results) == outcomes(checkout_run.results)
    assert refstack_names(run.results) == refstack_names(checkout_run.results)
    images = [json.loads(docker_engine.docker("image", "inspect", i).stdout)[0]["Config"]
              for i in (run.image(), checkout_run.image())]
    assert images[0]["Entrypoint"] == images[1]["Entrypoint"]
    assert images[0]["User"] == images[1]["User"] == "tcup"


def test_build_failure_names_the_failing_step(launch, docker_engine):
    run = launch("--base-image", "localhost/absent:none", "--build-only")
    assert run.returncode == ExitCode.DOCKER, run.output
    [line] = [x for x in run.output.splitlines() if x.startswith("tcup.py: error:")]
    assert "image build failed at Step 2/" in line and "FROM ${BASE_IMAGE}" in line
    assert "Traceback" not in run.output


def test_debug_starts_a_shell_with_the_current_directory(docker_engine, member_cloud,
                                                         tmp_path, checkout_run):
    (tmp_path / "marker.txt").write_text("from-the-host\n")
    env = user_env(docker_engine, tmp_path, member_cloud)
    argv = [sys.executable, str(LAUNCHER), "--base-image", BASE_IMAGE, "--debug"]
    code, shown = pty_run(argv, env, tmp_path, answers={
        b"/work/src": b"cat /work/src/marker.txt; echo uid=$(id -u); exit 7\n"})
    text = shown.decode(errors="replace")
    assert code == 7, text
    assert "from-the-host" in text and f"uid={os.getuid()}" in text
    assert member_cloud["OS_PASSWORD"] not in text
    assert containers(docker_engine) == []


def test_signed_upload_from_the_container(launch, refstack_server, signing_key,
                                          docker_engine):
    """--url instead of the public RefStack; the key reaches the container on its stdin."""
    run = launch("--url", refstack_server.url, "--sign", str(signing_key))
    assert run.returncode == 0, run.output
    [line] = [x for x in run.output.splitlines() if x.startswith("uploaded to ")]
    test_id = line.rsplit(" ", 1)[1]
    assert refstack_server.query("SELECT name, uuid FROM results WHERE test_id = %s",
                                 (test_id,)) == [
        ("tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token",
         "6f8e4436-fc96-4282-8122-e41df57197a9")]
    assert "private until you share it" in run.output
    key_body = signing_key.read_text().splitlines()[1]
    assert key_body not in run.output + everything_in(run.results)
    assert containers(docker_engine) == []


def test_rerun_into_the_same_results_directory(launch, tmp_path, docker_engine):
    """A second run over the first one's (0600) files works; all stay the user's files."""
    results = tmp_path / "same"
    first = launch("--results", str(results))
    second = launch("--results", str(results))
    assert (first.returncode, second.returncode) == (0, 0), second.output
    assert outcomes(results)
    for path in [results, *results.rglob("*")]:
        assert path.stat().st_uid == os.getuid()
    assert containers(docker_engine) == []
