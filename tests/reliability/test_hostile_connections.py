"""Strangers against the real service (gunicorn.conf.py, gevent, 2 workers) on loopback:
slow headers and bodies, crowds of stalled connections from many addresses, bodies too large,
cut short or chunked past the limit, HEAD, and one address past its connection cap.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a client socket bound to
127.0.0.2 ... is another client address to the server. Every socket a test opens is closed
by the test, every wait is bounded.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from bench import crowds
from bench.crowds import connect, request_head, status_of, until_closed
from tests.servers import RedisServer, gunicorn_service

pytestmark = pytest.mark.e2e

DEADLINE = 3.0  # REQUEST_DEADLINE for these servers: short, so that the tests are
SLACK = 1.0  # how much later than its deadline a stalled connection may be closed


@pytest.fixture(scope="module")
def redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def service(redis, tmp_path_factory):
    """The service as `make run` starts it, with a short deadline and a per-address cap
    above the crowds below (the cap has a test of its own); started with an open-files soft
    limit of 1024, a common default, which its workers must raise to hold the crowds."""
    prlimit = shutil.which("prlimit")  # util-linux
    gunicorn = [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py"]
    web = gunicorn_service(
        tmp_path_factory.mktemp("service"),
        redis.url,
        command=[*([prlimit, "--nofile=1024:"] if prlimit else []), *gunicorn, "visitorsite.wsgi"],
        REQUEST_DEADLINE=str(DEADLINE),
        CONNECTIONS_PER_ADDRESS="5000",
    )
    yield web
    web.stop(sig=15)


@pytest.fixture
def keys(redis):
    """The Redis keys naming a namespace, e.g. ``keys("cut.example")``."""
    client = redis.client()
    yield lambda namespace: list(client.scan_iter(match=f"*{namespace}*"))
    client.close()


def _trickle(sock: socket.socket, data: bytes, every: float = 0.5) -> tuple[float, bytes]:
    """Send ``data`` a byte every ``every`` seconds until the server answers and closes:
    (seconds from the connect, the answer). Bounded: fails past DEADLINE + SLACK + 1."""
    start = time.monotonic()
    received = b""
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            break  # closed on us: read what it said
        sock.settimeout(every)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            assert time.monotonic() - start < DEADLINE + SLACK + 1, "never cut off"
            continue
        received += chunk
        if not chunk:
            return time.monotonic() - start, received
        break
    received += until_closed(sock, DEADLINE + SLACK)
    return time.monotonic() - start, received


def test_slow_headers_are_answered_408_and_closed_within_the_deadline(service):
    with connect(service.port) as sock:
        elapsed, answer = _trickle(sock, request_head("GET", "/count/slow/headers") * 50)
    assert status_of(answer) == 408
    assert answer.endswith(b"\r\n\r\nThe request did not arrive in time.\n")
    assert DEADLINE - 0.3 < elapsed < DEADLINE + SLACK


def test_a_trickled_body_is_answered_408_within_the_deadline_and_nothing_counted(service, keys):
    head = request_head("POST", "/e/slow.example", length=500)
    with connect(service.port) as sock:
        sock.sendall(head)
        elapsed, answer = _trickle(sock, b"/" + b"a" * 499)
    assert status_of(answer) == 408
    assert DEADLINE - 0.3 < elapsed < DEADLINE + SLACK
    assert keys("slow.example") == []


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(service):
    start = time.monotonic()
    with connect(service.port) as sock:
        sock.sendall(request_head("POST", "/e/large.example", length=100_000))  # headers alone
        answer = until_closed(sock, 1.0)
    assert status_of(answer) == 413
    assert b"\r\nConnection: close\r\n" in answer
    assert time.monotonic() - start < 1.0


def test_on_the_apis_paths_the_workers_refusal_is_json(service):
    """docs/API.md: the API's errors are always JSON, the worker's 413 included."""
    with connect(service.port) as sock:
        sock.sendall(request_head("PATCH", "/api/v1/counters/large.example/site", length=2**21))
        answer = until_closed(sock, 1.0)
    assert status_of(answer) == 413
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"\r\nContent-Type: application/json\r\n" in head
    assert json.loads(body) == {"error": "The request body is too large."}


def test_a_chunked_body_is_refused_once_past_the_limit(service, keys):
    head = request_head("POST", "/e/chunked.example", Transfer_Encoding="chunked").replace(
        b"Content-Length", b"X-Nothing"
    )
    piece = b"a" * 8192
    with connect(service.port) as sock:
        sock.sendall(head)
        answer = b""
        with contextlib.suppress(OSError):  # refused mid-way: the server may be gone
            for _ in range(9):  # 72 KiB, over the 64 KiB limit
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        sock.sendall(b"0\r\n\r\n")
        answer = until_closed(sock, 2.0)
    assert status_of(answer) == 413
    assert keys("chunked.example") == []


def test_a_chunked_body_within_the_limit_reaches_the_app_whole(service, keys):
    head = request_head(
        "POST", "/e/chunks.example", Transfer_Encoding="chunked", Connection="close"
    )
    with connect(service.port) as sock:
        sock.sendall(head + b"5\r\n/blog\r\n6\r\n/post/\r\n0\r\n\r\n")
        answer = until_closed(sock, 2.0)
    assert status_of(answer) == 204
    # the page's path, from the body: Django read all of it (it reads CONTENT_LENGTH bytes)
    assert any(b":page|/blog/post" in key for key in keys("chunks.example"))


def test_a_body_cut_short_is_refused_and_not_counted(service, keys):
    path = b"/blog/a-page-with-a-long-name/"
    with connect(service.port) as sock:
        sock.sendall(request_head("POST", "/e/cut.example", length=len(path)) + path[:10])
        sock.shutdown(socket.SHUT_WR)  # the client stops sending, short of the length
        answer = until_closed(sock, 2.0)
    assert status_of(answer) == 400
    assert b"incomplete" in answer
    assert keys("cut.example") == []
    with connect(service.port) as sock:  # the same body, whole, is counted
        sock.sendall(request_head("POST", "/e/cut.example", length=len(path)) + path)
        sock.shutdown(socket.SHUT_WR)
        assert status_of(until_closed(sock, 2.0)) == 204
    assert keys("cut.example")


def test_a_client_waiting_for_100_continue_is_asked_for_its_body(service, keys):
    """The worker reads the body before the app runs, so it must ask for it itself: curl
    and others send it only after a 100 Continue (or a pause of their own)."""
    path = b"/expect/"
    with connect(service.port) as sock:
        sock.sendall(
            request_head("POST", "/e/expect.example", length=len(path), Expect="100-continue")
        )
        sock.settimeout(1.0)
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(path)
        sock.shutdown(socket.SHUT_WR)
        answers = until_closed(sock, 2.0)
    assert b"HTTP/1.1 204 No Content\r\n" in answers
    assert keys("expect.example")


def test_crowds_of_stalled_bodies_are_cut_at_the_deadline_while_others_are_served(tmp_path):
    """2,000 connections from 127.0.0.1 and 50 from each of 127.0.0.2-21, each sending a
    beacon's headers and one byte of its body, then nothing: a fresh client is answered
    within a second throughout, and each stalled connection gets its 408 and its close
    within the deadline (the per-address cap above the crowds: every one is held). Started with
    an open-files soft limit of 1024, a common default, which the workers must raise."""
    row = crowds.stalled_crowd(tmp_path, deadline=DEADLINE, cap=5000, open_files=1024)
    if row.note.startswith("skipped"):
        pytest.skip(row.note)
    assert row.passed, row.note
    assert "{408: 3000}" in row.note


def test_200_large_bodies_at_once_leave_the_workers_memory_as_it_was(service):
    """200 concurrent 2.4 MB bodies to several routes: each refused with a 413, and no
    worker grows by more than a few MB (buffered, they grew a worker by ~350 MB)."""
    seen = crowds.send_large_bodies(service.port, service.process.pid, bodies=200, size=2_400_000)
    assert seen["statuses"] == {413: 200}
    assert max(seen["growth_mib"].values()) < 3, seen  # measured: 0.1 (6-7 buffered)


def test_head_has_no_body_and_writes_no_warning(service):
    log_start = len(service.log.read_bytes())
    with connect(service.port) as sock:
        for _ in range(3):
            sock.sendall(request_head("HEAD", "/count/head/test"))
        sock.sendall(request_head("GET", "/healthz", Connection="close"))
        answers = until_closed(sock, 5.0)
    heads = answers.split(b"HTTP/1.1 ")[1:]
    assert len(heads) == 4  # three HEADs with nothing after their headers, then the GET
    for head in heads[:3]:
        assert head.startswith(b"200 OK\r\n")
        assert head.endswith(b"\r\n\r\n")
        assert b"\r\nContent-Length: " in head  # the GET's length: RFC 9110 allows it
    time.sleep(0.5)  # the log writer writes within a moment (visitorsite/logqueue.py)
    written = service.log.read_bytes()[log_start:].decode()
    assert "HEAD count-named 200" in written  # the request log saw them
    assert "WARNING" not in written


@pytest.fixture(scope="module")
def capped(redis, tmp_path_factory):
    """One worker, five connections per address: the cap within reach of a test."""
    web = gunicorn_service(
        tmp_path_factory.mktemp("capped"),
        redis.url,
        WEB_CONCURRENCY="1",
        CONNECTIONS_PER_ADDRESS="5",
        REQUEST_DEADLINE=str(DEADLINE),
    )
    yield web
    web.stop(sig=15)


def test_past_its_cap_an_address_is_answered_429_at_once(capped):
    held = [connect(capped.port, "127.0.0.30") for _ in range(5)]
    try:
        time.sleep(0.2)  # accepted, each in a greenlet
        start = time.monotonic()
        with connect(capped.port, "127.0.0.30") as sock:
            answer = until_closed(sock, 1.0)
        assert time.monotonic() - start < 0.5
        assert status_of(answer) == 429
        assert re.search(rb"\r\nRetry-After: \d+\r\n", answer)
        assert b"\r\nConnection: close\r\n" in answer
        with connect(capped.port, "127.0.0.31") as sock:  # another address is served
            sock.sendall(request_head("GET", "/healthz", Connection="close"))
            assert status_of(until_closed(sock, 2.0)) == 200
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 2
    while True:  # the closed ones are given back as soon as the worker sees them go
        with connect(capped.port, "127.0.0.30") as sock:
            sock.sendall(request_head("GET", "/healthz", Connection="close"))
            status = status_of(until_closed(sock, 2.0))
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200


def test_an_unknown_transfer_coding_is_a_400_not_a_5xx(service):
    head = request_head("GET", "/healthz", Transfer_Encoding="foo", Connection="close")
    with connect(service.port) as sock:
        sock.sendall(head)
        answer = until_closed(sock, 2.0)
    assert status_of(answer) == 400
    assert b"Transfer-Encoding" in answer


def test_a_client_that_stops_reading_its_answers_is_cut_off_at_the_deadline(service):
    """Thousands of pipelined requests, none of the answers read: once the answers fill the
    socket's buffers each send waits, and past REQUEST_DEADLINE the connection is closed
    (it used to stay open, a greenlet and megabytes of buffers held, for as long as the
    client liked)."""
    requests = 60_000  # their answers (~12 MB) outgrow any socket buffer
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.bind(("127.0.0.40", 0))
        sock.connect(("127.0.0.1", service.port))
        sock.settimeout(DEADLINE + SLACK + 2)
        with contextlib.suppress(OSError):  # the server stops reading, then closes
            sock.sendall(request_head("GET", "/healthz") * requests)
        time.sleep(DEADLINE + SLACK)
        received = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(1 << 20):
                received += chunk
    finally:
        sock.close()
    assert received.count(b"HTTP/1.1 200 ") < requests  # cut off before the last answer
