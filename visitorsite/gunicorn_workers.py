"""gunicorn's gevent worker, stopping quietly on Ctrl-C and answering in one write.

On SIGINT or SIGQUIT gunicorn's workers call ``sys.exit`` from the signal handler. In a gevent
worker that handler runs in a greenlet while the main greenlet is already leaving, so every
Ctrl-C printed two tracebacks (``SystemExit`` out of gevent's threading shutdown) per worker;
gunicorn's maintainers leave it so (benoitc/gunicorn#3239). Here those signals stop the worker
the way SIGTERM does: no new connections, requests in flight finish (for at most
``graceful_timeout``), then the worker exits through its normal path, queued metrics
written.

gunicorn writes a response's headers and its body with two ``sendall`` calls, each a trip
through the loopback or network stack (and gevent asks the kernel for the send buffer's size
before each). Nearly every answer here is one piece of known length, so the worker's responses
send such a body together with its headers: one write a request instead of two
(docs/BENCHMARKS.md).
"""

from gunicorn.http import wsgi
from gunicorn.workers.ggevent import GeventWorker as _GeventWorker


class _Held:
    """Stands in for the client's socket while gunicorn writes the headers: keeps them."""

    __slots__ = ("data",)

    def sendall(self, data: bytes) -> None:
        self.data = data


class Response(wsgi.Response):
    def write(self, arg) -> None:
        """The whole body at once, of the length its headers give: both in one write."""
        if (
            self.headers_sent
            or self.chunked
            or self._omits_body
            or type(arg) is not bytes
            or self.response_length != len(arg)
        ):
            super().write(arg)
            return
        sock, held = self.sock, _Held()
        self.sock = held
        try:
            self.send_headers()  # gunicorn's own headers, into held
        finally:
            self.sock = sock
        self.sent += len(arg)
        sock.sendall(held.data + arg)


class GeventWorker(_GeventWorker):
    def init_process(self) -> None:
        wsgi.Response = Response  # what gunicorn's wsgi.create builds, in this worker only
        super().init_process()

    def handle_quit(self, sig, frame) -> None:
        self.alive = False
