"""The pytest layer: reports are scrubbed, leftovers named, a broken config stops the run."""

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(__import__("os").environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "none.yaml"))


def test_registered_secret_never_reaches_terminal_or_junit(pytester, clean_env):
    pytester.makepyfile("""
        import logging
        from tcup_pytest.redaction import register

        def test_leaks():
            register("plugin-canary-991")
            print("stdout plugin-canary-991")
            logging.getLogger("x").warning("log plugin-canary-991")
            assert "plugin-canary-991" == "other", "msg plugin-canary-991"
    """)
    result = pytester.runpytest("-rA", "--junitxml=out.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    text = result.stdout.str() + result.stderr.str()
    assert "plugin-canary-991" not in text
    assert "***" in text
    assert "plugin-canary-991" not in (pytester.path / "out.xml").read_text()


def test_identity_properties_reach_junit(pytester, clean_env):
    pytester.makepyfile(test_ids="""
        import pytest

        @pytest.mark.idempotent_id("2d223a0e-e457-4a70-9fb1-febe027a0ff9")
        def test_one():
            pass
    """)
    result = pytester.runpytest("--junitxml=out.xml", "-k", "2d223a0e")
    result.assert_outcomes(passed=1)
    xml = (pytester.path / "out.xml").read_text()
    assert 'name="uuid" value="2d223a0e-e457-4a70-9fb1-febe027a0ff9"' in xml
    assert 'name="test_name" value="test_ids.test_one"' in xml


def test_a_bad_uuid_is_a_usage_error(pytester, clean_env):
    pytester.makepyfile("""
        import pytest

        @pytest.mark.idempotent_id("not-a-uuid")
        def test_one():
            pass
    """)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not a uuid" in result.stderr.str()


def test_failed_deleter_is_named_at_the_end(pytester, clean_env):
    pytester.makepyfile("""
        def test_creates(resource_cleanup):
            def delete():
                raise RuntimeError("quota backend down")
            resource_cleanup.add("image tcup-img-1", delete)
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*resources left behind*",
                                 "image tcup-img-1: RuntimeError: quota backend down",
                                 "1 resource(s) could not be deleted*"])


def test_failed_deleter_is_named_under_xdist(pytester, clean_env):
    pytester.makepyfile("""
        def test_creates(resource_cleanup):
            resource_cleanup.add("volume v1", lambda: 1 / 0)
    """)
    result = pytester.runpytest("-n", "2", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["volume v1: ZeroDivisionError: division by zero"])


def test_missing_variables_stop_the_run_before_any_test(pytester, clean_env, monkeypatch):
    monkeypatch.setenv("OS_AUTH_URL", "http://127.0.0.1:9/v3")
    pytester.makepyfile("def test_never(): raise SystemExit('ran')")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 10
    output = result.stdout.str() + result.stderr.str()
    assert "missing: OS_USERNAME" in output and "OS_PASSWORD" in output
    assert "Traceback" not in output
    assert "ran" not in output


def test_unreachable_cloud_stops_the_run_with_its_code(pytester, clean_env, monkeypatch):
    from tcup_pytest.testbed.base import free_port

    for key, value in {"OS_AUTH_URL": f"http://127.0.0.1:{free_port()}/v3",
                       "OS_USERNAME": "u", "OS_PASSWORD": "pw-unreach-1",
                       "OS_PROJECT_NAME": "p", "OS_USER_DOMAIN_NAME": "Default",
                       "OS_PROJECT_DOMAIN_NAME": "Default"}.items():
        monkeypatch.setenv(key, value)
    pytester.makepyfile("def test_never(conn): pass")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == 11
    assert "cannot connect to the auth URL" in result.stdout.str() + result.stderr.str()


def test_without_any_cloud_a_cloud_fixture_fails_with_one_line(pytester, clean_env):
    pytester.makepyfile("def test_needs(conn): pass")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*cloud configuration incomplete, missing: OS_AUTH_URL*"])


def test_ini_keys_name_the_cloud_and_require_it(pytester, clean_env, tmp_path, monkeypatch):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n  inicloud:\n    auth:\n      auth_url: http://127.0.0.1:9/v3\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    pytester.makeini("[pytest]\ntcup_os_cloud = inicloud\ntcup_require_cloud = true\n")
    pytester.makepyfile("def test_never(): pass")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                           f"--rootdir={pytester.path}")
    assert result.ret == 10
    output = result.stdout.str() + result.stderr.str()
    assert "not found" not in output  # the ini named it, and it was found
    assert "missing: OS_USERNAME" in output and "Add them to cloud 'inicloud'" in output
