"""Talking to Redis, and nothing about counters: the client, its pool, one command
or script per round trip (with WAIT behind it when asked), and Redis trouble as one error.

The client comes from the django-redis cache configured in ``CACHES["default"]``. Redis
failures (unreachable, timed out, loading, read-only replica, out of memory) become
``StoreUnavailable``, which the web layer answers with a fast 503; ``with STORE_ERRORS:``
does the mapping and logs each transition (down, back) once.
"""

from __future__ import annotations

import logging
import os

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
    """The counting cache's Redis client and key prefix: set up once per process, again after
    a settings change (tests) or a fork (a new generation).

    ``caches["default"]`` goes through asgiref's context-aware Local on every access, and
    ``make_key`` through django-redis' key function: measurable on a hit path that is one
    Redis round trip.

    Scripts (every hit) run on connections lent by the client's own redis-py pool, so that its
    readiness check, reconnects, re-authentication, RESP3 and maintenance handling and
    ``disconnect()`` apply to every connection. The pool opens as many as there are requests
    in flight at once, up to its ``max_connections`` (redis-py's default: 100): beyond, a hit
    fails fast (a 503) instead of opening connections without bound while Redis is slow.
    """

    __slots__ = ("client", "generation", "pool", "prefix", "wait")

    def __init__(self, generation: int) -> None:
        cache = caches["default"]
        self.generation = generation
        self.client: redis.Redis = cache.client.get_client(write=True)
        self.prefix: str = cache.make_key("")
        replicas = settings.REDIS_WAIT_REPLICAS
        # WAIT's (replicas, timeout ms) after a hit, or None
        self.wait = (replicas, int(settings.REDIS_WAIT_TIMEOUT * 1000)) if replicas else None
        # None for a Cluster or single-connection client: commands go through the client
        self.pool: redis.ConnectionPool | None = _pool(self.client)


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


def _pool(client: redis.Redis) -> redis.ConnectionPool | None:
    """The client's connection pool, None for a Cluster or single-connection client (or one
    with client-side caching): their commands go through the client itself."""
    pool = getattr(client, "connection_pool", None)
    if pool is None or client.connection is not None or getattr(pool, "cache", None) is not None:
        return None
    return pool


def get_client() -> redis.Redis:
    return current().client


def send(backend: _Backend, *command, wait: tuple[int, int] | None = None):
    """One command on a connection of the pool, without redis-py's per-command wrapping.

    ``Redis.execute_command`` adds a retry closure, timing and observability recording around
    every command: the hit path skips them, not the pool. A connection that fails
    mid-command is disconnected before it goes back, so the next one to take it connects
    afresh; one whose answer was read (an error answer too) is in step and goes back as is.

    With ``wait`` (REDIS_WAIT_REPLICAS), ``WAIT replicas timeout`` is written right behind the
    command, in the same round trip, and the answer comes once the replicas have the write.
    Cluster clients never get one (settings.py refuses the combination).
    """
    pool = backend.pool
    if pool is None:  # Cluster or single-connection clients
        return backend.client.execute_command(*command)
    connection = pool.get_connection()
    try:
        # hiredis packs in C what redis-py's serializer first re-splits and re-checks argument
        # by argument in Python (our arguments are str, bytes and int, which it takes as they
        # are); one buffer, so one send a hit.
        packed = hiredis.pack_command(command)
        if wait is None:
            connection.send_packed_command((packed,))
            reply = connection.read_response()
        else:
            connection.send_packed_command((packed + hiredis.pack_command(("WAIT", *wait)),))
            try:
                reply = connection.read_response()
            except redis.ResponseError:  # NOSCRIPT, say: WAIT's answer follows all the same
                connection.read_response()
                raise
            if connection.read_response() < wait[0]:
                metrics.count(metrics.REPLICATION_LAGGED)
    except redis.ResponseError:  # Redis answered: the connection is in step
        pool.release(connection)
        raise
    except BaseException:  # unreachable, timed out, or cut short mid-answer
        connection.disconnect()
        pool.release(connection)
        raise
    pool.release(connection)
    return reply


def run(script: Script, keys: tuple, args: tuple, *, wait: tuple[int, int] | None = None):
    """EVALSHA the script; when Redis answers NOSCRIPT (new or restarted), load it, retry."""
    backend = current()
    try:
        return send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)
    except redis.exceptions.NoScriptError:
        script.sha = backend.client.script_load(script.script)
        return send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)
