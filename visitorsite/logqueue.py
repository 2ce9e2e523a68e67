"""Log lines leave the request path through a queue (settings.LOGGING).

The loggers' handler, ``QueueHandler``, only puts the record on a queue: no formatting, no
write, no handler lock. One listener per process, ``QueueListener``, takes the records off in
order, formats them with the configured handler (``console``) and writes all that has queued
up in one ``write``. The lines are the ones that handler wrote itself before, byte for byte: a
record keeps its creation time, and what could read differently later is fixed first, on the
caller's side (``QueueHandler.prepare``).

The request log (one line a request, on by default) takes a shorter way: the request path
queues a ``RequestLine`` (a tuple: time, method, route, status, duration), and the listener
writes it as the plain format's handler would write that record, without a ``LogRecord``,
with the date formatted once a second. Any other LOGGING (the JSON format, another handler, a
filter) gets the record itself, made by the listener. Building, queueing and formatting a
record was 6-10 % of ``/count``'s throughput under load (docs/BENCHMARKS.md).

Process life:

- The listener starts with the first record a process logs, so a forked gunicorn worker
  starts its own. Before a fork what is queued is written (the master's lines come before its
  workers'), and a child forgets the parent's queue and listener (``os.register_at_fork``).
- Under gevent's monkey-patching ``threading`` and ``queue`` are gevent's when the listener
  starts, so it is a greenlet waiting on a gevent queue: it runs when the hub is idle and never
  blocks it. A copy of a greenlet in a forked child (greenlets are memory, they survive fork)
  writes nothing: it checks whose process it runs in.
- At exit (``atexit``; gunicorn's workers leave through ``sys.exit``, which runs it) the queue is
  written out and the listener stopped; a record logged after that is written at once, in the
  caller. ``logging.shutdown`` closes the handler too, to the same effect.
"""

import atexit
import copy
import logging
import logging.handlers
import os
import queue
import sys
import threading
import time
import traceback
import weakref

from visitorsite.logformat import PLAIN_FORMAT

STOP_TIMEOUT = 5.0  # seconds to wait for the listener to write out at exit or close
FORK_FLUSH_TIMEOUT = 2.0  # and before a fork (a thread listener stops then)
BATCH = 4096  # records written by one ``write`` at most
LINGER = 0.05  # seconds the writer waits after a first record for more to join it

# Arguments whose text cannot change between the call and the write: the record is queued as
# it is and formatted by the listener. Others (objects, lists, lazy strings, subclasses of
# these) are rendered into the message before the record is queued, as the standard
# QueueHandler does for every record.
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})

_handlers: "weakref.WeakSet[QueueHandler]" = weakref.WeakSet()

# What a record collects that no format here uses, skipped as the logging HOWTO's
# "Optimization" section says: the caller's file and line (a stack walk per record), the
# thread's name (gevent's, under its patching) and the multiprocessing process name. Every
# record of the process (a request log line is one per request) is that much cheaper.
logging._srcfile = None
logging.logThreads = False
logging.logMultiprocessing = False


REQUEST_LOGGER = "visitorsite.request"
REQUEST_MESSAGE = "%s %s %s %.2fms"  # method, route, status, duration in ms
# Looked up once: getLogger takes logging's module lock (gevent's, under its patching), and
# configuring logging again keeps the Logger objects.
request_logger = logging.getLogger(REQUEST_LOGGER)


class RequestLine(tuple):
    """One request's log line as queued: (time in ns, method, route, status, duration in ms)."""

    __slots__ = ()

    def record(self) -> logging.LogRecord:
        """The record ``log_request`` stands for, made when it is needed."""
        created_ns, method, route, status, ms = self
        extra = {"method": method, "route": route, "status": status, "ms": ms}
        args = (method, route, status, ms)
        record = request_logger.makeRecord(
            REQUEST_LOGGER,
            logging.INFO,
            "(unknown file)",
            0,
            REQUEST_MESSAGE,
            args,
            None,
            extra=extra,
        )
        later = record.created - created_ns / 1e9  # made after the line
        record.created -= later
        record.relativeCreated -= later * 1000
        record.msecs = (created_ns // 1_000_000) % 1000 + 0.0
        return record


def log_request(method: str, route: str, status: int, ms: float) -> None:
    """The request log's line: ``visitorsite.request`` logs ``REQUEST_MESSAGE`` at INFO, with
    the four values as extra fields too (for the JSON format). When its records go to one
    queue handler alone, as LOGGING sets up, only a tuple is queued."""
    if not request_logger.isEnabledFor(logging.INFO):
        return
    line = RequestLine((time.time_ns(), method, route, status, ms))
    handler = _sole_queue_handler(request_logger)
    if handler is None:
        request_logger.handle(line.record())
        return
    try:
        handler.enqueue(line)
    except Exception:  # as QueueHandler.emit does: never the request's failure
        handler.handleError(line.record())


def _sole_queue_handler(logger: logging.Logger) -> "QueueHandler | None":
    """The QueueHandler that alone receives the logger's INFO records, unfiltered; else None."""
    found = None
    while logger is not None:
        if logger.filters:
            return None
        for handler in logger.handlers:
            if found is not None or type(handler) is not QueueHandler:
                return None
            found = handler
        if not logger.propagate:
            break
        logger = logger.parent
    if found is None or found.filters or found.level > logging.INFO:
        return None
    return found


class _Dates:
    """asctime as ``logging.Formatter.formatTime`` writes it by default, the date and time
    formatted once a second. One tuple holds the second and its text (read and replaced
    whole), keyed by the formatter's converter and format too."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = (None, "")

    def asctime(self, formatter: logging.Formatter, created_ns: int) -> str:
        key = (created_ns // 1_000_000_000, formatter.converter, formatter.default_time_format)
        last = self.last
        if last[0] != key:
            text = time.strftime(key[2], formatter.converter(key[0]))
            last = self.last = (key, text)
        if not formatter.default_msec_format:  # formatTime's "no milliseconds"
            return last[1]
        return formatter.default_msec_format % (last[1], (created_ns // 1_000_000) % 1000)


_dates = _Dates()


def _writes_plain(handler: logging.Handler) -> bool:
    """A handler whose line for a request record ``_plain_line`` can write: the plain format,
    its default date format, no filter."""
    formatter = handler.formatter
    return (
        type(formatter) is logging.Formatter
        and formatter._fmt == PLAIN_FORMAT
        and formatter.datefmt is None
        and not handler.filters
    )


def _plain_line(formatter: logging.Formatter, line: RequestLine) -> str:
    created_ns, method, route, status, ms = line
    asctime = _dates.asctime(formatter, created_ns)
    level = logging.getLevelName(logging.INFO)
    return f"{asctime} {level} {REQUEST_LOGGER}: {method} {route} {status} {ms:.2f}ms"


class _Flush:
    """A marker on the queue: set once every record queued before it is written."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


def _cooperative() -> bool:
    """True when ``threading`` is gevent's: a thread started now is a greenlet."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def _write_lines(handler: logging.StreamHandler, records: list[logging.LogRecord]) -> None:
    """What ``handler.handle`` does for each record, with one write and one flush for all."""
    chunks = []
    last = None
    plain = _writes_plain(handler)
    for record in records:
        if type(record) is RequestLine:
            if plain:
                if handler.level <= logging.INFO:
                    try:
                        chunks.append(_plain_line(handler.formatter, record) + handler.terminator)
                    except Exception:
                        handler.handleError(record.record())
                        continue
                    last = record
                continue
            record = record.record()
        if record.levelno < handler.level:
            continue
        checked = handler.filter(record)
        if not checked:
            continue
        if isinstance(checked, logging.LogRecord):  # Python 3.12+: a filter may replace it
            record = checked
        try:
            chunks.append(handler.format(record) + handler.terminator)
        except RecursionError:
            raise
        except Exception:
            handler.handleError(record)
            continue
        last = record
    if not chunks:
        return
    handler.acquire()
    try:
        handler.stream.write("".join(chunks))
        handler.flush()
    except RecursionError:
        raise
    except Exception:
        handler.handleError(last.record() if type(last) is RequestLine else last)
    finally:
        handler.release()


def _writes_lines(handler: logging.Handler) -> bool:
    """A StreamHandler whose ``emit`` is the standard one: its records can share a write."""
    return (
        type(handler).emit is logging.StreamHandler.emit
        and getattr(handler, "stream", None) is not None
    )


def handle_records(handlers: tuple[logging.Handler, ...], records: list) -> None:
    """Give each handler the records its level lets through, in order."""
    for handler in handlers:
        if _writes_lines(handler):
            _write_lines(handler, records)
        else:
            for record in records:
                if type(record) is RequestLine:
                    record = record.record()
                if record.levelno >= handler.level:
                    handler.handle(record)


class QueueListener(logging.handlers.QueueListener):
    """Formats and writes the queued records in a thread of its own (a greenlet under gevent)."""

    def __init__(self, queue: queue.SimpleQueue, *handlers: logging.Handler) -> None:
        super().__init__(queue, *handlers, respect_handler_level=True)
        self.pid = os.getpid()
        self.cooperative = _cooperative()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._monitor, name="log-writer", daemon=True)
        self._thread.start()

    def is_current(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def write_pending(self) -> None:
        """Write what is queued now, in the calling thread (only where the listener cannot be
        holding records of its own: a greenlet listener, or one that has stopped)."""
        records = []
        try:
            while True:
                item = self.queue.get_nowait()
                if isinstance(item, _Flush):
                    item.done.set()
                elif item is not self._sentinel:
                    records.append(item)
        except queue.Empty:
            pass
        if records:
            handle_records(self.handlers, records)

    def _monitor(self) -> None:
        q = self.queue
        while True:
            batch = [q.get()]
            # Let a burst gather: one write for what came in the next moment, not one per
            # line (a write per request line cost the hit path ~10 % of its CPU).
            time.sleep(LINGER)
            try:
                while len(batch) < BATCH:
                    batch.append(q.get_nowait())
            except queue.Empty:
                pass
            if os.getpid() != self.pid:
                return  # a copy in a forked child: these are the parent's, it writes them
            records, markers, stop = [], [], False
            for item in batch:
                if item is self._sentinel:
                    stop = True
                elif isinstance(item, _Flush):
                    markers.append(item)
                else:
                    records.append(item)
            try:
                handle_records(self.handlers, records)
            except Exception:  # the listener must live on: the next records still get written
                if logging.raiseExceptions:
                    sys.stderr.write("--- Logging error in the log writer ---\n")
                    traceback.print_exc(file=sys.stderr)
            for marker in markers:
                marker.done.set()
            if stop:
                return

    def stop(self, timeout: float | None = STOP_TIMEOUT) -> bool:
        """Write out what is queued, stop the thread; False if it did not stop in time."""
        thread = self._thread
        if thread is None:
            return True
        self.enqueue_sentinel()
        if thread is threading.current_thread():
            return False  # asked by a handler it runs: it stops after this batch
        thread.join(timeout)
        self._thread = None
        return not thread.is_alive()


class QueueHandler(logging.handlers.QueueHandler):
    """The loggers' handler: queues each record for ``handlers`` (LOGGING: ``cfg://`` links to
    handlers configured before this one; dictConfig configures them in name order)."""

    def __init__(self, handlers) -> None:
        super().__init__(None)  # the queue is made by the process that logs (see _start)
        targets = tuple(handlers[i] for i in range(len(handlers)))  # resolves cfg:// links
        for target in targets:
            if not isinstance(target, logging.Handler):
                raise TypeError(
                    f"QueueHandler: {target!r} is not a handler; list handlers as "
                    '"cfg://handlers.NAME", each NAME sorting before this handler\'s own'
                )
        self.handlers = targets
        self.listener: QueueListener | None = None
        self._starting = threading.Lock()
        self._stopped = False  # at exit or closed: records are written in the caller
        _handlers.add(self)

    def handle(self, record: logging.LogRecord):
        # Handler.handle without the handler lock: queueing is thread-safe (and gevent's
        # lock costs a microsecond).
        checked = self.filter(record)
        if isinstance(checked, logging.LogRecord):
            record = checked
        if checked:
            self.emit(record)
        return checked

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Fix now what could read differently when the listener writes the record.

        A traceback is rendered now (its exception may be raised again and gain a context or
        notes), as the handler's formatter would and caches on the record. A message whose
        arguments are plain str/int/float/bool/None is left to the listener, the request log
        line among them: nothing is formatted on the request path. Any other message is
        rendered now, into a copy, so that other handlers still see the record as logged.
        """
        if record.exc_info and not record.exc_text:
            formatter = next((h.formatter for h in self.handlers if h.formatter), None)
            record.exc_text = (formatter or logging.Formatter()).formatException(record.exc_info)
        if type(record.msg) is str:
            args = record.args
            if not args:
                return record
            if type(args) is tuple:
                for arg in args:
                    if type(arg) not in _IMMUTABLE:
                        break
                else:
                    return record
        rendered = copy.copy(record)
        rendered.msg = record.getMessage()
        rendered.args = None
        return rendered

    def enqueue(self, record: logging.LogRecord) -> None:
        q = self.queue
        if q is None:
            q = self._start()
            if q is None:  # stopped: the process is exiting
                handle_records(self.handlers, [record])
                return
        q.put_nowait(record)

    def _start(self) -> queue.SimpleQueue | None:
        """Make this process' queue and listener, on its first record."""
        with self._starting:  # nothing in here yields to gevent's hub: any lock serves
            if self._stopped or self.queue is not None:
                return self.queue
            # Made now, not at import: under gevent the queue and the thread must both be
            # gevent's, and a worker may patch after the master configured logging.
            q = queue.SimpleQueue()
            listener = QueueListener(q, *self.handlers)
            self.listener = listener
            self.queue = q
        listener.start()
        return q

    def flush(self, timeout: float | None = STOP_TIMEOUT) -> None:
        """Wait until every record queued so far is written."""
        listener, q = self.listener, self.queue
        if listener is None or q is None or listener.is_current():
            return
        marker = _Flush()
        q.put_nowait(marker)
        marker.done.wait(timeout)

    def stop(self) -> None:
        """Write out the queue and stop the listener; from now on records are written in the
        caller (at exit; also ``close``)."""
        self._stop_listener(STOP_TIMEOUT, for_good=True)

    def close(self) -> None:
        self.stop()
        super().close()

    def _stop_listener(self, timeout: float, for_good: bool = False) -> None:
        with self._starting:
            self._stopped = self._stopped or for_good
            listener = self.listener
            self.listener = None
            self.queue = None  # the next record starts a new pair, unless stopped for good
        if listener is not None and listener.stop(timeout):
            listener.write_pending()  # a thread may have put a record after the sentinel

    def _before_fork(self) -> None:
        listener = self.listener
        if listener is None:
            return
        if listener.cooperative:
            # The greenlet is parked on the queue (writing never yields to the hub): write
            # what it has not taken yet here, without switching to it inside os.fork.
            listener.write_pending()
        else:
            # No thread of ours runs at the fork, so none is in a write (holding the stream's
            # lock, which the child would inherit locked). The next record starts another.
            self._stop_listener(FORK_FLUSH_TIMEOUT)

    def _after_fork_in_child(self) -> None:
        # The parent's listener did not come along (a thread) or must stay idle (a greenlet);
        # the queue holds the parent's records. A new pair starts with the next record.
        self._starting = threading.Lock()
        self.listener = None
        self.queue = None


def _each(action: str) -> None:
    """``action`` (a QueueHandler method's name) on every handler of this process."""
    for handler in list(_handlers):
        getattr(handler, action)()


def flush() -> None:
    """Wait until every record queued in this process so far is written (tests, tools)."""
    _each("flush")


os.register_at_fork(
    before=lambda: _each("_before_fork"), after_in_child=lambda: _each("_after_fork_in_child")
)
# Registered when LOGGING is configured (django.setup), before the exit handlers of the modules
# imported later: those run first (last in, first out) and what they log is still written.
# Anything logged after this ran is written at once, in the caller.
atexit.register(_each, "stop")
