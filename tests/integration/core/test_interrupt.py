"""Ctrl-C during a test that created resources leaves nothing behind in keystone/glance."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tcup_pytest.testbed import ADMIN_CLOUD

INNER = '''
import os, pathlib, time
from tcup_pytest.plugins.cloud import unique_name


def test_creates_then_hangs(admin_conn, resource_cleanup):
    name = unique_name("tcup-sigint-{tag}")
    project = admin_conn.identity.create_project(name=name, domain_id="default")
    resource_cleanup.add("project " + name, admin_conn.identity.delete_project, project)
    image = admin_conn.image.create_image(name=name, data=b"x" * 1024, disk_format="raw",
                                          container_format="bare", allow_duplicates=True)
    resource_cleanup.add("image " + name, admin_conn.image.delete_image, image)
    pathlib.Path("created").write_text(name)
    time.sleep(120)
'''


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_sigint_mid_test_deletes_what_the_test_created(testbed, admin, tmp_path, workers,
                                                       clean_env):
    tag = "x" if workers else "s"
    (tmp_path / "test_inner.py").write_text(INNER.replace("{tag}", tag))
    argv = [sys.executable, "-m", "pytest", *workers, "-p", "no:cacheprovider", "test_inner.py"]
    proc = subprocess.Popen(argv, cwd=tmp_path, env=clean_env(testbed.env(ADMIN_CLOUD)),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    marker = tmp_path / "created"
    deadline = time.monotonic() + 120
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert marker.exists(), proc.communicate(timeout=30)[0][-3000:]
    name = marker.read_text()
    assert admin.identity.find_project(name) is not None  # it really existed
    os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole process group
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert admin.identity.find_project(name) is None, output[-3000:]
    assert admin.image.find_image(name) is None, output[-3000:]
