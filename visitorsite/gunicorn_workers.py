"""gunicorn's gevent worker, stopping quietly on Ctrl-C.

On SIGINT or SIGQUIT gunicorn's workers call ``sys.exit`` from the signal handler. In a gevent
worker that handler runs in a greenlet while the main greenlet is already leaving, so every
Ctrl-C printed two tracebacks (``SystemExit`` out of gevent's threading shutdown) per worker;
gunicorn's maintainers leave it so (benoitc/gunicorn#3239). Here those signals stop the worker
the way SIGTERM does: no new connections, requests in flight finish (for at most
``graceful_timeout``), then the worker exits through its normal path, queued metrics
written.
"""

from gunicorn.workers.ggevent import GeventWorker as _GeventWorker


class GeventWorker(_GeventWorker):
    def handle_quit(self, sig, frame) -> None:
        self.alive = False
