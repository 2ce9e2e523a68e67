"""Fetching a claim's proof over HTTPS: from the address that was checked, and with the
certificate checked against the host name (a loopback TLS site with a certificate made here)."""

import http.server
import shutil
import ssl
import subprocess
import threading

import pytest

from counter.domain.claims import ProofError, fetch_proof

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="needs the openssl command")


class _Proof(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"visitorsite-proof=abc\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_site(tmp_path, monkeypatch, settings):
    """An HTTPS site on 127.0.0.1 whose certificate names "localhost" only, trusted here."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the default context trusts it
    settings.CLAIM_PRIVATE_ADDRESSES = True
    server = http.server.HTTPServer(("127.0.0.1", 0), _Proof)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_a_proof_is_fetched_over_tls_from_the_checked_address(tls_site):
    assert fetch_proof(f"https://localhost:{tls_site}/claim.txt") == "visitorsite-proof=abc\n"


def test_a_certificate_for_another_name_is_refused(tls_site):
    with pytest.raises(ProofError, match="could not be fetched"):
        fetch_proof(f"https://127.0.0.1:{tls_site}/claim.txt")  # the certificate says localhost


def test_the_connection_goes_to_the_checked_address_not_a_new_look_up(tls_site, monkeypatch):
    import socket

    looked_up = []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        looked_up.append(host)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    fetch_proof(f"https://localhost:{tls_site}/claim.txt")
    # The name once, by the check; the connection went to the address that check answered.
    assert looked_up == ["localhost", "127.0.0.1"]
