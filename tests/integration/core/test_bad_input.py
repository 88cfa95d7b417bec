"""What a user gets wrong gives one line, its own exit code and no traceback."""

import http.server
import ssl
import threading
from datetime import UTC, datetime, timedelta

import pytest

from tcup_pytest.errors import ExitCode
from tcup_pytest.testbed import MEMBER_CLOUD


def assert_one_line(result, code: ExitCode, text: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    assert result.stderr.startswith("tcup: error: ") and result.stderr.count("\n") == 1, \
        result.stderr
    assert text in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_wrong_password_is_auth_failed(testbed, run):
    env = {**testbed.env(MEMBER_CLOUD), "OS_PASSWORD": "wrong-password-canary"}
    result = run("tcup_pytest.cli", "config", "show", "--check", env=env)
    assert_one_line(result, ExitCode.AUTH_FAILED, "rejected the credentials")
    assert "wrong-password-canary" not in result.stdout + result.stderr


def test_wrong_password_stops_a_pytest_run_before_tests(testbed, run, tmp_path):
    (tmp_path / "test_x.py").write_text("def test_x(conn):\n    raise SystemExit('ran')\n")
    env = {**testbed.env(MEMBER_CLOUD), "OS_PASSWORD": "wrong-password-canary"}
    result = run("pytest", "-p", "no:cacheprovider", "test_x.py", env=env)
    assert result.returncode == ExitCode.AUTH_FAILED
    assert "rejected the credentials" in result.stdout + result.stderr
    assert "ran" not in result.stdout


def test_an_auth_url_that_is_not_keystone(testbed, run):
    env = {**testbed.env(MEMBER_CLOUD), "OS_AUTH_URL": testbed.url("placement")}
    result = run("tcup_pytest.cli", "config", "show", "--check", env=env)
    assert_one_line(result, ExitCode.CLOUD_UNREACHABLE, "does not answer like a keystone")


def test_an_auth_url_that_refuses_connections(testbed, run):
    from tcup_pytest.testbed.base import free_port

    env = {**testbed.env(MEMBER_CLOUD), "OS_AUTH_URL": f"http://127.0.0.1:{free_port()}/v3"}
    result = run("tcup_pytest.cli", "config", "show", "--check", env=env)
    assert_one_line(result, ExitCode.CLOUD_UNREACHABLE, "cannot connect to the auth URL")


@pytest.fixture
def tls_server(tmp_path):
    """A real HTTPS server on loopback with a self-signed certificate (no keystone behind)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}/v3", cert_path
    server.shutdown()
    server.server_close()


def test_tls_failure_hints_at_cacert(testbed, run, tls_server):
    url, cert = tls_server
    env = {**testbed.env(MEMBER_CLOUD), "OS_AUTH_URL": url}
    result = run("tcup_pytest.cli", "config", "show", "--check", env=env)
    assert_one_line(result, ExitCode.TLS, "OS_CACERT")
    # with the right CA the TLS handshake works, and the server is found not to be keystone
    result = run("tcup_pytest.cli", "config", "show", "--check",
                 env={**env, "OS_CACERT": str(cert)})
    assert_one_line(result, ExitCode.CLOUD_UNREACHABLE, "does not answer like a keystone")
