"""What the gevent worker holds a stranger to before the app sees a request: pure parts.

A connection must bring its request (headers and body) within a deadline; a body has a size
limit checked before it is read; one client address holds a bounded number of connections.
The worker (visitorsite/gunicorn_workers.py) applies these; here are the settings, read from
the environment by gunicorn.conf.py (through visitorsite/environment.py's readers, as
settings.py reads its own), the address grouping, the per-address count and the
worker's own short answers. Nothing here touches a socket, so all of it is unit-tested.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from counter.names import is_api_path
from visitorsite.environment import env_count, env_float


@dataclass(frozen=True)
class ConnectionLimits:
    """The worker's limits; the defaults are what gunicorn.conf.py uses when nothing is set.

    - ``request_deadline``: seconds a request's headers and body have to arrive, from the
      connection's accept (first request) or from the end of the keep-alive wait (later
      requests, whose wait and headers gunicorn's ``keepalive`` bounds).
    - ``max_body_bytes``: the largest body any route takes; a larger one is refused unread.
    - ``connections_per_address``: connections one client address (an IPv6 /64) may hold
      at once in one worker process.
    """

    request_deadline: float = 10.0
    max_body_bytes: int = 65536
    connections_per_address: int = 256

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ConnectionLimits:
        """REQUEST_DEADLINE, MAX_BODY_BYTES and CONNECTIONS_PER_ADDRESS, validated
        (environment.SettingError naming the variable)."""
        return cls(
            request_deadline=env_float("REQUEST_DEADLINE", cls.request_deadline, environ=environ),
            max_body_bytes=env_count("MAX_BODY_BYTES", cls.max_body_bytes, environ=environ),
            connections_per_address=env_count(
                "CONNECTIONS_PER_ADDRESS", cls.connections_per_address, environ=environ
            ),
        )


def address_group(peer: object) -> str | None:
    """The key a peer's connections are counted under: its IPv4 address, or the /64 of its
    IPv6 address (one subscriber, hence one attacker, commonly holds a whole /64). An
    IPv4-mapped IPv6 address counts as the IPv4 address. None for a Unix-socket peer (only
    a local proxy reaches one): not capped."""
    if not isinstance(peer, tuple) or not peer or not isinstance(peer[0], str):
        return None
    host = peer[0]
    if ":" not in host:
        return host or None
    try:
        address = ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address) >> 64 << 64, 64)))


class AddressCount:
    """Connections held per address group, refused past ``cap``.

    Greenlets of one worker run one at a time and nothing here switches, so no lock.
    """

    def __init__(self, cap: int):
        self.cap = cap
        self.held: dict[str, int] = {}

    def take(self, group: str) -> bool:
        """Count one more connection for ``group``; False (and nothing counted) past the cap."""
        held = self.held.get(group, 0)
        if held >= self.cap:
            return False
        self.held[group] = held + 1
        return True

    def give_back(self, group: str) -> None:
        held = self.held[group] - 1
        if held:
            self.held[group] = held
        else:
            del self.held[group]


@dataclass(frozen=True)
class Refusal:
    """One of the worker's own answers: sent instead of calling the app, then the connection
    closes. ``linger``: the client may still be sending a body, so the worker reads and drops
    it for a moment before closing (a close with unread data resets the connection, and the
    reset can destroy the answer before the client reads it)."""

    status: int
    reason: str
    text: str
    route: str  # in the request log line, where a route name goes
    linger: bool = False
    retry_after: int | None = None

    @property
    def answer(self) -> bytes:
        """The whole answer, short plain text, in one piece."""
        return self._answer("text/plain; charset=utf-8", self.text.encode() + b"\n")

    @property
    def json_answer(self) -> bytes:
        """The same answer as the JSON API's errors are (docs/API.md): ``{"error": text}``."""
        return self._answer("application/json", json.dumps({"error": self.text}).encode())

    def answer_to(self, path: str | None) -> bytes:
        """The answer for a request to ``path`` (percent-encoded, as on the request line; None
        when the request line was not read): JSON on the API's paths (counter.names, the
        rule the app's own errors follow), plain text elsewhere."""
        if path is not None and is_api_path(unquote(path)):
            return self.json_answer
        return self.answer

    def _answer(self, content_type: str, body: bytes) -> bytes:
        retry = f"Retry-After: {self.retry_after}\r\n" if self.retry_after is not None else ""
        head = (
            f"HTTP/1.1 {self.status} {self.reason}\r\n"
            "Connection: close\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"{retry}"
            "\r\n"
        )
        return head.encode("latin-1") + body


LATE = Refusal(408, "Request Timeout", "The request did not arrive in time.", "refused-deadline")
TOO_LARGE = Refusal(
    413, "Content Too Large", "The request body is too large.", "refused-body-size", linger=True
)
INCOMPLETE = Refusal(
    400, "Bad Request", "The request body is incomplete.", "refused-body-incomplete", linger=True
)
MALFORMED = Refusal(
    400, "Bad Request", "The request body is malformed.", "refused-body-malformed", linger=True
)
UNKNOWN_CODING = Refusal(
    400,
    "Bad Request",
    "The request's Transfer-Encoding is not one this server reads (chunked).",
    "refused-transfer-coding",
    linger=True,
)
TOO_MANY = Refusal(
    429,
    "Too Many Requests",
    "Too many connections from your address.",
    "refused-connections",
    retry_after=10,
)
