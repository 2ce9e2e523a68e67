"""Talking to Redis, and nothing about counters: the client, its pool, one command
or script per round trip (with WAIT behind it when asked), and Redis trouble as one error.

Under gevent (gunicorn's default worker here) the commands that a worker's requests send at
the same moment share a round trip: the first waits for the requests ready to run to add
theirs, then writes them together on one connection and hands each its answer (``send``).

The client comes from the django-redis cache configured in ``CACHES["default"]``. Redis
failures (unreachable, timed out, loading, read-only replica, out of memory) become
``StoreUnavailable``, which the web layer answers with a fast 503; ``with STORE_ERRORS:``
does the mapping and logs each transition (down, back) once.
"""

from __future__ import annotations

import logging
import os
import sys

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

    __slots__ = ("client", "gathering", "generation", "pool", "prefix", "together", "wait")

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
        # Commands sent at the same moment share a round trip (see send): under gevent only,
        # where requests wait for Redis side by side in one thread; never with WAIT, whose
        # answer is each hit's own.
        self.together = self.pool is not None and self.wait is None and _cooperative()
        self.gathering: _Batch | None = None  # the batch still taking commands


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
    """One command, without redis-py's per-command wrapping: its answer, or its error raised.

    ``Redis.execute_command`` adds a retry closure, timing and observability recording around
    every command: the hit path skips them, not the pool (see ``send_all``).

    With ``wait`` (REDIS_WAIT_REPLICAS), ``WAIT replicas timeout`` is written right behind the
    command, in the same round trip, and the answer comes once the replicas have the write.
    Cluster clients never get one (settings.py refuses the combination).
    """
    if wait is None:
        return _answer(send_all(backend, [command])[0])
    reply, replicas = send_all(backend, [command, ("WAIT", *wait)])
    reply = _answer(reply)  # an error answer: WAIT's was read all the same
    if _answer(replicas) < wait[0]:
        metrics.count(metrics.REPLICATION_LAGGED)
    return reply


def send_all(backend: _Backend, commands: list[tuple]) -> list:
    """``commands`` in one round trip, on a connection of the pool: their answers in order,
    an error answer (a ``ResponseError``) in its command's place. A connection that fails
    mid-way is disconnected before it goes back, so the next one to take it connects afresh;
    its error is raised. One whose answers were read (error answers too) is in step and goes
    back as is.

    Under gevent the commands join those that the worker's other requests send at the same
    moment (``_send_together``): one write, one read and one pool checkout for all of them,
    and Redis reads and answers them in one turn of its loop. This is what puts ``/count``
    ahead of the seed (docs/BENCHMARKS.md).

    A Cluster client's commands go through its own pipeline, which sends each to its node.
    """
    pool = backend.pool
    if pool is None:  # Cluster or single-connection clients
        pipe = backend.client.pipeline(transaction=False)
        for command in commands:
            pipe.execute_command(*command)
        return pipe.execute(raise_on_error=False)
    # hiredis packs in C what redis-py's serializer first re-splits and re-checks argument by
    # argument in Python (our arguments are str, bytes and int, which it takes as they are).
    packed = [hiredis.pack_command(command) for command in commands]
    answers = _send_together(backend, packed) if backend.together else _exchange(pool, packed)
    for answer in answers:
        if isinstance(answer, Exception) and not isinstance(answer, redis.ResponseError):
            raise answer  # the connection failed: Redis's answers, if any, are lost
    return answers


# Commands in one write at most: a worker holds thousands of connections, and one request's
# answer should not wait behind an unbounded batch. The next command starts a new batch.
BATCH_LIMIT = 64


class _Batch:
    """Commands written together, in the order they came, and their answers."""

    __slots__ = ("answers", "commands", "done")

    def __init__(self, first: list[bytes]) -> None:
        from gevent.event import Event

        self.commands = first
        self.answers: list | None = None
        self.done = Event()


def _send_together(backend: _Backend, packed: list[bytes]) -> list:
    """Send ``packed`` with the commands that the worker's other requests send at the same
    moment, and return their answers (``_exchange``'s).

    A request that finds a batch taking commands adds its own and waits. One that finds none
    starts a batch and yields once (``gevent.sleep(0)``): the requests already ready to run
    (their clients' data arrived in the same turn of the event loop) run up to their own
    commands and add them. Then it writes the batch and reads the answers in order, each
    request's own to it: an error answer to that request alone, a connection that failed to
    every request whose answers had not all come. If it is stopped before it could (its
    greenlet killed), the others are told Redis did not answer: a 503 for a hit never sent.
    """
    batch = backend.gathering
    if batch is not None and len(batch.commands) + len(packed) <= BATCH_LIMIT:
        first = len(batch.commands)
        batch.commands += packed
        batch.done.wait()
        return batch.answers[first : first + len(packed)]
    import gevent

    batch = backend.gathering = _Batch(packed[:])
    try:
        try:
            gevent.sleep(0)
        finally:
            if backend.gathering is batch:
                backend.gathering = None
        batch.answers = _exchange(backend.pool, batch.commands)
    finally:
        if batch.answers is None:
            abandoned = redis.ConnectionError("the request sending this batch was stopped")
            batch.answers = [abandoned] * len(batch.commands)
        batch.done.set()
    return batch.answers[: len(packed)]


def _exchange(pool: redis.ConnectionPool, commands: list[bytes]) -> list:
    """Write ``commands`` on one connection of the pool, in one write, and read their answers
    in order. An error answer takes its command's place (Redis answered: the connection is in
    step). A connection that fails mid-way is disconnected before it goes back, and its error
    takes the place of every answer that did not come; so does the error of a connection that
    could not be had (Redis unreachable, the pool at ``max_connections``)."""
    try:
        connection = pool.get_connection()
    except Exception as error:
        return [error] * len(commands)
    answers: list = []
    try:
        connection.send_packed_command((b"".join(commands),))
        for _ in commands:
            try:
                answers.append(connection.read_response())
            except redis.ResponseError as error:
                answers.append(error)
    except BaseException as error:  # unreachable, timed out, or cut short mid-answer
        connection.disconnect()
        pool.release(connection)
        if not isinstance(error, Exception):  # the caller was stopped: theirs to handle
            raise
        return answers + [error] * (len(commands) - len(answers))
    pool.release(connection)
    return answers


def _answer(reply):
    """A command's answer, or its error raised."""
    if isinstance(reply, BaseException):
        raise reply
    return reply


def _cooperative() -> bool:
    """True when gevent has patched ``socket``: requests wait for Redis side by side in one
    thread (gunicorn's gevent worker), so that commands can join one round trip."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("socket")


def run(script: Script, keys: tuple, args: tuple, *, wait: tuple[int, int] | None = None):
    """EVALSHA the script; when Redis has lost it (a restart, a failover, SCRIPT FLUSH), EVAL
    it: the script's text in the same command, which Redis runs and keeps for the next
    EVALSHA. One step, so no second flush can come between a load and the run (loading and
    then sending EVALSHA again could answer NOSCRIPT twice under flushes close together)."""
    backend = current()
    try:
        return send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)
    except redis.exceptions.NoScriptError:
        return send(backend, "EVAL", script.script, len(keys), *keys, *args, wait=wait)
