"""The embedded default: one real redis-server per data directory, persistent, shared."""

import multiprocessing
import subprocess
from pathlib import Path

import pytest

from visitorsite.embedded_redis import EmbeddedRedis, find_redis_server

pytestmark = pytest.mark.real_redis


@pytest.fixture
def embedded(tmp_path):
    server = EmbeddedRedis(tmp_path / "data")
    yield server
    server.stop()


def _start(data_dir: str, results) -> None:
    results.put(EmbeddedRedis(Path(data_dir)).ensure_running())


def _server_processes(server: EmbeddedRedis) -> list[str]:
    """redis-server processes listening on this server's socket (their title names it)."""
    out = subprocess.run(
        ["ps", "-ww", "-eo", "stat,args"], capture_output=True, text=True, check=True
    )
    return [
        line
        for line in out.stdout.splitlines()
        if f"unixsocket:{server.socket_path}" in line and not line.startswith("Z")
    ]


def test_binary_is_found():
    version = subprocess.run([find_redis_server(), "--version"], capture_output=True, text=True)
    assert "Redis server v=" in version.stdout


def test_concurrent_starts_give_exactly_one_server(embedded):
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    starters = [
        context.Process(target=_start, args=(str(embedded.data_dir), results)) for _ in range(6)
    ]
    for process in starters:
        process.start()
    for process in starters:
        process.join(30)
    started = sorted(results.get(timeout=5) for _ in starters)
    assert started == [False] * 5 + [True]
    assert len(_server_processes(embedded)) == 1


def test_counts_survive_a_stop_and_start_with_aof(embedded):
    assert embedded.ensure_running() is True
    client = embedded.client()
    client.incrby("probe", 7)
    client.close()
    assert (embedded.data_dir / "appendonly.aof").exists()
    assert embedded.stop() is True
    assert not embedded.answers()
    assert embedded.ensure_running() is True
    client = embedded.client()
    assert client.get("probe") == b"7"
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    client.close()


def test_stop_when_not_running_says_so(embedded):
    assert embedded.stop() is False


def test_long_data_dir_falls_back_to_a_short_socket_path(tmp_path):
    server = EmbeddedRedis(tmp_path / ("d" * 120))
    assert len(str(server.socket_path)) <= 100
    assert server.ensure_running() is True
    try:
        assert server.answers()
    finally:
        server.stop()


def test_cache_uses_the_embedded_server_when_no_redis_url(settings, tmp_path, client):
    settings.DATA_DIR = tmp_path / "site"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "unix://embedded",
            "KEY_PREFIX": "visitorsite",
            "OPTIONS": {
                "CONNECTION_FACTORY": "visitorsite.embedded_redis.EmbeddedConnectionFactory",
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.5,
            },
        }
    }
    server = EmbeddedRedis(tmp_path / "site")
    try:
        assert client.get("/count").content == b"Visitor count: 1"
        assert server.answers()
        raw = server.client()
        assert raw.get("visitorsite:1:c:{default/visitor_count}:n") == b"1"
        raw.close()
    finally:
        server.stop()
