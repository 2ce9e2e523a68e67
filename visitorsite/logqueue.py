"""Log lines leave the request path through a queue (settings.LOGGING).

The loggers' handler, ``QueueHandler``, puts each record on a queue and returns: no
formatting, no write. The standard library's ``logging.handlers.QueueListener``, one per
process, takes the records off in order, in a thread of its own, and gives them to the
configured handlers (``console``: format and write). Under gevent's monkey-patching the
thread is a greenlet and the queue gevent's: it writes when the hub is idle, never blocking it.

Process life, on public API only (``QueueListener.start``/``stop``/``handle``,
``os.register_at_fork``, ``atexit``):

- The listener starts with the first record a process logs. Before a fork what is queued is
  written (the master's lines come before its workers'); a child starts a queue and a
  listener of its own.
- At exit (``atexit``; gunicorn's workers leave through ``sys.exit`` on SIGTERM and SIGINT,
  which runs it) the listener writes out the queue and stops; a record logged after that is
  written at once, in the caller. ``logging.shutdown`` closes the handler, to the same effect.
"""

import atexit
import contextlib
import copy
import logging
import logging.handlers
import os
import queue
import sys
import threading
import time
import weakref

# Arguments whose text cannot change between the call and the write: the record is queued as
# it is and formatted by the listener. Others (objects, lists, lazy strings, subclasses of
# these) are rendered into the message before the record is queued.
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
_TRACEBACKS = logging.Formatter()  # formatException is the same for every formatter here

_handlers: "weakref.WeakSet[QueueHandler]" = weakref.WeakSet()

# What a record collects that no format here uses, skipped as the logging HOWTO's
# "Optimization" section says: the thread's name (gevent's, under its patching) and the
# multiprocessing process name.
logging.logThreads = False
logging.logMultiprocessing = False


def _cooperative() -> bool:
    """True when ``threading`` is gevent's: the listener's thread is a greenlet."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


# The listener, woken by a record, waits this long for more before writing them together: a
# line is written at most this late, and a busy worker switches to its listener about twenty
# times a second rather than once a request.
BATCH_SECONDS = 0.05
BATCH_LINES = 256  # a console handler writes out its lines at this many, whatever the wait


class BatchingListener(logging.handlers.QueueListener):
    """The standard listener, taking records in batches: ``dequeue`` (documented for
    overriding) writes out what the handlers hold whenever the queue is empty, then waits
    for the next record and a moment more."""

    def dequeue(self, block: bool):
        try:
            return self.queue.get_nowait()
        except queue.Empty:
            pass
        for handler in self.handlers:
            handler.flush()
        record = self.queue.get(block)
        time.sleep(BATCH_SECONDS)
        return record


class ConsoleHandler(logging.StreamHandler):
    """A StreamHandler that keeps its lines until ``flush`` (the listener's, when its queue is
    empty; and at exit, ``logging.shutdown``), then writes them in one write."""

    def __init__(self, stream=None) -> None:
        super().__init__(stream)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)
            return
        if len(self.lines) >= BATCH_LINES:
            self._write()

    def flush(self) -> None:
        with self.lock:
            self._write()

    def _write(self) -> None:
        lines, self.lines = self.lines, []
        if lines:
            self.stream.write("".join(lines))
        if self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()


class QueueHandler(logging.handlers.QueueHandler):
    """The loggers' handler: queues each record for ``handlers``, which a ``QueueListener``
    calls in its own thread. (LOGGING: ``cfg://`` links to handlers configured before this
    one; dictConfig configures them in name order.)"""

    def __init__(self, handlers) -> None:
        targets = tuple(handlers[i] for i in range(len(handlers)))  # resolves cfg:// links
        for target in targets:
            if not isinstance(target, logging.Handler):
                raise TypeError(
                    f"QueueHandler: {target!r} is not a handler; list handlers as "
                    '"cfg://handlers.NAME", each NAME sorting before this handler\'s own'
                )
        super().__init__(None)  # the queue is made by the process that logs (see _start)
        self.handlers = targets
        self.listener: logging.handlers.QueueListener | None = None
        self._lock = threading.Lock()  # start and stop of the listener
        self._running = False
        self._stopped = False  # at exit or closed: records are handled in the caller
        _handlers.add(self)

    def handle(self, record: logging.LogRecord):
        # Handler.handle without the handler lock: putting on the queue is thread-safe (and
        # gevent's lock costs a microsecond a record).
        checked = self.filter(record)
        if isinstance(checked, logging.LogRecord):  # Python 3.12+: a filter may replace it
            record = checked
        if checked:
            self.emit(record)
        return checked

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        """Fix now only what could read differently when the listener writes the record.

        A traceback is rendered now (its exception may be raised again and gain a context or
        notes). A message whose arguments are plain str/int/float/bool/None is left to the
        listener, the request log line among them: nothing is formatted on the request path.
        Any other message is rendered now, into a copy, so that other handlers still see the
        record as logged. (The standard ``prepare`` formats every record, in the caller.)
        """
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        args = record.args
        if type(record.msg) is str and (
            not args or (type(args) is tuple and all(type(a) in _IMMUTABLE for a in args))
        ):
            return record
        rendered = copy.copy(record)
        rendered.msg = record.getMessage()
        rendered.args = None
        return rendered

    def enqueue(self, record: logging.LogRecord) -> None:
        if not self._running and not self._start():
            self.listener.handle(record)  # stopped: the process is exiting
            self._write_out()
            return
        self.queue.put_nowait(record)

    def _start(self) -> bool:
        """Start the listener, with the first record of the process (or the first after a
        fork, a flush): never at the fork itself, where a thread started would be one more
        in the parent (Python 3.12+ warns of it). False once stopped for good."""
        with self._lock:
            if self.queue is None:
                # Made now, not when LOGGING is configured: under gevent the queue and the
                # listener's thread must both be gevent's, whenever it patched.
                self.queue = queue.SimpleQueue()
                self.listener = BatchingListener(
                    self.queue, *self.handlers, respect_handler_level=True
                )
            if not self._running and not self._stopped:
                self.listener.start()
                self._running = True
            return self._running

    def _stop_listener(self, for_good: bool = False) -> None:
        """Write out what is queued and stop the listener's thread."""
        with self._lock:
            if self._running:
                self.listener.stop()
                self._running = False
            self._stopped = self._stopped or for_good
        self._write_out()

    def _write_out(self) -> None:
        """What the handlers hold, written now (as ``logging.shutdown`` does: a stream already
        closed at exit is let be)."""
        for handler in self.handlers:
            with contextlib.suppress(OSError, ValueError):
                handler.flush()

    def flush(self) -> None:
        """Wait until every record queued so far is written (tests, tools)."""
        self._stop_listener()  # the next record starts it again

    def stop(self) -> None:
        """Write out the queue and stop the listener; from now on records are handled in the
        caller (at exit; also ``close``)."""
        self._stop_listener(for_good=True)
        if self.queue is None:
            return
        try:  # one logged while the listener stopped
            while True:
                self.listener.handle(self.queue.get_nowait())
        except queue.Empty:
            pass
        self._write_out()

    def close(self) -> None:
        self.stop()
        super().close()

    def _before_fork(self) -> None:
        if not self._running:
            return
        if _cooperative():
            # The greenlet is parked on the queue (a write never yields to the hub): write
            # what it has not taken yet here, without switching to it inside os.fork.
            try:
                while True:
                    self.listener.handle(self.queue.get_nowait())
            except queue.Empty:
                pass
            self._write_out()
        else:
            # No thread of ours runs at the fork, so none is in a write (holding the stream's
            # lock, which the child would inherit locked).
            self._stop_listener()

    def _after_fork_in_child(self) -> None:
        # The parent's thread did not come along (a greenlet's copy stays parked on the
        # parent's queue, which nothing fills any more): a queue and a listener of its own.
        self._lock = threading.Lock()
        self.queue = None
        self.listener = None
        self._running = False


def _each(action: str) -> None:
    """``action`` (a QueueHandler method's name) on every handler of this process."""
    for handler in list(_handlers):
        getattr(handler, action)()


def flush() -> None:
    """Wait until every record queued in this process so far is written (tests, tools)."""
    _each("flush")


os.register_at_fork(
    before=lambda: _each("_before_fork"),
    after_in_child=lambda: _each("_after_fork_in_child"),
)
# Registered when LOGGING is configured (django.setup), before the exit handlers of the modules
# imported later: those run first (last in, first out) and what they log is still written.
atexit.register(_each, "stop")
