"""Who starts the embedded server and who stops it: once per process, owned by the process
that started it (stopped at its exit), announced at service start; and the django-redis
connection factory that starts it on first use."""

from __future__ import annotations

import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django_redis.pool import ConnectionFactory

from counter.embedded.server import EmbeddedRedis

logger = logging.getLogger("visitorsite.redis")  # the name its log lines have always had


def embedded() -> EmbeddedRedis:
    return EmbeddedRedis(Path(settings.DATA_DIR))


_ensured: dict[Path, str] = {}
_ensure_lock = threading.Lock()


def start_embedded() -> str:
    """Start the data directory's server if none answers, once per process; return its URL.

    Only the first call in a process checks (gunicorn workers inherit the master's check).
    Afterwards the embedded server is treated like any Redis: if it is stopped while the
    service runs, requests get fast 503s until it is started again. Starting it inside a
    request instead would hold that request for as long as Redis takes to load its AOF.
    """
    server = embedded()
    with _ensure_lock:
        if server.data_dir in _ensured:
            return _ensured[server.data_dir]
        started = server.ensure_running()
        if started:
            _own(server.data_dir)
        logger.info(
            "Redis: embedded %s %s at %s; data (AOF, fsync %s) in %s",
            server.describe() or "server",
            "started" if started else "already running",
            server.url,
            settings.EMBEDDED_REDIS_FSYNC,
            server.data_dir,
        )
        _ensured[server.data_dir] = server.url
        return server.url


# The servers this process started, by data directory, with the pid that started each one:
# a forked child (a gunicorn worker) inherits this module's state and its exit handlers, but
# owns nothing.
_started_here: dict[Path, int] = {}


def _own(data_dir: Path) -> None:
    """This process started the server of ``data_dir``: it stops it when it ends.

    A process that SIGTERM would end on the spot (the default action: no exit handler runs),
    such as a management command, exits through ``sys.exit`` instead, so that it still stops
    the server. Processes with a SIGTERM handler of their own (gunicorn's master, runserver)
    keep it.
    """
    _started_here[data_dir] = os.getpid()
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # the shell's status for a process ended by that signal


def stop_started_here() -> None:
    """Stop the servers this process started (and has not handed on), cleanly.

    Runs at the exit of every process that started one: gunicorn's ``on_exit`` hook calls it in
    the master once its workers are gone, and an exit handler covers runserver and management
    commands (normal exit, an exception, SystemExit, Ctrl-C). A server found running is never
    in the list, so it is left alone.
    """
    pid = os.getpid()
    for data_dir, owner in list(_started_here.items()):
        if owner != pid:
            continue
        del _started_here[data_dir]
        if EmbeddedRedis(data_dir).stop():
            logger.info("Redis: embedded server stopped; data kept in %s", data_dir)


atexit.register(stop_started_here)  # a no-op in a process that started nothing


def hand_over_started_here() -> None:
    """The servers this process started are meant to outlive it (``embedded_redis start``)."""
    pid = os.getpid()
    for data_dir, owner in list(_started_here.items()):
        if owner == pid:
            del _started_here[data_dir]


def masked_url(url: str) -> str:
    """The URL without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def announce() -> None:
    """At service start: bring up the embedded server if it is the one in use, and say which."""
    if settings.REDIS_URL:
        logger.info("Redis: %s (from REDIS_URL)", masked_url(settings.REDIS_URL))
    else:
        start_embedded()


class EmbeddedConnectionFactory(ConnectionFactory):
    """django-redis connection factory that points the cache at the embedded server.

    django-redis calls ``connect`` once per cache client (one per thread); the server check
    behind it runs once per process, never per request.
    """

    def connect(self, url: str) -> Any:
        return super().connect(start_embedded())
