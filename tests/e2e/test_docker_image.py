"""The built image and compose, on a Docker engine (skipped where there is none).

What test_compose.py checks in the files, checked in what runs: the app user cannot rewrite
the code but can write its data directory, and compose stops ``web`` cleanly (exit 0) within
its grace period.
"""

import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.servers import REPO

pytestmark = pytest.mark.e2e


def _engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode == 0


def _compose_command() -> list[str] | None:
    """``docker compose`` (v2) or ``docker-compose``, whichever this machine has."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.fixture(scope="module")
def docker() -> None:
    if not _engine_answers():
        pytest.skip("no Docker engine answers (docker info)")


@pytest.fixture(scope="module")
def image(docker) -> Iterator[str]:
    tag = f"visitorsite-test:{uuid.uuid4().hex[:12]}"
    build = subprocess.run(["docker", "build", "-q", "-t", tag, str(REPO)], capture_output=True)
    assert build.returncode == 0, build.stderr.decode()
    yield tag
    subprocess.run(["docker", "image", "rm", "-f", tag], capture_output=True)


def _as_app_user(image: str, script: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "sh", image, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_is_read_only_to_the_app_user(image):
    for target in ("/app/manage.py", "/app/counter/web/views.py", "/app/new-file"):
        result = _as_app_user(image, f"touch {target}")
        assert result.returncode != 0, f"the app user could write {target}"
    assert _as_app_user(image, "id -u").stdout.strip() == "10001"


def test_the_app_user_writes_its_data_directory(image):
    result = _as_app_user(image, "touch /app/var/probe && ls /app/var/probe")
    assert result.returncode == 0, result.stderr


def test_the_image_holds_the_runtime_files_only(image):
    result = _as_app_user(image, "ls -A /app")
    assert result.returncode == 0, result.stderr
    present = set(result.stdout.split())
    assert {"manage.py", "gunicorn.conf.py", "visitorsite", "counter"} <= present
    for kept_out in ("tests", "docs", "Dockerfile", "Makefile", ".ci", "requirements-dev.txt"):
        assert kept_out not in present


@pytest.fixture
def compose_project(docker, tmp_path: Path) -> Iterator[tuple[list[str], dict]]:
    """docker-compose.yml as it is, but on a free host port and a project of its own."""
    command = _compose_command()
    if command is None:
        pytest.skip("neither docker compose nor docker-compose is installed")
    config = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    config["services"]["web"]["build"] = str(REPO)
    config["services"]["web"]["ports"] = ["127.0.0.1::8000"]
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(config))
    project = [*command, "-p", f"visitorsite-test-{uuid.uuid4().hex[:8]}", "-f", str(path)]
    yield project, config
    subprocess.run([*project, "down", "-v", "--rmi", "local"], capture_output=True, timeout=120)


def _grace(duration: str) -> float:
    assert duration.endswith("s"), duration
    return float(duration[:-1])


def _open_live_stream(port: int) -> socket.socket:
    """A live-count stream, held open: what kept a worker busy past compose's old grace."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /live/default/visitor_count HTTP/1.1\r\nHost: localhost\r\n\r\n")
    received = b""
    while b"retry:" not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    assert received.startswith(b"HTTP/1.1 200"), received
    return sock


def test_compose_stops_web_cleanly_within_its_grace(compose_project):
    """Exit status 0 (not 137, SIGKILL after the grace), a live stream open meanwhile."""
    project, config = compose_project
    up = subprocess.run([*project, "up", "-d", "--build", "--wait"], capture_output=True)
    assert up.returncode == 0, up.stderr.decode()
    container = subprocess.run(
        [*project, "ps", "-q", "web"], capture_output=True, text=True, check=True
    ).stdout.strip()
    published = subprocess.run(
        [*project, "port", "web", "8000"], capture_output=True, text=True, check=True
    ).stdout.strip()
    stream = _open_live_stream(int(published.rsplit(":", 1)[1]))

    started = time.monotonic()
    try:
        stop = subprocess.run([*project, "stop", "web"], capture_output=True, timeout=120)
    finally:
        stream.close()
    elapsed = time.monotonic() - started
    assert stop.returncode == 0, stop.stderr.decode()

    state = subprocess.run(
        ["docker", "inspect", "-f", "{{.State.ExitCode}}", container],
        capture_output=True,
        text=True,
        check=True,
    )
    assert state.stdout.strip() == "0"  # 137: SIGKILL after the grace ran out
    assert elapsed < _grace(config["services"]["web"]["stop_grace_period"])
