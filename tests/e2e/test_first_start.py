"""A newcomer's first start: README's run command, on a fresh data directory, twice."""

import re
import shlex
import socket
import subprocess
import sys
import time

import pytest

from counter.embedded import EmbeddedRedis
from tests.servers import REPO, WebServer, base_env, free_port, http_get

pytestmark = pytest.mark.e2e


def readme_command(purpose: str) -> list[str]:
    readme = (REPO / "README.md").read_text()
    match = re.search(rf"^\$ (.+?)  # {purpose}", readme, re.MULTILINE)
    assert match, f"README.md has no command line for {purpose!r}"
    return shlex.split(match.group(1))


def test_readme_names_both_commands():
    assert readme_command("sets up and runs the service") == ["make", "run"]
    assert readme_command("sets up and passes the tests") == ["make", "test"]


def _run_service(tmp_path, data_dir, port) -> WebServer:
    command = readme_command("sets up and runs the service")
    if sys.prefix != sys.base_prefix:  # reuse the venv the tests run in
        command.append(f"VENV={sys.prefix}")
    env = base_env(DATA_DIR=str(data_dir), BIND=f"127.0.0.1:{port}")
    return WebServer(command, env=env, port=port, log=tmp_path / "service.log").start()


def test_run_command_serves_on_embedded_redis_and_count_survives_restart(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    service = _run_service(tmp_path, data_dir, port)
    try:
        status, _, body = http_get(service.url + "/")
        assert status == 200
        assert "Welcome to my App!" in body
        assert http_get(service.url + "/count")[2] == "Visitor count: 1"
        assert http_get(service.url + "/count")[2] == "Visitor count: 2"
    finally:
        service.stop()  # Ctrl-C: gunicorn and the embedded Redis stop together

    embedded = EmbeddedRedis(data_dir)
    assert not embedded.answers(), "the embedded Redis should stop with the service"
    log = (tmp_path / "service.log").read_text()
    assert re.search(rf"embedded Valkey 9\.[\d.]+ started at unix://{embedded.socket_path}", log)
    assert f"in {data_dir}" in log

    service = _run_service(tmp_path, data_dir, port)
    try:
        assert http_get(service.url + "/count")[2] == "Visitor count: 3"

        embedded.stop()  # Redis gone under a running service: fast 503s, no restart inside
        for _ in range(4):  # a request, whichever worker thread answers
            started = time.monotonic()
            status, headers, body = http_get(service.url + "/count")
            assert (status, time.monotonic() - started < 1.0) == (503, True)
            assert headers["Retry-After"]
            assert "Traceback" not in body

        manage = [sys.executable, "manage.py", "embedded_redis", "start"]
        env = base_env(DATA_DIR=str(data_dir))
        subprocess.run(manage, cwd=REPO, env=env, check=True, capture_output=True)
        assert http_get(service.url + "/count")[2] == "Visitor count: 4"
    finally:
        service.stop()
        embedded.stop()


def test_run_command_on_a_taken_port_fails_fast_and_leaves_no_server(tmp_path):
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = readme_command("sets up and runs the service")
        if sys.prefix != sys.base_prefix:
            command.append(f"VENV={sys.prefix}")
        env = base_env(DATA_DIR=str(data_dir), BIND=f"127.0.0.1:{port}")
        started = time.monotonic()
        result = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60
        )
        elapsed = time.monotonic() - started
    assert result.returncode != 0
    assert elapsed < 10
    errors = [line for line in result.stderr.splitlines() if "visitorsite:" in line]
    assert errors == [
        f"visitorsite: cannot listen on 127.0.0.1:{port} (Address already in use); "
        f"choose another address, e.g. BIND=127.0.0.1:{port + 1} make run"
    ]
    assert "Connection in use" not in result.stderr  # gunicorn's five retries never ran
    assert not EmbeddedRedis(data_dir).answers()
