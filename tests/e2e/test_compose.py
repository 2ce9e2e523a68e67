"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The compose file is validated against the Compose Specification, its wiring is asserted, and
the very commands it runs (valkey-server's arguments, the web command) are started on loopback,
with the binary the embedded default runs: compose's image is of the same major version.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from counter.embedded import find_redis_server, server_version
from tests.servers import REPO, RedisServer, gunicorn_service, http_get

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert path, f"{name} is not installed (requirements-dev.txt)"
    return path


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.sentinel.yml"])
def test_compose_files_follow_the_compose_specification(name):
    command = [_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", name]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_sentinel_compose_wiring(compose):
    services = yaml.safe_load((REPO / "docker-compose.sentinel.yml").read_text())["services"]
    web = services["web"]
    sentinels = web["environment"]["REDIS_SENTINELS"].split(",")
    assert sentinels == [f"{name}:26379" for name in ("sentinel-1", "sentinel-2", "sentinel-3")]
    assert all(name.split(":")[0] in services for name in sentinels)
    assert "--replicaof" in services["redis-replica"]["command"]
    assert web["command"] == compose["services"]["web"]["command"]


def test_compose_wiring(compose):
    services = compose["services"]
    assert set(services) == {"web", "redis"}
    redis, web = services["redis"], services["web"]

    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert web["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "5000:8000" in web["ports"]
    assert web["restart"] == redis["restart"] == "unless-stopped"
    assert "/readyz" in " ".join(web["healthcheck"]["test"])
    assert redis["healthcheck"]["test"] == ["CMD", "valkey-cli", "ping"]

    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    data_dir = command[command.index("--dir") + 1]
    assert f"redis-data:{data_dir}" in redis["volumes"]
    assert set(compose["volumes"]) >= {"redis-data", "web-data"}


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.sentinel.yml"])
def test_compose_runs_the_valkey_version_the_tests_run(name):
    """What is tested is what is deployed: compose's image tag names the major.minor version
    of the binary the embedded default and every real-server test run."""
    services = yaml.safe_load((REPO / name).read_text())["services"]
    tested = server_version(find_redis_server())
    assert tested.name == "Valkey"
    for service in services.values():
        image = service.get("image")
        if image is None:
            continue  # the web image, built from the Dockerfile
        repository, tag = image.split(":")
        assert repository == "valkey/valkey"
        assert tag.split("-")[0] == ".".join(map(str, tested.version[:2])), image


def test_web_command_is_the_readme_and_dockerfile_production_command(compose):
    command = compose["services"]["web"]["command"]
    assert " ".join(command) in (REPO / "README.md").read_text()
    dockerfile = (REPO / "Dockerfile").read_text()
    assert f"CMD {json.dumps(command)}" in dockerfile


def test_dockerfile_is_clean_under_hadolint():
    result = subprocess.run(
        [_tool("hadolint"), "Dockerfile"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_dockerfile_runs_as_non_root_with_a_healthcheck():
    dockerfile = (REPO / "Dockerfile").read_text()
    user_lines = [line for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert user_lines
    assert user_lines[-1].split()[1].split(":")[0] not in {"root", "0"}
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile


def test_compose_commands_serve_on_loopback(compose, tmp_path):
    """Start redis-server with compose's arguments and the web command, as compose would."""
    redis_command = list(compose["services"]["redis"]["command"])
    assert redis_command[0] == "valkey-server"
    redis_command[redis_command.index("--dir") + 1] = str(tmp_path / "redis-data")
    redis = RedisServer(tmp_path / "redis-data", args=tuple(redis_command[1:])).start()

    web_command = compose["services"]["web"]["command"]
    web = None
    try:
        web = gunicorn_service(tmp_path, redis.url, command=web_command)
        status, _, body = http_get(web.url + "/")
        assert status == 200
        assert "Welcome to my App!" in body
        assert http_get(web.url + "/count")[2] == "Visitor count: 1"
        assert http_get(web.url + "/count")[2] == "Visitor count: 2"
        assert redis.client().get("visitorsite:1:c:{default/visitor_count}:n") == b"2"
        assert redis.client().config_get("appendonly") == {"appendonly": "yes"}
    finally:
        if web is not None:
            web.stop(sig=15)
        redis.stop()


def _seconds(duration: str) -> float:
    """A Compose duration of whole units (``30s``, ``1m30s``) in seconds."""
    units = {"h": 3600, "m": 60, "s": 1}
    parts = re.findall(r"(\d+)([hms])", duration)
    assert "".join(n + u for n, u in parts) == duration, duration
    return sum(int(n) * units[u] for n, u in parts)


def _gunicorn_setting(name: str) -> int:
    """A setting as gunicorn.conf.py computes it with no override in the environment (in a
    child: the file patches and registers things at import)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEB_")}
    env["WEB_WORKER_CLASS"] = "sync"  # not gevent: nothing to monkey-patch for a read
    code = f"import runpy; print(runpy.run_path('gunicorn.conf.py')[{name!r}])"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.strip())


@pytest.mark.parametrize("name", ["docker-compose.yml", "docker-compose.sentinel.yml"])
def test_compose_waits_for_a_graceful_stop(name):
    """web's grace outlasts gunicorn's graceful timeout (compose's default 10 s did not: exit
    137 after 11 s), and every Redis gets time to write out its AOF."""
    services = yaml.safe_load((REPO / name).read_text())["services"]
    graceful = _gunicorn_setting("graceful_timeout")
    assert _seconds(services["web"]["stop_grace_period"]) > graceful
    for service_name, service in services.items():
        if "--appendonly" in service.get("command", []):
            assert _seconds(service.get("stop_grace_period", "10s")) > 10, service_name


def test_the_readme_describes_the_compose_healthchecks(compose):
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### docker-compose") :]
    section = section[: section.index("\n## ")]
    web_check = " ".join(compose["services"]["web"]["healthcheck"]["test"])
    (path,) = re.findall(r"/(?:healthz|readyz)", web_check)
    assert f"healthchecked on `{path}`" in section
    assert "/healthz" not in section  # the image's liveness check is not compose's
    grace = compose["services"]["web"]["stop_grace_period"]
    assert f"`web` {_seconds(grace):.0f} s" in section


def test_dockerfile_code_is_roots_and_pip_runs_quietly_as_root():
    """The app user may write its data directory, not the code it runs."""
    dockerfile = (REPO / "Dockerfile").read_text()
    copies = [line for line in dockerfile.splitlines() if line.startswith("COPY ")]
    assert copies
    assert not [line for line in copies if "--chown" in line]
    assert "chown app:app /app/var" in dockerfile
    assert "PIP_ROOT_USER_ACTION=ignore" in dockerfile
    assert "STOPSIGNAL SIGTERM" in dockerfile


RUNTIME_FILES = {"manage.py", "gunicorn.conf.py", "requirements.txt", "visitorsite/", "counter/"}


def test_dockerignore_is_an_allow_list_of_the_runtime_files():
    """Everything is ignored, then the runtime files are let in: a new file in the repository
    (a secret, a dev tool) stays out of the image unless it is named here."""
    lines = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:] for line in lines if line.startswith("!")}
    assert allowed == RUNTIME_FILES
    for name in allowed:
        assert (REPO / name).exists(), name


def test_compose_web_stops_with_exit_0_within_its_grace_with_a_live_stream_open(compose, tmp_path):
    """What ``docker-compose stop web`` does: SIGTERM to gunicorn's master (PID 1 in the
    container) alone, then SIGKILL once stop_grace_period is over. A live stream was what held
    a worker past compose's old 10 s grace (exit 137)."""
    redis_command = list(compose["services"]["redis"]["command"])
    redis_command[redis_command.index("--dir") + 1] = str(tmp_path / "redis-data")
    redis = RedisServer(tmp_path / "redis-data", args=tuple(redis_command[1:])).start()
    web = None
    try:
        web = gunicorn_service(tmp_path, redis.url, command=compose["services"]["web"]["command"])
        http_get(web.url + "/count")
        stream = socket.create_connection(("127.0.0.1", web.port), timeout=10)
        stream.sendall(b"GET /live/default/visitor_count HTTP/1.1\r\nHost: localhost\r\n\r\n")
        received = b""
        while b"retry:" not in received:
            chunk = stream.recv(4096)
            assert chunk, received
            received += chunk
        grace = _seconds(compose["services"]["web"]["stop_grace_period"])
        started = time.monotonic()
        try:
            web.process.send_signal(signal.SIGTERM)
            status = web.process.wait(timeout=grace)
        finally:
            stream.close()
        elapsed = time.monotonic() - started
        assert status == 0
        assert elapsed < grace
        print(f"stopped in {elapsed:.1f} s")  # shown with -s: the figure the docs quote
    finally:
        if web is not None:
            web.stop(sig=signal.SIGKILL)
        redis.stop()
