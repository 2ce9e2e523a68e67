"""Redis stopped: /count is a fast 503. Redis back: the next /count succeeds, count intact."""

import time

import pytest

from tests.servers import RedisServer

pytestmark = pytest.mark.real_redis


def test_count_survives_a_redis_restart(client, point_store_at, tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    try:
        point_store_at(server.url)
        assert client.get("/count").content == b"Visitor count: 1"
        assert client.get("/count").content == b"Visitor count: 2"

        server.stop()
        for _ in range(3):  # every request fails fast, not just the first
            started = time.monotonic()
            response = client.get("/count")
            assert response.status_code == 503
            assert time.monotonic() - started < 1.0
            assert response["Retry-After"]

        server.start()  # same port and directory: AOF brings the count back
        response = client.get("/count")
        assert response.status_code == 200
        assert response.content == b"Visitor count: 3"
    finally:
        server.stop()


def test_hung_redis_times_out_fast(client, point_store_at, tmp_path):
    """A Redis that accepts connections but never answers (SIGSTOP) is a 503 within 1 s."""
    import signal

    server = RedisServer(tmp_path / "redis").start()
    try:
        point_store_at(server.url)
        assert client.get("/count").status_code == 200
        server.process.send_signal(signal.SIGSTOP)
        started = time.monotonic()
        response = client.get("/count")
        assert response.status_code == 503
        assert time.monotonic() - started < 1.0
        server.process.send_signal(signal.SIGCONT)
        response = client.get("/count")
        assert response.status_code == 200
    finally:
        server.process.send_signal(signal.SIGCONT)
        server.stop()
