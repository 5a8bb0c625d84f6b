"""Openers for the function's own requests: plain HTTP loads no CA bundle, HTTPS verifies with one context."""

import ssl
import threading
import urllib.error
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core import http_opener


class _Local(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "https://127.0.0.1:9/elsewhere")
            self.end_headers()
            return
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def local():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Local)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ca_loads(monkeypatch):
    """How many times a TLS context loads the system's CA bundle (the ~50 ms the plain-HTTP path avoids)."""
    loads = []
    original = ssl.SSLContext.load_default_certs
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", lambda self, *a: loads.append(1) or original(self, *a))
    monkeypatch.setattr(http_opener, "_context", None)
    return loads


def test_plain_http_loads_no_ca_bundle(local, ca_loads):
    with http_opener.opener_for(local + "/").open(local + "/", timeout=5) as reply:
        assert reply.read() == b"ok"
    with http_opener.opener_for(local, proxies={}).open(local + "/", timeout=5) as reply:
        assert reply.read() == b"ok"
    assert ca_loads == []


def test_a_redirect_from_plain_http_to_https_is_not_followed_unverified(local, ca_loads):
    with pytest.raises(urllib.error.URLError, match="unknown url type: https"):
        http_opener.opener_for(local).open(local + "/redirect", timeout=5)
    assert ca_loads == []


def test_https_verifies_with_one_context_per_process(ca_loads):
    first = http_opener.opener_for("https://xray.us-east-1.amazonaws.com/v1/traces")
    http_opener.opener_for("https://secretsmanager.us-east-1.amazonaws.com/")
    contexts = [h._context for h in first.handlers if isinstance(h, http_opener.urllib.request.HTTPSHandler)]
    assert len(contexts) == 1 and contexts[0] is http_opener.tls_context()
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED and contexts[0].check_hostname
    assert ca_loads == [1]


def test_the_context_can_be_made_in_the_background(ca_loads):
    http_opener.warm_tls_context()
    for thread in threading.enumerate():
        if thread.name == "tls-context":
            thread.join(10)
    assert ca_loads == [1]
    http_opener.tls_context()
    assert ca_loads == [1]
