"""Lifecycle: the service started each way it is run, stopped each way it is stopped.

What is asserted each time: what is left running for the data directory (no gunicorn, no
runserver, no valkey-server; after kill -9 only the orphaned server, which the next start
reuses), how long the stop took (under 5 s, a live stream open or not), that the log has no
ERROR, Traceback or SIGKILL line, that an open live stream was told to reconnect, and that no
count was lost (hits before the stop, the total read after a restart).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from counter.embedded import EmbeddedRedis
from tests.servers import REPO, WebServer, base_env, free_port, http_get, wait_until

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
GUNICORN = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "visitorsite.wsgi"]
STOP_SECONDS = 5.0
HITS = 3
BAD_LOG_LINE = re.compile(r"ERROR|Traceback|SIGKILL|CRITICAL")


def _environ(pid: str) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or not ours
        return b""


def _alive(pid: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def processes_of(data_dir: Path) -> dict[str, str]:
    """Live processes (pid: command line) that belong to ``data_dir``: a server whose command
    line names its socket or config (both in /proc/*/cmdline), a web process or management
    command started with DATA_DIR set to it."""
    server = EmbeddedRedis(data_dir)
    names = (str(data_dir).encode(), str(server.socket_path).encode())
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        mine = any(name in cmdline for name in names)
        mine = mine or f"DATA_DIR={data_dir}\0".encode() in _environ(entry.name)
        if mine and _alive(entry.name):
            found[entry.name] = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
    return found


def servers_of(data_dir: Path) -> dict[str, str]:
    return {pid: cmd for pid, cmd in processes_of(data_dir).items() if "server" in cmd.split()[0]}


class LiveStream:
    """``/live/default/visitor_count`` on a raw socket, read to its end in a thread."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall(
            b"GET /live/default/visitor_count HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Accept: text/event-stream\r\n\r\n"
        )
        self.received = b""
        self.closed = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        wait_until(lambda: b"event: count" in self.received, timeout=10, what="the first event")
        assert self.received.startswith(b"HTTP/1.1 200")

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.received += chunk
        except OSError:
            pass
        finally:
            self.closed.set()

    def close(self) -> None:
        self.sock.close()
        self.reader.join(5)


class IdleConnection:
    """A keep-alive connection that has had one answer and then waits, as a browser's does."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/healthz")
        response = self.connection.getresponse()
        assert response.status == 200
        response.read()
        assert not response.will_close, "the connection should be kept alive"

    def closed_by_server(self) -> bool:
        sock = self.connection.sock
        sock.settimeout(1)
        try:
            return sock.recv(100) == b""
        except OSError:  # reset: closed too
            return True

    def close(self) -> None:
        self.connection.close()


def start(command: list[str], data_dir: Path, log: Path, **env: str) -> WebServer:
    port = free_port()
    bind = f"127.0.0.1:{port}"
    if command[0] != GUNICORN[0]:
        command = [*command, bind]
    environment = base_env(
        DATA_DIR=str(data_dir),
        BIND=bind,
        PATH=f"{BIN}:{os.environ['PATH']}",
        **env,
    )
    return WebServer(command, env=environment, port=port, log=log).start(timeout=60)


def stop(service: WebServer, how: str) -> float:
    """Stop the service as ``how`` says; return the seconds until its main process exited."""
    process = service.process
    assert process is not None
    WebServer.running.discard(service)
    started = time.monotonic()
    if how == "ctrl-c":  # the terminal signals the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    elif how == "kill-9":  # the whole service, as a crash or the OOM killer would
        os.killpg(process.pid, signal.SIGKILL)
    else:
        os.kill(process.pid, getattr(signal, how))
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    finally:
        service.process = None
    return time.monotonic() - started


def count(service: WebServer) -> int:
    status, _, body = http_get(service.url + "/count")
    assert status == 200, body
    return int(body.rsplit(":", 1)[1])


def clean_log(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if BAD_LOG_LINE.search(line)]


@pytest.fixture
def data_dir(tmp_path):
    """The service's data directory; whatever a failed test left running for it is ended."""
    directory = tmp_path / "data"
    yield directory
    EmbeddedRedis(directory).stop()
    for pid in processes_of(directory):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


RUNSERVER = [sys.executable, "manage.py", "runserver", "--noreload"]
RUNSERVER_RELOADER = [sys.executable, "manage.py", "runserver"]
WAYS = {"gunicorn": GUNICORN, "runserver": RUNSERVER, "runserver-reloader": RUNSERVER_RELOADER}


@pytest.mark.parametrize(
    ("way", "how", "held"),
    [
        ("gunicorn", "ctrl-c", "stream"),
        ("gunicorn", "SIGINT", "stream"),
        ("gunicorn", "SIGTERM", "stream"),
        ("gunicorn", "SIGQUIT", "stream"),
        ("gunicorn", "SIGTERM", None),
        ("gunicorn", "SIGTERM", "keep-alive"),
        ("gunicorn", "ctrl-c", None),
        ("runserver", "ctrl-c", "stream"),
        ("runserver", "SIGTERM", "stream"),
        ("runserver-reloader", "ctrl-c", "stream"),
        ("runserver-reloader", "SIGTERM", None),
    ],
)
def test_a_stop_is_fast_clean_and_leaves_nothing_running(tmp_path, data_dir, way, how, held):
    service = start(WAYS[way], data_dir, tmp_path / "first.log")
    live = idle = None
    try:
        assert servers_of(data_dir), "the embedded server should run for the service"
        counted = [count(service) for _ in range(HITS)]
        assert counted == [1, 2, 3]
        if held == "keep-alive":
            idle = IdleConnection(service.port)
        elif held == "stream":
            live = LiveStream(service.port)
        took = stop(service, how)
        if idle is not None:
            assert idle.closed_by_server()
    finally:
        if service.process is not None:
            service.stop()
        if live is not None:
            live.close()
        if idle is not None:
            idle.close()
    left = processes_of(data_dir)
    if left:  # a moment for the last exits to be reaped, then nothing may remain
        wait_until(lambda: not processes_of(data_dir), timeout=3, what=f"{left} to exit")
    print(f"{way} stopped by {how}, holding {held}: {took:.2f} s")
    assert took < STOP_SECONDS, f"the stop took {took:.1f} s"
    assert clean_log(tmp_path / "first.log") == []
    if live is not None:
        assert live.closed.is_set(), "the stream should be closed by the stop"
        assert b"retry: 1000" in live.received, "the stream should be told to reconnect"

    again = start(GUNICORN, data_dir, tmp_path / "again.log")
    try:
        assert count(again) == HITS + 1, "a count was lost over the stop"
    finally:
        # Right after the start, a worker may still be booting: the stop must reach it too.
        assert stop(again, "SIGTERM") < STOP_SECONDS
    wait_until(lambda: not processes_of(data_dir), timeout=3, what="the restart to end")
    assert clean_log(tmp_path / "again.log") == []


def test_after_kill_9_the_next_start_reuses_the_orphan(tmp_path, data_dir):
    service = start(GUNICORN, data_dir, tmp_path / "first.log")
    try:
        assert [count(service) for _ in range(HITS)] == [1, 2, 3]
        live = LiveStream(service.port)
        stop(service, "kill-9")
        live.close()
        orphan = servers_of(data_dir)
        assert len(orphan) == 1, f"the server should outlive kill -9: {processes_of(data_dir)}"
        wait_until(lambda: processes_of(data_dir) == orphan, timeout=5, what="the workers")

        again = start(GUNICORN, data_dir, tmp_path / "again.log")
        try:
            assert count(again) == HITS + 1
            assert servers_of(data_dir) == orphan, "the orphan should be reused, not replaced"
        finally:
            stop(again, "SIGTERM")
        log = (tmp_path / "again.log").read_text()
        assert re.search(r"embedded Valkey [\d.]+ already running", log)
        assert clean_log(tmp_path / "again.log") == []
        # Not its to stop: the restarted master found it running.
        assert servers_of(data_dir) == orphan
    finally:
        if service.process is not None:
            service.stop()
        EmbeddedRedis(data_dir).stop()
    wait_until(lambda: not processes_of(data_dir), timeout=5, what="the orphan to stop")


def test_a_running_server_is_reused_and_left_alone(tmp_path, data_dir):
    server = EmbeddedRedis(data_dir)
    manage = [sys.executable, "manage.py", "embedded_redis", "start"]
    subprocess.run(manage, cwd=REPO, env=base_env(DATA_DIR=str(data_dir)), check=True, timeout=60)
    try:
        before = servers_of(data_dir)
        assert len(before) == 1, "embedded_redis start: the server outlives the command"
        service = start(GUNICORN, data_dir, tmp_path / "web.log")
        try:
            count(service)
        finally:
            stop(service, "SIGTERM")
        assert servers_of(data_dir) == before
        assert "already running" in (tmp_path / "web.log").read_text()
    finally:
        server.stop()


@pytest.mark.parametrize(
    "command",
    [["check"], ["reset_count", "default/visitor_count", "--value", "7", "--create"]],
    ids=["check", "reset_count"],
)
def test_a_management_command_stops_the_server_it_started(data_dir, command):
    result = subprocess.run(
        [sys.executable, "manage.py", *command],
        cwd=REPO,
        env=base_env(DATA_DIR=str(data_dir)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert processes_of(data_dir) == {}, "the command should stop the server it started"
    assert "Traceback" not in result.stderr


HOLD = "from django.core.cache import cache; cache.get('x'); print('ready', flush=True); input()"


@pytest.mark.parametrize("how", ["ctrl-c", "SIGTERM"])
def test_a_management_command_stopped_midway_stops_the_server_it_started(data_dir, how):
    """A long command (here a shell that touched the store, then waits) stopped by Ctrl-C or
    SIGTERM still stops the server it started."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", HOLD],
        cwd=REPO,
        env=base_env(DATA_DIR=str(data_dir)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        assert len(servers_of(data_dir)) == 1
        if how == "ctrl-c":
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.terminate()
        process.wait(timeout=15)
        left = processes_of(data_dir)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert left == {}


def test_a_management_command_leaves_a_running_server_running(data_dir):
    server = EmbeddedRedis(data_dir)
    manage = [sys.executable, "manage.py"]
    env = base_env(DATA_DIR=str(data_dir))
    subprocess.run([*manage, "embedded_redis", "start"], cwd=REPO, env=env, check=True, timeout=60)
    try:
        before = servers_of(data_dir)
        reset = [*manage, "reset_count", "default/visitor_count", "--value", "7", "--create"]
        subprocess.run(reset, cwd=REPO, env=env, check=True, capture_output=True, timeout=60)
        assert servers_of(data_dir) == before
        assert server.answers()
    finally:
        server.stop()


@pytest.mark.parametrize("way", ["runserver", "runserver-reloader"])
def test_runserver_starts_the_server_before_the_first_request(tmp_path, data_dir, way):
    """The project's runserver runs (not staticfiles' own), so the embedded server is up
    before anything is served, and the first count costs what any other does."""
    log = tmp_path / "web.log"
    service = start(WAYS[way], data_dir, log)
    try:
        # Only /healthz has been asked so far, and it never touches Redis.
        assert re.search(r"embedded Valkey [\d.]+ started", log.read_text())
        timings = []
        for _ in range(6):
            began = time.monotonic()
            count(service)
            timings.append(time.monotonic() - began)
        later = sorted(timings[1:])[2]
        print(f"{way}: first count {timings[0] * 1000:.1f} ms, median after {later * 1000:.1f}")
        assert timings[0] < max(5 * later, 0.05)
        if way == "runserver-reloader":  # the watcher owns the server, its child does not
            assert len(re.findall(r"embedded Valkey [\d.]+ already running", log.read_text())) == 1
    finally:
        stop(service, "ctrl-c")
    wait_until(lambda: not processes_of(data_dir), timeout=3, what="runserver to end")
