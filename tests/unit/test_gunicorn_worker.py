"""The gevent worker's response writer (visitorsite/gunicorn_workers.py): the same bytes as
gunicorn's, with a body of known length sent together with its headers, and a body no answer
may carry dropped without a warning; and the open-files limit a worker raises."""

import json
import logging
import re
import resource
import subprocess
import sys

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi

from tests.servers import REPO
from visitorsite.gunicorn_workers import Response


class _Request:
    version = (1, 1)

    def __init__(self, method: str):
        self.method = method

    def should_close(self) -> bool:
        return False


class _Socket:
    def __init__(self):
        self.writes: list[bytes] = []

    def sendall(self, data) -> None:
        self.writes.append(bytes(data))


def _answer(response_class, method: str, status: str, headers: list, body: list) -> list[bytes]:
    sock = _Socket()
    response = response_class(_Request(method), sock, Config())
    response.start_response(status, headers)
    for piece in body:
        response.write(piece)
    response.close()
    # The Date header may cross a second between the two answers compared.
    return [re.sub(rb"Date: [^\r]*", b"Date: -", w) for w in sock.writes]


CASES = {
    "known length, one piece": ("GET", "200 OK", [("Content-Length", "5")], [b"hello"]),
    "known length, two pieces": ("GET", "200 OK", [("Content-Length", "5")], [b"hel", b"lo"]),
    "no length (chunked)": ("GET", "200 OK", [("Content-Type", "text/html")], [b"<p>", b"hi"]),
    "HEAD": ("HEAD", "200 OK", [("Content-Length", "5")], [b"hello"]),
    "204": ("POST", "204 No Content", [], [b""]),
    "no body at all": ("GET", "200 OK", [("Content-Length", "0")], []),
    "body longer than its length": ("GET", "200 OK", [("Content-Length", "3")], [b"hello"]),
}


def _headers(answer: bytes) -> bytes:
    return answer[: answer.index(b"\r\n\r\n") + 4]


@pytest.mark.parametrize("case", CASES)
def test_the_bytes_on_the_wire_are_gunicorns(case):
    ours = b"".join(_answer(Response, *CASES[case]))
    theirs = b"".join(_answer(wsgi.Response, *CASES[case]))
    if case == "HEAD":  # gunicorn before 26.1 sends a HEAD's body too (RFC 9110: it may not)
        assert theirs in (_headers(theirs), _headers(theirs) + b"hello")
        theirs = _headers(theirs)
    assert ours == theirs


def test_a_body_of_known_length_goes_out_with_its_headers_in_one_write():
    ours = _answer(Response, "GET", "200 OK", [("Content-Length", "5")], [b"hello"])
    assert len(ours) == 1
    assert ours[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert ours[0].endswith(b"\r\n\r\nhello")
    assert len(_answer(wsgi.Response, "GET", "200 OK", [("Content-Length", "5")], [b"hello"])) == 2


@pytest.mark.parametrize(
    ("method", "status"), [("HEAD", "200 OK"), ("GET", "304 Not Modified"), ("POST", "204 No")]
)
def test_a_body_the_answer_may_not_carry_is_dropped_without_a_warning(method, status, caplog):
    """Django yields the GET body to a HEAD; gunicorn would drop it with a WARNING each time,
    a log line any stranger could write at will."""
    ours = _answer(Response, method, status, [("Content-Length", "5")], [b"hello"])
    assert b"".join(ours).endswith(b"\r\n\r\n")
    assert len(ours) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    theirs = _answer(wsgi.Response, method, status, [("Content-Length", "5")], [b"hello"])
    # gunicorn's own: a WARNING (26.1 and later), or the body sent all the same (before)
    warned = [r for r in caplog.records if "no-body response" in r.getMessage()]
    assert warned or b"".join(theirs).endswith(b"hello")


def test_a_worker_raises_its_open_files_limit_to_the_hard_limit():
    """With a soft limit of 1024 (a common default) a worker could hold ~1000 connections,
    whatever worker_connections says."""
    script = (
        "import json, resource\n"
        "from visitorsite.gunicorn_workers import raise_open_files_limit\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (min(256, hard), hard))\n"
        "before, after = raise_open_files_limit(10000)\n"
        "now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]\n"
        "print(json.dumps([before, after, now, min(256, hard), hard]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    before, after, now, lowered, hard = json.loads(result.stdout)
    assert before == lowered
    assert after == now == (hard if hard != resource.RLIM_INFINITY else 10064)


def test_a_stop_passes_over_an_idle_connection_already_closed():
    """A connection that closed while listed as idle has no descriptor left (fileno() is -1):
    the stop goes on to the others instead of failing on it."""
    import socket

    from visitorsite.gunicorn_workers import GeventWorker

    worker = GeventWorker.__new__(GeventWorker)  # no master, no sockets: only what a stop uses
    worker.alive = True
    worker._end_streams = lambda: None
    closed, (open_, peer) = socket.socket(), socket.socketpair()
    closed.close()
    worker._clients = {"gone": closed, "idle": open_}
    worker._idle = {"gone", "idle"}
    worker.handle_exit(15, None)
    assert worker.alive is False
    assert open_.recv(1) == b""  # shut for reading: its waiting reader sees the end at once
    open_.close()
    peer.close()
