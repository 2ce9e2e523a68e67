"""Log lines go through a queue (visitorsite/logqueue.py): written as before, none lost."""

import io
import json
import logging
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.conf import settings

from counter.web import request_log
from tests.servers import REPO
from visitorsite import logqueue
from visitorsite.logfilter import NoAddressFilter
from visitorsite.logformat import PLAIN_FORMAT, JsonFormatter, PlainFormatter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _formatter(name: str) -> logging.Formatter:
    if name == "json":
        return JsonFormatter()
    return logging.Formatter(PLAIN_FORMAT)  # the standard library's: ours must write the same


def _queue_handler(logger_name: str) -> logqueue.QueueHandler:
    handlers = logging.getLogger(logger_name).handlers
    return next(h for h in handlers if isinstance(h, logqueue.QueueHandler))


@pytest.fixture
def console():
    """The configured console handler, writing into a StringIO for the test."""
    handler = _queue_handler("visitorsite").handlers[0]
    logqueue.flush()  # what earlier tests logged goes where they logged it
    text = io.StringIO()
    previous = handler.setStream(text)
    yield text
    logqueue.flush()
    handler.setStream(previous)


def test_the_loggers_queue_their_records_for_the_console():
    for name in ("visitorsite", "counter"):
        queued = _queue_handler(name)
        writing = [
            h
            for h in logging.getLogger(name).handlers
            if isinstance(h, logging.StreamHandler) and not type(h).__module__.startswith("_pytest")
        ]
        assert writing == []  # nothing formats or writes in the caller
        (console,) = queued.handlers
        assert type(console) is logqueue.ConsoleHandler  # a StreamHandler writing in batches
        assert isinstance(console, logging.StreamHandler)
        assert [type(f) for f in console.filters] == [NoAddressFilter]
        if settings.LOG_FORMAT == "json":
            assert isinstance(console.formatter, JsonFormatter)
        else:
            record = _record("%s", ("text",))
            assert console.format(record) == _formatter("plain").format(record)


def test_a_request_log_line_is_written_by_the_listener(client, console):
    writers = set()

    def seen(record):
        writers.add(threading.get_ident())
        return True

    handler = _queue_handler("visitorsite").handlers[0]
    handler.addFilter(seen)
    try:
        client.get("/count/site/home", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT=BROWSER)
        logqueue.flush()
    finally:
        handler.removeFilter(seen)
    assert writers
    assert threading.get_ident() not in writers  # formatted and written off the request path
    lines = [line for line in console.getvalue().splitlines() if "visitorsite.request" in line]
    assert len(lines) == 1, console.getvalue()
    message = r"GET count-named 200 \d+\.\d\dms"
    if settings.LOG_FORMAT == "json":
        entry = json.loads(lines[0])
        assert (entry["logger"], entry["route"]) == ("visitorsite.request", "count-named")
        assert re.fullmatch(message, entry["message"])
    else:
        date = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
        assert re.fullmatch(date + " INFO visitorsite.request: " + message, lines[0])


def _log_everything(logger: logging.Logger) -> None:
    """Every kind of record the service logs, and a few it might."""
    logger.info(
        "%s %s %s %.2fms",
        "GET",
        "count-named",
        200,
        1.25,
        extra={"method": "GET", "route": "count-named", "status": 200, "ms": 1.25},
    )
    logger.warning("Redis is back: counting again")
    logger.error("Redis unavailable (%s): answering 503 until it is back", ConnectionError("down"))
    logger.info("Redis: embedded server at %s", Path("/var/lib/visitorsite"))
    logger.info("a mapping: %(name)s", {"name": "value"})
    logger.info("no arguments, a literal %s stays")
    logger.info(["not", "a", "string"])
    logger.info("unicode: %s", "compteur \u00e9t\u00e9 \u2713")
    logger.debug("below the level: %s", "never written")
    try:
        {}["missing"]
    except KeyError:
        logger.exception("Could not write %d samples of %r", 3, object)
    logger.info("with its stack", stack_info=True)


@pytest.mark.parametrize("format_name", ["plain", "json"])
def test_queued_lines_are_the_lines_the_handler_writes_itself(format_name):
    direct_text, queued_text = io.StringIO(), io.StringIO()
    direct = logging.StreamHandler(direct_text)
    direct.setFormatter(_formatter(format_name))
    target = logging.StreamHandler(queued_text)
    target.setFormatter(_formatter(format_name))
    queued = logqueue.QueueHandler([target])
    logger = logging.getLogger(f"visitorsite.tests.queue.{format_name}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.handlers = [queued, direct]  # the queue first: it sees each record as logged
    try:
        _log_everything(logger)
        logqueue.flush()
        assert queued.listener is not None  # the lines did go through the listener
    finally:
        logger.handlers = []
        queued.close()
    assert queued_text.getvalue() == direct_text.getvalue()
    written = queued_text.getvalue()
    assert "never written" not in written
    assert "KeyError: 'missing'" in written
    if format_name == "json":
        entries = [json.loads(line) for line in written.splitlines()]
        assert len(entries) == 10
        assert entries[0]["route"] == "count-named"
        assert entries[0]["message"] == "GET count-named 200 1.25ms"


class _Collect(logging.Handler):
    def __init__(self, level: int) -> None:
        super().__init__(level)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_other_handlers_get_their_records_one_by_one_and_after_a_stop_at_once():
    collect = _Collect(logging.WARNING)
    queued = logqueue.QueueHandler([collect])
    logger = logging.getLogger("visitorsite.tests.queue.collect")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.handlers = [queued]
    try:
        for i in range(50):
            logger.log(logging.WARNING if i % 2 else logging.INFO, "line %d", i)
        queued.flush()
        assert collect.messages == [f"line {i}" for i in range(1, 50, 2)]
        queued.stop()  # as at exit: the listener is gone, records are handled in the caller
        logger.warning("after the stop")
        assert collect.messages[-1] == "after the stop"
    finally:
        logger.handlers = []
        queued.close()


def _record(msg, args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("visitorsite.request", logging.INFO, __file__, 1, msg, args, exc_info)


def test_the_request_line_is_queued_unformatted():
    handler = logqueue.QueueHandler([logging.StreamHandler(io.StringIO())])
    record = _record("%s %s %s %.2fms", ("GET", "count", 200, 1.5))
    assert handler.prepare(record) is record
    assert not hasattr(record, "message")  # nothing formatted on the request path


def test_a_message_that_could_change_is_rendered_when_logged():
    handler = logqueue.QueueHandler([logging.StreamHandler(io.StringIO())])
    seen = ["first"]
    record = _record("seen: %s", (seen,))
    queued = handler.prepare(record)
    seen.append("later")
    assert queued.getMessage() == "seen: ['first']"
    assert record.args == (seen,)  # other handlers still get the record as logged


def test_a_traceback_is_rendered_when_logged():
    handler = logqueue.QueueHandler([logging.StreamHandler(io.StringIO())])
    handler.handlers[0].setFormatter(_formatter("json"))
    try:
        raise KeyError("missing")
    except KeyError as exc:
        error = exc
        record = _record("failed", (), sys.exc_info())
    queued = handler.prepare(record)
    error.add_note("a note added later")
    error.__context__ = ValueError("raised again, later")
    entry = json.loads(handler.handlers[0].format(queued))
    assert entry["exception"].endswith("KeyError: 'missing'")
    assert "later" not in entry["exception"]


# Run before each script (argv[2]: "threads" or "gevent"). Slow is a stream that takes its
# time, a slow pipe reader: the listener is still behind when the process exits or forks, so
# that what is written then, and only that, is checked.
_PRELUDE = """
import sys
if sys.argv[2] == "gevent":
    from gevent import monkey

    monkey.patch_all()
import json, logging, os, time

import django


class Slow:
    def __init__(self, stream):
        self.stream = stream

    def write(self, text):
        time.sleep(0.001)
        self.stream.write(text)

    def flush(self):
        self.stream.flush()


django.setup()
from visitorsite import logqueue

log = logging.getLogger("visitorsite.request")
queued = next(h for h in log.parent.handlers if isinstance(h, logqueue.QueueHandler))
"""

_LOG_AND_EXIT = """
queued.handlers[0].setStream(Slow(sys.stderr))
ticks = 0
if sys.argv[2] == "gevent":
    import gevent

    def tick():
        global ticks
        while True:
            ticks += 1
            gevent.sleep(0.001)

    gevent.spawn(tick)
for i in range(int(sys.argv[1])):
    log.info("%s %s %s %.2fms", "GET", "count", 200, i / 100, extra={"i": i})
    if i == 100 and sys.argv[2] == "gevent":
        gevent.sleep(0.05)  # the listener waits on the queue without blocking the hub
try:
    {}["missing"]
except KeyError:
    logging.getLogger("counter").exception("the last line, %s", "with its traceback")
print(json.dumps({"ticks": ticks}))
sys.exit(0)
"""


def _run(code: str, *args: str, log_format: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "visitorsite.settings",
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": "INFO",
    }
    result = subprocess.run(
        [sys.executable, "-c", _PRELUDE + code, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize("mode", ["threads", "gevent"])
@pytest.mark.parametrize("format_name", ["plain", "json"])
def test_lines_logged_right_before_exit_are_written(format_name, mode):
    n = 3000
    result = _run(_LOG_AND_EXIT, str(n), mode, log_format=format_name)
    status = json.loads(result.stdout)
    if mode == "gevent":
        assert status["ticks"] > 0
    if format_name == "json":
        entries = [json.loads(line) for line in result.stderr.splitlines()]
        assert [e["message"] for e in entries[:n]] == [
            f"GET count 200 {i / 100:.2f}ms" for i in range(n)
        ]
        assert [e["i"] for e in entries[:n]] == list(range(n))
        assert len(entries) == n + 1
        assert entries[-1]["message"] == "the last line, with its traceback"
        assert entries[-1]["exception"].endswith("KeyError: 'missing'")
    else:
        lines = result.stderr.splitlines()
        messages = [line.split(": ", 1)[1] for line in lines[:n]]
        assert messages == [f"GET count 200 {i / 100:.2f}ms" for i in range(n)]
        assert lines[n].endswith(" ERROR counter: the last line, with its traceback")
        assert lines[n + 1] == "Traceback (most recent call last):"
        assert lines[-1] == "KeyError: 'missing'"


_FORK = """
if sys.argv[2] == "threads":  # (a greenlet listener never yields in a write: not there)
    queued.handlers[0].setStream(Slow(sys.stderr))
log.info("parent %d", 0)  # the parent's listener runs from here
pid = os.fork()
if pid == 0:
    for i in range(int(sys.argv[1])):
        log.info("child %d", i)
    sys.exit(0)
_, status = os.waitpid(pid, 0)
log.info("parent %d, child exit status %d", 1, status)
"""


@pytest.mark.parametrize("mode", ["threads", "gevent"])
def test_a_forked_child_writes_its_lines(mode):
    n = 500
    result = _run(_FORK, str(n), mode, log_format="plain")
    messages = [line.split(": ", 1)[1] for line in result.stderr.splitlines()]
    assert messages == [
        "parent 0",
        *(f"child {i}" for i in range(n)),
        "parent 1, child exit status 0",
    ]


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.parametrize("format_name", ["plain", "json"])
def test_a_request_line_is_one_record_in_either_format(format_name, monkeypatch):
    keep = _Keep()
    monkeypatch.setattr(request_log.request_logger, "handlers", [keep])
    monkeypatch.setattr(request_log.request_logger, "propagate", False)
    request_log.log_request("GET", "count", 200, 1.25)
    (record,) = keep.records
    record.created, record.msecs = 1_767_225_599.999, 999.0  # a known time to format
    assert (record.name, record.levelno) == ("visitorsite.request", logging.INFO)
    written = _formatter(format_name).format(record)
    if format_name == "json":
        entry = json.loads(written)
        assert (entry["time"], entry["message"]) == (
            "2025-12-31T23:59:59.999+00:00",
            "GET count 200 1.25ms",
        )
        assert (entry["method"], entry["route"], entry["status"], entry["ms"]) == (
            "GET",
            "count",
            200,
            1.25,
        )
    else:
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,999 INFO visitorsite\.request: GET count 200 1\.25ms",
            written,
        )


def test_the_request_log_follows_the_loggers_level(monkeypatch):
    keep = _Keep()
    monkeypatch.setattr(request_log.request_logger, "handlers", [keep])
    monkeypatch.setattr(request_log.request_logger, "propagate", False)
    request_log.request_logger.setLevel(logging.WARNING)
    try:
        request_log.log_request("GET", "count", 200, 3.5)  # below the level: nothing at all
    finally:
        request_log.request_logger.setLevel(logging.NOTSET)
    assert keep.records == []


def test_a_request_line_that_cannot_be_queued_never_fails_the_request(monkeypatch):
    queue_handler = _queue_handler("visitorsite")
    errors = []

    def refuse(record):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(queue_handler, "enqueue", refuse)
    monkeypatch.setattr(queue_handler, "handleError", errors.append)
    request_log.log_request("GET", "count", 200, 1.5)  # no exception
    assert [record.getMessage() for record in errors] == ["GET count 200 1.50ms"]


def test_the_console_writes_no_address(console):
    logger = logging.getLogger("visitorsite.tests.address")
    try:
        raise ConnectionError("peer 198.51.100.23 reset")
    except ConnectionError:
        logger.exception("lost %s and %s", "203.0.113.9", "2001:db8::1")
    logqueue.flush()
    written = console.getvalue()
    assert "lost [address] and [address]" in written
    assert "ConnectionError: peer [address] reset" in written
    for address in ("198.51.100.23", "203.0.113.9", "2001:db8::1"):
        assert address not in written
    logging.getLogger("visitorsite.redis").info("Redis: %s (from REDIS_URL)", "redis://10.0.0.5/0")
    logqueue.flush()
    assert "Redis: redis://10.0.0.5/0 (from REDIS_URL)" in console.getvalue()  # our server's


def test_the_plain_formatter_writes_what_the_standard_one_does_across_seconds():
    ours, stock = PlainFormatter(), logging.Formatter(PLAIN_FORMAT)
    record = logging.LogRecord("visitorsite.request", logging.INFO, "", 0, "%s", ("x",), None)
    for created in (1_700_000_000.001, 1_700_000_000.999, 1_700_000_001.0, 1_700_000_061.5):
        record.created, record.msecs = created, (created - int(created)) * 1000
        assert ours.format(record) == stock.format(record)


def test_the_console_writes_its_lines_together_when_flushed_and_at_most_a_batch_late():
    class Stream(io.StringIO):
        writes = 0

        def write(self, text):
            Stream.writes += 1
            return super().write(text)

    stream = Stream()
    console = logqueue.ConsoleHandler(stream)
    console.setFormatter(logging.Formatter("%(message)s"))
    for n in range(10):
        console.handle(logging.LogRecord("t", logging.INFO, "", 0, "line %d", (n,), None))
    assert Stream.writes == 0  # held until the listener's queue is empty
    console.flush()
    assert Stream.writes == 1
    assert stream.getvalue() == "".join(f"line {n}\n" for n in range(10))
    for n in range(logqueue.BATCH_LINES):
        console.handle(logging.LogRecord("t", logging.INFO, "", 0, "more %d", (n,), None))
    assert Stream.writes == 2  # a full batch goes out without waiting
