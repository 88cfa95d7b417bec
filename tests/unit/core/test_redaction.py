"""The redactor masks registered secrets and the patterns of secrets it never saw."""

import logging

import pytest

from tcup_pytest.redaction import MASK, RedactingFilter, Redactor


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


def test_registered_secret_is_masked_everywhere_in_text(redactor):
    redactor.register("canary-Pw-7781")
    assert redactor.redact("a canary-Pw-7781 b canary-Pw-7781") == f"a {MASK} b {MASK}"


def test_url_encoded_and_json_escaped_forms_are_masked(redactor):
    redactor.register('p@ss w"rd/1')
    assert "p%40ss" not in redactor.redact("http://x/?pw=p%40ss%20w%22rd%2F1")
    assert "p@ss" not in redactor.redact('{"pw": "p@ss w\\"rd/1"}')


def test_short_secrets_do_not_turn_output_into_asterisks(redactor):
    redactor.register("ab")
    redactor.register("abc")
    assert redactor.redact("abc abstract table") == "abc abstract table"


def test_longer_secret_containing_a_shorter_one_is_masked_whole(redactor):
    redactor.register("secret")
    redactor.register("secret-and-more")
    assert redactor.redact("x secret-and-more y") == f"x {MASK} y"


@pytest.mark.parametrize(("text", "leaked"), [
    ("X-Auth-Token: gAAAAABkZ9abcdef", "gAAAAABkZ9abcdef"),
    ("x-subject-token: gAAAAAB123456", "gAAAAAB123456"),
    ("{'X-Auth-Token': 'gAAAAAtoken99'}", "gAAAAAtoken99"),
    ('{"auth": {"password": "hunter2-unseen"}}', "hunter2-unseen"),
    ('{"application_credential_secret": "appsecret-x1"}', "appsecret-x1"),
    ("mysql+pymysql://nova:dbpass-unseen@10.0.0.1/nova", "dbpass-unseen"),
    ("export OS_PASSWORD=envpass-unseen", "envpass-unseen"),
    ("OS_TOKEN='tok-unseen-1'", "tok-unseen-1"),
    ("admin_password = inipass-unseen", "inipass-unseen"),
    ("openstack --os-password clipass-unseen server list", "clipass-unseen"),
])
def test_patterns_mask_secrets_never_registered(redactor, text, leaked):
    clean = redactor.redact(text)
    assert leaked not in clean
    assert MASK in clean


def test_keystoneauth_hashed_token_header_is_left_readable(redactor):
    line = "X-Auth-Token: {SHA256}0123abcd"
    assert redactor.redact(line) == line


def test_ordinary_text_is_untouched(redactor):
    text = "GET http://127.0.0.1:5000/v3/projects 200 OK; token expires 2026-12-02"
    assert redactor.redact(text) == text


def test_logging_filter_redacts_message_args_and_traceback(redactor, caplog):
    redactor.register("log-canary-55")
    logger = logging.getLogger("tcup.test.redaction")
    handler_filter = RedactingFilter(redactor)
    caplog.handler.addFilter(handler_filter)
    try:
        raise ValueError("boom log-canary-55")
    except ValueError:
        logger.exception("login as %s with %s", "bob", "log-canary-55")
    caplog.handler.removeFilter(handler_filter)
    assert "log-canary-55" not in caplog.text
    assert "login as bob with ***" in caplog.text
    assert "ValueError: boom ***" in caplog.text


def test_secrets_list_round_trips_to_another_redactor(redactor):
    redactor.register("worker-canary-1")
    other = Redactor()
    other.register_all(redactor.secrets)
    assert other.redact("worker-canary-1") == MASK


def test_report_sections_seen_before_a_secret_was_registered_are_masked_after():
    """Masked sections are cached (each phase repeats the earlier ones): registering a secret
    must still reach a section that was already masked once."""
    from types import SimpleNamespace

    from tcup_pytest.plugins.redaction import scrub_report
    from tcup_pytest.redaction import REDACTOR

    section = "login as admin with canary-late-Pw-5521"

    def scrubbed() -> str:
        report = SimpleNamespace(longrepr=None, sections=[("Captured log call", section)])
        scrub_report(report)
        return report.sections[0][1]

    saved = REDACTOR.secrets
    try:
        assert scrubbed() == section
        REDACTOR.register("canary-late-Pw-5521")
        assert scrubbed() == f"login as admin with {MASK}"
    finally:
        REDACTOR.clear()
        REDACTOR.register_all(saved)
