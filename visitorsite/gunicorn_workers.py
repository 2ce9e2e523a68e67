"""gunicorn's gevent worker: quiet on Ctrl-C, one write an answer, and hard on strangers.

On SIGINT or SIGQUIT gunicorn's workers call ``sys.exit`` from the signal handler. In a gevent
worker that handler runs in a greenlet while the main greenlet is already leaving, so every
Ctrl-C printed two tracebacks (``SystemExit`` out of gevent's threading shutdown) per worker;
gunicorn's maintainers leave it so (benoitc/gunicorn#3239). Here those signals stop the worker
the way SIGTERM does: no new connections, open live streams ended at once with a reconnect
hint (counter.web.live.end_streams), requests in flight finish (for at most ``graceful_timeout``),
then the worker exits through its normal path, queued metrics written.

gunicorn writes a response's headers and its body with two ``sendall`` calls, each a trip
through the loopback or network stack (and gevent asks the kernel for the send buffer's size
before each). Nearly every answer here is one piece of known length, so the worker's responses
send such a body together with its headers: one write a request instead of two
(docs/BENCHMARKS.md).

gunicorn alone lets a stranger hold a worker (docs/OPERATIONS.md, "Facing strangers"): its
``timeout`` is a heartbeat, not a bound on how long a body may take to arrive, and the app
reads the body from the socket as it comes. Here the worker reads the request itself before
the app runs, under a deadline, up to a size limit, and counts connections per client
address (visitorsite/connection_limits.py holds the limits and the answers). A request that
fails one of them gets a short answer of the worker's own, never reaches the app (so it
writes nothing to Redis), and its connection closes. An ordinary request without a body
costs nothing more: no timer, no read, no syscall of its own.
"""

from __future__ import annotations

import contextlib
import errno
import io
import resource
import signal
import socket
import time
from typing import ClassVar

import gevent
from gevent import monkey
from gunicorn.http import errors, wsgi
from gunicorn.http.body import LengthReader
from gunicorn.http.errors import (
    ChunkMissingTerminator,
    InvalidChunkSize,
    InvalidHeader,
    LimitRequestHeaders,
    NoMoreData,
    UnsupportedTransferCoding,
)
from gunicorn.workers.ggevent import GeventWorker as _GeventWorker

from visitorsite.connection_limits import (
    INCOMPLETE,
    LATE,
    MALFORMED,
    TOO_LARGE,
    TOO_MANY,
    UNKNOWN_CODING,
    AddressCount,
    ConnectionLimits,
    Refusal,
    address_group,
)

# A refused client that may still be sending its body is read (and the bytes dropped) for at
# most this long and this much before the close, so that the close is not a reset.
LINGER_SECONDS = 1.0
LINGER_BYTES = 4 * 1024 * 1024
_SCRATCH = bytearray(65536)  # where lingering reads go: nobody reads it back
# Open files a worker needs besides its client connections (listeners, Redis, logs, pipes).
_SPARE_FILES = 64
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_PLAIN_SOCKET = monkey.get_original("socket", "socket")
_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGQUIT, signal.SIGTERM})
_MALFORMED_BODY: tuple[type[Exception], ...] = (
    ChunkMissingTerminator,
    InvalidChunkSize,
    InvalidHeader,  # a bad trailer
    LimitRequestHeaders,  # trailers too long
)
# gunicorn 25.3+ checks chunk extensions and raises this on a bad one; 23 (the lowest allowed)
# has no such error: it skips the extension unread.
if hasattr(errors, "InvalidChunkExtension"):
    _MALFORMED_BODY += (errors.InvalidChunkExtension,)


class _Held:
    """Stands in for the client's socket while gunicorn writes the headers: keeps them."""

    __slots__ = ("data",)

    def sendall(self, data: bytes) -> None:
        self.data = data


class Response(wsgi.Response):
    def start_response(self, status, headers, exc_info=None):
        """As gunicorn's, noting whether the answer may carry a body (RFC 9110: not to a
        HEAD, nor a 1xx, 204 or 304)."""
        write = super().start_response(status, headers, exc_info)
        code = self.status_code or 0
        self.body_omitted = self.req.method == "HEAD" or code in (204, 304) or 100 <= code < 200
        return write

    def write(self, arg) -> None:
        """The whole body at once, of the length its headers give: both in one write.

        A body the answer may not carry is dropped here without a word: Django's handler
        yields the GET body to a HEAD, and gunicorn would log a WARNING for each one, a log
        line any stranger could write at will.
        """
        if self.body_omitted:
            with _reader_gone():
                self.send_headers()
            return
        if (
            self.headers_sent
            or self.chunked
            or type(arg) is not bytes
            or self.response_length != len(arg)
        ):
            with _reader_gone():
                super().write(arg)
            return
        sock, held = self.sock, _Held()
        self.sock = held
        try:
            self.send_headers()  # gunicorn's own headers, into held
        finally:
            self.sock = sock
        self.sent += len(arg)
        with _reader_gone():
            sock.sendall(held.data + arg)

    def write_file(self, respiter) -> None:
        """A file answer: its headers alone when it may carry no body (see ``write``)."""
        with _reader_gone():
            if self.body_omitted:
                self.send_headers()
                return
            super().write_file(respiter)


@contextlib.contextmanager
def _reader_gone():
    """A send that timed out (the client stopped reading: its socket's timeout is the request
    deadline, set in handle_request) ends the connection as a client that went away does:
    quietly (gunicorn logs a timed-out send with its traceback, a broken pipe at DEBUG)."""
    try:
        yield
    except TimeoutError:
        raise BrokenPipeError(errno.EPIPE, "the client stopped reading its answers") from None


class _Late(Exception):
    """The request deadline passed while the worker waited for the request."""


def raise_open_files_limit(wanted: int) -> tuple[int, int]:
    """Raise this process's soft RLIMIT_NOFILE toward its hard limit, so that the worker can
    hold ``worker_connections`` sockets (a common soft limit is 1024). Returns the soft limit
    before and after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, wanted + _SPARE_FILES)
    if target <= soft:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):  # e.g. a hard "unlimited" above the kernel's nr_open
        return soft, soft
    return soft, target


class GeventWorker(_GeventWorker):
    #: Set from the environment by gunicorn.conf.py, in the master, before the fork.
    limits: ClassVar[ConnectionLimits] = ConnectionLimits()

    def init_process(self) -> None:
        # Until init_signals, this forked child still has the master's signal handlers, which
        # only queue a signal for the master's loop: a stop sent during a worker's boot was
        # lost, and the master waited the whole graceful timeout for it. Held until then.
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        wsgi.Response = Response  # what gunicorn's wsgi.create builds, in this worker only
        self._per_address = AddressCount(self.limits.connections_per_address)
        # The first request's deadline, by the greenlet serving its connection, until its
        # headers are read (gunicorn's keep-alive loop asks timeout_ctx() for their timer).
        self._first_deadline: dict[gevent.Greenlet, float] = {}
        # Each connection by the greenlet serving it, and those idle between two requests
        # (keep-alive): closed at once when the worker stops, not held for ``keepalive``.
        self._clients: dict[gevent.Greenlet, socket.socket] = {}
        self._idle: set[gevent.Greenlet] = set()
        _before, soft = raise_open_files_limit(self.worker_connections)
        if soft < self.worker_connections + _SPARE_FILES:
            self.log.warning(
                "Open files limited to %s: fewer than the %s connections a worker may hold "
                "(WEB_CONNECTIONS); raise the hard limit (ulimit -Hn) or lower WEB_CONNECTIONS",
                soft,
                self.worker_connections,
            )
        # Imported here, after the master's django.setup(): the signal handler must not import.
        from counter.web.live import end_streams

        self._end_streams = end_streams
        super().init_process()

    def init_signals(self) -> None:
        """gunicorn's handlers, then the stop signals held since the fork are let in."""
        super().init_signals()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def handle_quit(self, sig, frame) -> None:
        """SIGINT and SIGQUIT: as SIGTERM (see the module's docstring)."""
        self.handle_exit(sig, frame)

    def handle_exit(self, sig, frame) -> None:
        """Stop taking connections, end the open live streams now (each told to reconnect in
        a second) and close the idle keep-alive connections: left alone, a stream would hold
        the stop for the whole graceful timeout (then a SIGKILL), an idle connection for
        ``keepalive``. Requests in flight finish; their connections close after the answer."""
        self.alive = False
        self._end_streams()
        for idle in list(self._idle):
            # KeyError: its connection ended meanwhile; ValueError: closed, no descriptor left
            with contextlib.suppress(KeyError, OSError, ValueError):
                _end_reading(self._clients[idle])

    def handle(self, listener, client, addr) -> None:
        """Serve a connection, unless its address already holds its share (429 at once)."""
        group = address_group(addr)
        if group is not None and not self._per_address.take(group):
            self._refuse(client, TOO_MANY, "-", time.monotonic())
            client.close()
            return
        me = gevent.getcurrent()
        self._first_deadline[me] = time.monotonic() + self.limits.request_deadline
        self._clients[me] = client
        try:
            super().handle(listener, client, addr)
        finally:
            self._first_deadline.pop(me, None)
            self._clients.pop(me, None)
            self._idle.discard(me)
            if group is not None:
                self._per_address.give_back(group)

    def timeout_ctx(self) -> gevent.Timeout:
        """The timer gunicorn reads a request's headers under: for a connection's first
        request, what is left of its deadline (then a 408); for later ones, gunicorn's own
        keep-alive timer, which bounds the wait and the headers together (then a close)."""
        me = gevent.getcurrent()
        deadline = self._first_deadline.get(me)
        if deadline is None:
            self._idle.add(me)
            return super().timeout_ctx()
        return gevent.Timeout(max(deadline - time.monotonic(), 0.001), _Late())

    def handle_error(self, req, client, addr, exc) -> None:
        """A request late past its deadline is answered 408, a transfer coding gunicorn does
        not know 400 (gunicorn answers it 501: a 5xx any stranger could cause); anything
        else as gunicorn does."""
        if isinstance(exc, UnsupportedTransferCoding):
            self._refuse(client, UNKNOWN_CODING, "-", time.monotonic())
            return
        if isinstance(exc, _Late):
            deadline = self._first_deadline.get(gevent.getcurrent(), time.monotonic())
            started = deadline - self.limits.request_deadline
            self._refuse(client, LATE, "-", started, getattr(req, "path", None))
            return
        super().handle_error(req, client, addr, exc)

    def handle_request(self, listener_name, req, sock, addr):
        """Read the request's body (bounded, before its deadline) and then run the app."""
        me = gevent.getcurrent()
        self._idle.discard(me)
        deadline = self._first_deadline.pop(me, None)
        if sock.timeout is None:  # gevent's, in Python: no syscall. Bounds every send too.
            sock.settimeout(self.limits.request_deadline)
        reader = req.body.reader
        if type(reader) is not LengthReader or reader.length:
            started = time.monotonic()
            refusal = self._read_body(req, sock, deadline or started + self.limits.request_deadline)
            if refusal is not None:
                self._refuse(sock, refusal, req.method, started, req.path)
                raise StopIteration  # gunicorn's keep-alive loop: close the connection
        answered = super().handle_request(listener_name, req, sock, addr)
        if not self.alive:  # stopping: no next request on this connection (nor its wait)
            raise StopIteration
        return answered

    def _read_body(self, req, sock, deadline: float) -> Refusal | None:
        """The whole body into memory, for the app to read as a file (``wsgi.input``); or why
        not. A declared length over the limit is refused before a byte of it is read; a
        chunked body is read only up to the limit."""
        limit = self.limits.max_body_bytes
        body = req.body
        length = body.reader.length if type(body.reader) is LengthReader else None
        if length is not None and length > limit:
            return TOO_LARGE
        try:
            with gevent.Timeout(max(deadline - time.monotonic(), 0.001), _Late()):
                if req.version >= (1, 1) and any(name == "EXPECT" for name, _ in req.headers):
                    # The client waits for this before it sends the body. gunicorn sends it
                    # once more before the app runs; a client takes any number of 1xx.
                    sock.sendall(_CONTINUE)
                if length is not None:
                    data = body.read(length)
                    if len(data) < length:
                        return INCOMPLETE
                else:
                    data = body.read(limit + 1)
                    if len(data) > limit:
                        return TOO_LARGE
        except _Late:
            return LATE
        except NoMoreData:
            return INCOMPLETE
        except _MALFORMED_BODY:
            return MALFORMED
        req.body = io.BytesIO(data)  # wsgi.input; gunicorn finds nothing left to drain
        if length is None:  # chunked: Django reads CONTENT_LENGTH bytes, so say how many
            req.headers = [(n, v) for n, v in req.headers if n != "TRANSFER-ENCODING"]
            req.headers.append(("CONTENT-LENGTH", str(len(data))))
        return None

    def _refuse(
        self, sock, refusal: Refusal, method: str, started: float, path: str | None = None
    ) -> None:
        """Send the worker's own answer, shut the connection for writing, and log one line.
        JSON on the API's paths (``path``: the request line's, None before it was read), as
        the app's own errors there; plain text elsewhere.

        A client still sending its body is read for a moment (``linger``) so that the close
        does not reset the connection under the answer; otherwise only what has already
        arrived is dropped. Never more than a couple of seconds, whatever the client does.
        """
        with gevent.Timeout(LINGER_SECONDS + 1, False):
            try:
                sock.sendall(refusal.answer_to(path))
                sock.shutdown(socket.SHUT_WR)
                if refusal.linger:
                    _linger(sock)
                else:  # what has arrived, a few reads at most: these never wait (or yield)
                    sock.setblocking(False)
                    for _ in range(4):
                        if not sock.recv_into(_SCRATCH):
                            break
            except OSError:  # gone, or nothing (more) to read
                pass
        _log_refusal(method, refusal, started)


def _end_reading(client: socket.socket) -> None:
    """Shut the connection for reading, so that the greenlet waiting for its next request
    reads an end of file and closes it quietly. Done on a plain socket over the same file
    descriptor: gevent's own ``shutdown`` would wake the reader with EBADF instead, which
    gunicorn logs as an ERROR with a traceback."""
    plain = _PLAIN_SOCKET(fileno=client.fileno())
    try:
        plain.shutdown(socket.SHUT_RD)
    finally:
        plain.detach()  # the descriptor stays the client's


def _linger(sock) -> None:
    """Read and drop what the client sends until it closes, for LINGER_SECONDS at most."""
    dropped = 0
    with gevent.Timeout(LINGER_SECONDS, False):
        while dropped < LINGER_BYTES:
            received = sock.recv_into(_SCRATCH)
            if not received:
                return
            dropped += received


def _log_refusal(method: str, refusal: Refusal, started: float) -> None:
    """The request log's line for a refused request (REQUEST_LOG): method, what refused it,
    status and time taken. No address: the log holds none."""
    from django.conf import settings

    from counter.web import request_log

    if settings.REQUEST_LOG:
        ms = (time.monotonic() - started) * 1000
        method = method if method in _LOGGED_METHODS else "other"  # a stranger's word
        request_log.log_request(method, refusal.route, refusal.status, ms)


_LOGGED_METHODS = frozenset({"-", "GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"})
