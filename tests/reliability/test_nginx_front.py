"""docs/nginx.conf.example, as written (only its two ports changed), run by a real nginx in
front of a real gunicorn on loopback: a request goes through, a stalled body is cut by nginx
without gunicorn ever seeing the request, and a body over the limit is refused by nginx."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.servers import REPO, RedisServer, free_port, gunicorn_service, wait_until

pytestmark = pytest.mark.e2e

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
EXAMPLE = REPO / "docs" / "nginx.conf.example"
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _templated(port: int, upstream: int) -> str:
    """The example with its listen port and gunicorn's port replaced, and nothing else."""
    text = EXAMPLE.read_text()
    assert text.count("listen 80;") == 1
    assert text.count("server 127.0.0.1:8000;") == 1
    return text.replace("listen 80;", f"listen 127.0.0.1:{port};").replace(
        "server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"
    )


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    """gunicorn (trusting the proxy) behind nginx running the example: (nginx port, web)."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    workdir = tmp_path_factory.mktemp("nginx-front")
    redis = RedisServer(workdir / "redis").start()
    web = nginx = None
    try:
        web = gunicorn_service(workdir / "web", redis.url, TRUSTED_PROXIES="127.0.0.1")
        port = free_port()
        (workdir / "site.conf").write_text(_templated(port, web.port))
        user = "user root root;\n" if os.getuid() == 0 else ""  # reads its files as we do
        (workdir / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {workdir}/nginx.pid;\n"
            f"error_log {workdir}/nginx-error.log info;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"  access_log off;\n  client_body_temp_path {workdir}/body;\n"
            f"  proxy_temp_path {workdir}/proxy;\n  fastcgi_temp_path {workdir}/fastcgi;\n"
            f"  uwsgi_temp_path {workdir}/uwsgi;\n  scgi_temp_path {workdir}/scgi;\n"
            f"  include {workdir}/site.conf;\n"
            "}\n"
        )
        nginx = subprocess.Popen(
            [NGINX, "-p", str(workdir), "-e", str(workdir / "nginx-error.log"),
             "-c", str(workdir / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

        def listening() -> bool:
            if nginx.poll() is not None:
                raise RuntimeError((workdir / "nginx-error.log").read_text()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            except OSError:
                return False
            return True

        wait_until(listening, timeout=15, what="nginx to listen")
        yield port, web, redis
    finally:
        if nginx is not None:
            nginx.send_signal(signal.SIGQUIT)  # graceful, as `nginx -s quit`
            try:
                nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                nginx.kill()
                nginx.wait()
        if web is not None:
            web.stop(sig=15)
        redis.stop()


def _ask(port: int, data: bytes, timeout: float) -> tuple[float, bytes]:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return time.monotonic() - start, received


def test_a_request_goes_through_the_proxy(front):
    port, _web, _redis = front
    request = (
        f"GET /count/nginx/front HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {AGENT}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    _, first = _ask(port, request, timeout=5)
    _, second = _ask(port, request, timeout=5)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n"), first[:200]
    assert first.endswith(b"Visitor count: 1")
    assert second.endswith(b"Visitor count: 2")


def test_a_stalled_body_is_cut_by_nginx_and_never_reaches_gunicorn(front):
    port, web, redis = front
    head = (
        "POST /e/nginx-slow.example HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"User-Agent: {AGENT}\r\nContent-Type: text/plain\r\nContent-Length: 500\r\n\r\n/"
    ).encode()
    log_start = len(web.log.read_bytes())
    elapsed, answer = _ask(port, head, timeout=15)
    assert 4.5 < elapsed < 8  # client_body_timeout 5s: nginx, not gunicorn's 10 s deadline
    assert not answer.startswith(b"HTTP/1.1 2")
    time.sleep(0.5)  # the request log writes within a moment
    assert "POST" not in web.log.read_bytes()[log_start:].decode()  # no request logged
    client = redis.client()
    try:
        assert list(client.scan_iter(match="*nginx-slow.example*")) == []
    finally:
        client.close()


def test_a_body_over_the_limit_is_refused_by_nginx(front):
    port, _web, _redis = front
    head = (
        b"POST /e/nginx-large.example HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(head)  # headers alone: nginx answers at once, then waits a while
        answer = sock.recv(65536)  # for the body it will drop (lingering close)
    assert answer.startswith(b"HTTP/1.1 413 ")
