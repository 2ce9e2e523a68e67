"""Talking to Redis, and nothing about counters: the client, idle connections, one command
or script per round trip (with WAIT behind it when asked), and Redis trouble as one error.

The client comes from the django-redis cache configured in ``CACHES["default"]``. Redis
failures (unreachable, timed out, loading, read-only replica, out of memory) become
``StoreUnavailable``, which the web layer answers with a fast 503; ``with STORE_ERRORS:``
does the mapping and logs each transition (down, back) once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from functools import partial

import hiredis
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.commands.core import Script

from counter import metrics

logger = logging.getLogger("counter.store")

# What "Redis is unavailable right now" looks like from redis-py. A ResponseError from a
# script or a wrong type is a bug and is left to surface as one.
_UNAVAILABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,  # a primary demoted by a failover
    redis.exceptions.ClusterDownError,
    redis.exceptions.TryAgainError,  # a slot moving between nodes
    redis.exceptions.OutOfMemoryError,  # at maxmemory with noeviction: writes refused
)


class StoreUnavailable(Exception):
    """Redis did not answer (in time); the request can be retried later."""


_down = False  # this process' view of Redis, for logging the transitions only


def _went_down(reason: str) -> None:
    global _down
    metrics.count(metrics.REDIS_ERRORS)
    if not _down:
        _down = True
        logger.error("Redis unavailable (%s): answering 503 until it is back", reason)


def _came_back() -> None:
    global _down
    if _down:
        _down = False
        logger.warning("Redis is back: counting again")


class _StoreErrors:
    """``with STORE_ERRORS:`` Redis trouble as StoreUnavailable, logged once per transition
    (down, back), never once per request.

    A class rather than ``@contextmanager``: it wraps every hit, and the generator behind a
    contextmanager costs 0.6 us more each time (timeit). It holds no state, so one instance
    serves every thread.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb) -> bool:
        if kind is None:
            if _down:
                _came_back()
            return False
        if issubclass(kind, _UNAVAILABLE):
            _went_down(kind.__name__)
            raise StoreUnavailable(f"Redis unavailable: {kind.__name__}: {exc}") from exc
        if issubclass(kind, OSError):  # e.g. the embedded server could not be started
            _went_down(str(exc))
            raise StoreUnavailable(f"Redis unavailable: {exc}") from exc
        return False


STORE_ERRORS = _StoreErrors()


class _Backend:
    """The counting cache's Redis client, key prefix and idle connections: set up once per
    process, again after a settings change (tests) or a fork (a new generation).

    ``caches["default"]`` goes through asgiref's context-aware Local on every access, and
    ``make_key`` through django-redis' key function: measurable on a hit path that is one
    Redis round trip.

    Scripts (every hit) run on connections built like the pool's and kept in ``idle``: a
    request pops one (or makes one), and pushes it back once its answer is read. Taking one
    from redis-py's pool and giving it back costs a lock, a pid check and connection metrics
    each time, twice the instructions of the command itself (docs/BENCHMARKS.md); a list's
    ``pop`` and ``append`` are atomic for threads and never switch greenlets. So there are
    as many connections as requests in flight at once, whatever runs them: gthread's threads
    or gevent's greenlets (a greenlet per client connection, so a connection per thread-local
    would be a Redis connection per HTTP connection). At most the pool's ``max_connections``
    (redis-py's default: 100) are open at once, as with the pool: beyond, a hit fails fast
    (a 503) instead of opening connections without bound while Redis is slow.
    """

    __slots__ = (
        "client",
        "generation",
        "idle",
        "limit",
        "lock",
        "new_connection",
        "open",
        "prefix",
        "wait",
    )

    def __init__(self, generation: int) -> None:
        cache = caches["default"]
        self.generation = generation
        self.client: redis.Redis = cache.client.get_client(write=True)
        self.prefix: str = cache.make_key("")
        replicas = settings.REDIS_WAIT_REPLICAS
        # WAIT's (replicas, timeout ms) after a hit, or None
        self.wait = (replicas, int(settings.REDIS_WAIT_TIMEOUT * 1000)) if replicas else None
        # None for a Cluster or single-connection client: commands go through the client
        self.new_connection = _connection_factory(self.client)
        self.idle: list[redis.connection.AbstractConnection] = []
        pool = getattr(self.client, "connection_pool", None)  # None: a Cluster client
        self.limit = getattr(pool, "max_connections", 0)
        self.open = 0  # connections made and not dropped, idle or in use
        self.lock = threading.Lock()  # guards ``open``; never held across I/O

    def checkout(self) -> redis.connection.AbstractConnection:
        try:
            return self.idle.pop()
        except IndexError:  # none idle (or another thread took the last one): a new one
            pass
        with self.lock:
            if self.open >= self.limit:
                raise redis.ConnectionError("Too many connections")
            self.open += 1
        connection = self.new_connection()
        try:
            # Connected here, so that the readiness check finds a fresh socket: connecting
            # from inside it would retry once, and a slow Redis would cost two timeouts.
            connection.connect()
        except BaseException:
            self.drop(connection)
            raise
        return connection

    def drop(self, connection: redis.connection.AbstractConnection) -> None:
        connection.disconnect()
        with self.lock:
            self.open -= 1


_backend: _Backend | None = None
_generation = 0


def _new_generation() -> None:
    global _generation
    _generation += 1


# A forked child must not write on its parent's sockets.
os.register_at_fork(after_in_child=_new_generation)


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    if setting in {"CACHES", "COUNTER_RETENTION_DAYS", "REDIS_WAIT_REPLICAS", "REDIS_WAIT_TIMEOUT"}:
        _new_generation()


def current() -> _Backend:
    global _backend
    backend = _backend
    if backend is None or backend.generation != _generation:
        # Two threads may both build one; the loser's connections close with it.
        backend = _backend = _Backend(_generation)
    return backend


_kept: dict[str, tuple[int, dict]] = {}  # name -> (the client's generation, what is kept)


def kept(name: str) -> dict:
    """A dict this process keeps under ``name`` (page secrets, breakdowns read), emptied
    when the client is made anew (tests point the store at another server)."""
    generation = current().generation
    entry = _kept.get(name)
    if entry is None or entry[0] != generation:
        entry = _kept[name] = (generation, {})
    return entry[1]


def _connection_factory(client: redis.Redis):
    """Makes connections like the pool's (same server, Sentinel look-up, timeouts, TLS), not
    connected yet; None for a Cluster or single-connection client."""
    pool = getattr(client, "connection_pool", None)
    if pool is None or client.connection is not None or pool.cache is not None:
        return None
    return partial(pool.connection_class, **pool.connection_kwargs)


def _ready(connection: redis.connection.AbstractConnection) -> None:
    """The pool's own check before lending a connection: bytes or EOF waiting on an idle one
    mean Redis closed it (a restart, a timeout, CLIENT KILL): connect afresh, not fail.

    Under gevent, ``can_read`` goes through gevent's poll, a trip through the hub that costs
    more CPU than one poll(2), which would never yield. That trip is what keeps the worker
    fair: without it, p99 under load rose from ~30 ms to 120-200 ms (docs/BENCHMARKS.md)."""
    try:
        if connection.can_read():
            raise redis.ConnectionError("Connection has data")
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        connection.disconnect()
        connection.connect()
        if connection.can_read():
            raise redis.ConnectionError("Connection not ready") from None


def _write(connection: redis.connection.AbstractConnection, data: bytes) -> None:
    """``send_packed_command`` for one buffer, errors and all, in one send(2) a hit: gevent's
    ``sendall`` first asks the kernel for the socket's send buffer size, on every call."""
    # A no-op unless the URL sets health_check_interval; a failed PING connects afresh, so
    # the socket is read after it.
    connection.check_health()
    sock = connection._sock
    if not isinstance(sock, socket.socket):  # fakeredis
        connection.send_packed_command((data,), check_health=False)
        return
    try:
        sent = sock.send(data)
        while sent < len(data):  # the kernel took part of it: the rest waits for room
            data = data[sent:]
            sent = sock.send(data)
    except TimeoutError:
        connection.disconnect()
        raise redis.TimeoutError("Timeout writing to socket") from None
    except OSError as exc:
        connection.disconnect()
        raise redis.ConnectionError(f"Error while writing to socket: {exc}") from exc


def get_client() -> redis.Redis:
    return current().client


def send(backend: _Backend, *command, wait: tuple[int, int] | None = None):
    """One command on an idle connection, without redis-py 8's per-command wrapping.

    ``Redis.execute_command`` adds a retry closure, timing and observability recording around
    every command, and the pool a checkout and a return: together twice the client CPU of the
    command itself (docs/BENCHMARKS.md). A connection Redis closed (a restart) is replaced
    before the command is sent; one that fails mid-command is closed, never reused.

    With ``wait`` (REDIS_WAIT_REPLICAS), ``WAIT replicas timeout`` is written right behind the
    command, in the same round trip, and the answer comes once the replicas have the write.
    Cluster clients never get one (settings.py refuses the combination).
    """
    if backend.new_connection is None:  # Cluster or single-connection clients
        return backend.client.execute_command(*command)
    connection = backend.checkout()
    try:
        _ready(connection)
        # hiredis packs in C what redis-py's serializer first re-splits and re-checks argument
        # by argument in Python: 1 us against 3 a hit (our arguments are str, bytes and int,
        # which it takes as they are).
        packed = hiredis.pack_command(command)
        if wait is None:
            _write(connection, packed)
            reply = connection.read_response()
        else:
            _write(connection, packed + hiredis.pack_command(("WAIT", *wait)))
            try:
                reply = connection.read_response()
            except redis.ResponseError:  # NOSCRIPT, say: WAIT's answer follows all the same
                connection.read_response()
                raise
            if connection.read_response() < wait[0]:
                metrics.count(metrics.REPLICATION_LAGGED)
    except redis.ResponseError:  # Redis answered: the connection is in step
        backend.idle.append(connection)
        raise
    except BaseException:  # unreachable, timed out, or cut short mid-answer
        backend.drop(connection)
        raise
    backend.idle.append(connection)
    return reply


def run(script: Script, keys: tuple, args: tuple, *, wait: tuple[int, int] | None = None):
    """EVALSHA the script; when Redis answers NOSCRIPT (new or restarted), load it, retry."""
    backend = current()
    try:
        return send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)
    except redis.exceptions.NoScriptError:
        script.sha = backend.client.script_load(script.script)
        return send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)
