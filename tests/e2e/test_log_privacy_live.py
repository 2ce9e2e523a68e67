"""No client address in what a real gunicorn writes, at its most talkative (LOG_LEVEL=debug,
the access log on); the request log's lines queued at a stop are written."""

import signal
import socket

import pytest

from tests.servers import RedisServer, gunicorn_service, http_get

pytestmark = pytest.mark.e2e
BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"}


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_gunicorns_lines_and_ours_name_no_client(tmp_path, worker_class):
    redis = RedisServer(tmp_path / "redis").start()
    web = gunicorn_service(
        tmp_path,
        redis.url,
        LOG_LEVEL="debug",
        ACCESS_LOG="-",
        WEB_CONCURRENCY="1",
        WEB_WORKER_CLASS=worker_class,
    )
    try:
        with socket.create_connection(("127.0.0.1", web.port), timeout=5) as garbage:
            garbage.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # gunicorn: "Invalid request from ip="
            garbage.recv(4096)
        assert http_get(f"{web.url}/count", headers=BROWSER)[2] == "Visitor count: 1"
        # A path that would forge an access log line, drive a terminal, make the log binary.
        http_get(f"{web.url}/e/x%0AGET%20/forged%20200%200%200.0s%0D%1B%5B31m%00")
    finally:
        web.stop(sig=signal.SIGTERM)  # the worker writes out its queue on the way out
        redis.stop()
    log = web.log.read_text()
    assert "Invalid request from ip=[address]" in log
    assert "visitorsite.request: GET count 200 " in log  # the request log, written at the stop
    assert "GET /count 200 " in log  # the access log
    assert "/e/x\\x0aGET /forged 200 0 0.0s\\x0d\\x1b[31m\\x00 " in log  # one line, escaped
    assert not any(line.startswith("GET /forged") for line in log.splitlines())
    assert "\x00" not in log
    assert "\x1b" not in log
    named = [line for line in log.splitlines() if "127.0.0.1" in line]  # the servers' own
    assert named
    assert all(("Listening at: " in line or "Redis: " in line) for line in named), named
