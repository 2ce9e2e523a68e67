"""The gevent worker's response writer (visitorsite/gunicorn_workers.py): the same bytes as
gunicorn's, with a body of known length sent together with its headers."""

import re

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi

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


@pytest.mark.parametrize("case", CASES)
def test_the_bytes_on_the_wire_are_gunicorns(case):
    ours = _answer(Response, *CASES[case])
    assert b"".join(ours) == b"".join(_answer(wsgi.Response, *CASES[case]))


def test_a_body_of_known_length_goes_out_with_its_headers_in_one_write():
    ours = _answer(Response, "GET", "200 OK", [("Content-Length", "5")], [b"hello"])
    assert len(ours) == 1
    assert ours[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert ours[0].endswith(b"\r\n\r\nhello")
    assert len(_answer(wsgi.Response, "GET", "200 OK", [("Content-Length", "5")], [b"hello"])) == 2
