"""The bytes gunicorn's worker puts on the wire (visitorsite/gunicorn_workers.py sends a body
of known length together with its headers): answers of every shape, one after another on one
keep-alive connection, each whole and nothing left over."""

import re
import socket
import time

import pytest

pytestmark = pytest.mark.e2e
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


class _Connection:
    def __init__(self, url: str):
        host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buffer = b""

    def ask(self, method: str, path: str, body: bytes = b"", **headers: str):
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"User-Agent: {AGENT}"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = self._until(b"\r\n\r\n").decode("latin-1")
        status = int(head.split()[1])
        fields = {k.lower(): v for k, v in re.findall(r"\r\n([^:]+): ([^\r]*)", head)}
        if method == "HEAD" or status in (204, 304):
            return status, fields, b""
        if fields.get("transfer-encoding") == "chunked":
            body = b""
            while size := int(self._until(b"\r\n"), 16):
                body += self._exactly(size)
                assert self._exactly(2) == b"\r\n"
            assert self._exactly(2) == b"\r\n"
            return status, fields, body
        return status, fields, self._exactly(int(fields["content-length"]))

    def _until(self, end: bytes) -> bytes:
        while end not in self.buffer:
            self._receive()
        part, self.buffer = self.buffer.split(end, 1)
        return part

    def _exactly(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self._receive()
        part, self.buffer = self.buffer[:n], self.buffer[n:]
        return part

    def _receive(self) -> None:
        data = self.sock.recv(65536)
        assert data, "the server closed the connection"
        self.buffer += data

    def nothing_left(self) -> bool:
        self.sock.settimeout(0.3)
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except TimeoutError:
            return self.buffer == b""


def test_answers_of_every_shape_follow_each_other_on_one_connection(live_service):
    wire = _Connection(live_service.url)
    try:
        status, fields, body = wire.ask("GET", "/count/wire/test")
        assert (status, fields["content-length"]) == (200, str(len(body)))
        first = int(re.fullmatch(rb"Visitor count: (\d+)", body).group(1))
        answers = [
            ("HEAD", "/count/wire/test", 200, b""),  # headers only
            ("GET", "/", 200, b"<!doctype html>"),  # a template: chunked
            ("GET", "/badge/wire/test.svg?count=0", 200, b"<svg"),  # draws, counts nothing
            ("GET", "/api/v1/counters/wire/test", 200, b"{"),
            ("GET", "/no/such/page", 404, b""),
            ("GET", "/count/" + "x" * 300, 400, b"Bad request"),
        ]
        for method, path, expected, starts in answers:
            status, _, body = wire.ask(method, path)
            assert (status, body[: len(starts)]) == (expected, starts), path
        status, _, body = wire.ask("GET", "/count/wire/test")
        assert (status, int(body.split()[-1])) == (200, first + 1)
        assert wire.nothing_left()
    finally:
        wire.sock.close()


def test_each_request_gets_its_log_line_in_the_plain_format(live_service):
    wire = _Connection(live_service.url)
    try:
        for path in ("/count/wire/logged", "/no/such/page", "/count/wire/logged"):
            wire.ask("GET", path)
    finally:
        wire.sock.close()
    date = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
    expected = [
        rf"{date} INFO visitorsite\.request: GET count-named 200 \d+\.\d\dms",
        rf"{date} INFO visitorsite\.request: GET unmatched 404 \d+\.\d\dms",
    ]
    deadline = time.monotonic() + 5
    while True:  # the log writer writes within a moment (visitorsite/logqueue.py)
        lines = live_service.log.read_text().splitlines()
        counts = [sum(bool(re.fullmatch(e, line)) for line in lines) for e in expected]
        if (counts[0] >= 2 and counts[1] >= 1) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert counts[0] >= 2
    assert counts[1] >= 1
