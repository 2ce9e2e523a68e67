"""Live counts: ``/live/<namespace>/<key>`` streams a counter's figures as server-sent events.

    retry: 3000

    event: count
    data: {"value": 42, "today": {"hits": 7, "uniques": 5}}

An event is sent when the figures change (looked at every second) and a comment line as a
heartbeat every 15 s. A hit pays nothing for it: a worker reads each watched counter at most
once a second, however many streams watch it (``_Watch``). A stream ends after
LIVE_STREAM_SECONDS (browsers' EventSource reconnects by itself); a worker serves at most
LIVE_STREAMS_PER_WORKER streams and a client address LIVE_STREAMS_PER_CLIENT (429 past
either). A private counter's stream needs its key (``?token=``: EventSource sends no headers).

When the process stops (``end_streams``, called from the gunicorn worker's exit path and from
runserver), every open stream ends at once with a one-second reconnect hint, so browsers move
to the next process instead of holding the stop for the graceful timeout.
"""

import json
import threading
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.http import require_safe

from counter import store
from counter.domain import permissions, visitors
from counter.names import Counter, counter_from_path
from counter.web.responses import text

_POLL_SECONDS = 1.0
_HEARTBEAT_SECONDS = 15.0
# A stream's last words when the process stops: reconnect in a second (to the next process).
GOODBYE = "retry: 1000\n: this server is stopping; reconnect\n\n"
# Set once the process is stopping: streams wait on it instead of sleeping, so they wake at once.
_ending = threading.Event()


class _Watch:
    """This worker's streams: how many (in all, and per client), and each watched counter's
    figures as last read (at most once a second per counter)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.streams = 0
        self.by_client: dict[str, int] = {}
        self.figures: dict[Counter, tuple[float, dict]] = {}

    def enter(self, client: str) -> bool:
        with self.lock:
            if self.streams >= settings.LIVE_STREAMS_PER_WORKER:
                return False
            if self.by_client.get(client, 0) >= settings.LIVE_STREAMS_PER_CLIENT:
                return False
            self.streams += 1
            self.by_client[client] = self.by_client.get(client, 0) + 1
            return True

    def leave(self, client: str) -> None:
        with self.lock:
            self.streams -= 1
            left = self.by_client.pop(client) - 1
            if left:
                self.by_client[client] = left
            if not self.streams:
                self.figures.clear()

    def read(self, counter: Counter, *, fresh: bool = False) -> dict:
        """The counter's figures: read from Redis when ``fresh`` (a stream's first event
        must not be older than the page that opened it) or when those kept are a second
        old."""
        now = time.monotonic()
        kept = self.figures.get(counter)
        if not fresh and kept is not None and now - kept[0] < _POLL_SECONDS:
            return kept[1]
        stats = store.stats(counter, days=1)  # one round trip: the total and today
        figures = {
            "value": stats.total,
            "today": {"hits": stats.today.hits, "uniques": stats.today.uniques},
        }
        self.figures[counter] = (now, figures)
        return figures


_watch = _Watch()


def _events(counter: Counter, first: dict) -> Iterator[str]:
    yield "retry: 3000\n\n"
    last, said = None, time.monotonic()
    figures = first
    ends = time.monotonic() + settings.LIVE_STREAM_SECONDS
    while True:
        if figures != last:
            yield f"event: count\ndata: {json.dumps(figures)}\n\n"
            last, said = figures, time.monotonic()
        elif time.monotonic() - said >= _HEARTBEAT_SECONDS:
            yield ": heartbeat\n\n"
            said = time.monotonic()
        if time.monotonic() >= ends:
            return
        if _ending.wait(_POLL_SECONDS):
            yield GOODBYE
            return
        try:
            figures = _watch.read(counter)
        except store.StoreUnavailable:
            yield 'event: unavailable\ndata: {"error": "the counter store is unavailable"}\n\n'
            return


def end_streams(*, wait: float = 0.0) -> None:
    """The process is stopping: end every open stream now, each with ``GOODBYE``.

    A stream otherwise lasts LIVE_STREAM_SECONDS and would hold the stop for the whole graceful
    timeout (then a SIGKILL). Safe in a signal handler with ``wait=0``; with ``wait`` it waits
    that long at most for the streams to have sent their goodbye and closed (runserver, whose
    serving threads die with the process).
    """
    _ending.set()
    deadline = time.monotonic() + wait
    while _watch.streams and time.monotonic() < deadline:
        time.sleep(0.01)


class _Stream:
    """The response's body: the events, and the stream's place in the worker given back by
    ``close`` (which the WSGI server calls however the stream ended, even before its first
    event: a generator's ``finally`` would not run then)."""

    def __init__(self, counter: Counter, client: str, first: dict) -> None:
        self.counter, self.client = counter, client
        self.events = _events(counter, first)
        self.open = True

    def __iter__(self) -> Iterator[str]:
        return self.events

    def close(self) -> None:
        if self.open:
            self.open = False
            self.events.close()
            _watch.leave(self.client)


@require_safe
def live(request: HttpRequest, path: str) -> HttpResponse:
    counter = counter_from_path(path)  # a bad name: errors.py's 400
    permissions.reveal_page(request, counter)
    refused = permissions.may_see(request, permissions.ruling_meta(counter))
    if refused is not None:
        return text("Forbidden: this counter is private; add ?token=<its admin key>\n", status=403)
    if store.total(counter) is None:
        return text(f"Not found: no counter {counter}\n", status=404)
    client = visitors.anonymous_id(request, scope="live")
    if not _watch.enter(client):
        response = text("Too many live streams: try again shortly.\n", status=429)
        response["Retry-After"] = "30"
        return response
    try:
        first = _watch.read(counter, fresh=True)
    except BaseException:
        _watch.leave(client)
        raise
    response = StreamingHttpResponse(
        _Stream(counter, client, first), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    response["Access-Control-Allow-Origin"] = "*"
    return response
