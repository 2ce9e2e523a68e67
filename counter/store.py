"""Every Redis key and command of visitorsite lives here.

The Redis client comes from the django-redis cache configured in ``CACHES["default"]``.
A counter's keys are ``<prefix>:<version>:c:{<namespace>/<key>}:<field>``; they share the
``{namespace/key}`` hash tag, so each script touches one Cluster slot. Fields:

    n        total hits (string)            never expires
    d        daily hits, field yyyymmdd     trimmed past COUNTER_RETENTION_DAYS
    du       daily uniques, field yyyymmdd  settled days only; trimmed likewise
    uv       visitor-days of settled days   never expires
    u:<day>  that day's HyperLogLog         expires after COUNTER_RETENTION_DAYS
    b        bot hits filtered              never expires
    pages    (site counters) page key -> hits, a sorted set fed by the page script
    m        metadata (hash)                created (ms), enable_reset, update bounds,
                                            sha256 of the admin key, private; a page's
                                            path; a site's page_secret (keys its pages)

A hit is one EVALSHA (redis-py's registered script: EVALSHA, re-sent as EVAL on NOSCRIPT).

Daily uniques are the day's PFCOUNT. Counting "PFADD returned 1" instead would undercount
badly: once a day's HLL fills, most new visitors change no register (measured: -18 % at 10k
visitors a day, -68 % at 100k). A day is counted into ``du`` (and added to ``uv``) once, by the
first hit of a later day ("settled"); until then readers PFCOUNT its HLL, so a hit runs no
PFCOUNT (docs/DESIGN-CHANGES.md).

Redis failures (unreachable, timed out, loading, read-only replica) become one exception,
``StoreUnavailable``, which the web layer answers with a fast 503.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from typing import NamedTuple

import hiredis
import redis
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.commands.core import Script

from counter import clock, metrics
from counter.names import SITE_KEY, Counter, page_key

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

# A day's uniques are its HyperLogLog's PFCOUNT. Counting it on every hit that changes the HLL
# (nearly every new visitor while a day fills) doubled the hit script's Redis CPU, so a day is
# counted once, when the next day starts: "settled" into du (and its uniques added to uv).
# Until then readers count its HLL. A day already settled (a host whose clock lags, an import)
# is kept current by every hit that changes its HLL, as before. Shared by the scripts below.
_UNIQUES_LUA = """
local function recount(du, uv, hll, day)
  local uniques = redis.call('PFCOUNT', hll)
  local before = tonumber(redis.call('HGET', du, day) or '0')
  if uniques ~= before then
    redis.call('HSET', du, day, uniques)
    redis.call('INCRBY', uv, uniques - before)
  end
end
local function unsettled(d, du, hll_prefix)
  local days = redis.call('HKEYS', d)
  if #days == 0 then return 0 end
  local settled = redis.call('HMGET', du, unpack(days))
  local uniques = 0
  for i, day in ipairs(days) do
    if not settled[i] then uniques = uniques + redis.call('PFCOUNT', hll_prefix .. day) end
  end
  return uniques
end
"""

_HIT = (
    _UNIQUES_LUA
    + """
-- KEYS: total, daily hits, daily uniques, unique visitor-days, today's HLL, metadata,
--       the rate window's hits per visitor
-- ARGV: today (yyyymmdd), visitor id, oldest day kept (yyyymmdd), HLL lifetime (seconds),
--       now (ms since the epoch), HLL key prefix (+ yyyymmdd: same hash tag, same slot),
--       1 to answer the unique visitor-days too, the visitor's hits allowed per window
--       (0: no limit), the window (seconds); for a site's page view also KEYS[8], ARGV[10-12]
local limit = tonumber(ARGV[8])
if limit > 0 then  -- a fixed window per counter, started by its first hit, counted per visitor
  local hits = redis.call('HINCRBY', KEYS[7], ARGV[2], 1)
  if hits == 1 and redis.call('TTL', KEYS[7]) == -1 then redis.call('EXPIRE', KEYS[7], ARGV[9]) end
  if hits > limit then return 'rate ' .. redis.call('TTL', KEYS[7]) end
end
local total = redis.call('INCR', KEYS[1])
if total > 9007199254740991 then  -- MAX_TOTAL: past it Lua's numbers (and JSON's) are inexact
  redis.call('DECR', KEYS[1])
  return 'limit'
end
local flags = ''  -- appended to the answer: c = this hit made the counter, x = page refused
if total == 1 and redis.call('HSETNX', KEYS[6], 'created', ARGV[5]) == 1 then flags = 'c' end
local day_hits = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local new_today = redis.call('PFADD', KEYS[5], ARGV[2])
if new_today == 1 and redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then
  recount(KEYS[3], KEYS[4], KEYS[5], ARGV[1])
end
if day_hits == 1 then
  -- First hit of a day: let the day's HLL expire with the retention, settle the days before,
  -- drop days past the retention.
  redis.call('EXPIRE', KEYS[5], ARGV[4])
  for _, day in ipairs(redis.call('HKEYS', KEYS[2])) do
    if day < ARGV[3] then
      redis.call('HDEL', KEYS[2], day)
    elseif day < ARGV[1] and redis.call('HEXISTS', KEYS[3], day) == 0 then
      recount(KEYS[3], KEYS[4], ARGV[6] .. day, day)
    end
  end
  for _, day in ipairs(redis.call('HKEYS', KEYS[3])) do
    if day < ARGV[3] then redis.call('HDEL', KEYS[3], day) end
  end
end
local visitor_days = 0
if ARGV[7] == '1' then
  visitor_days = tonumber(redis.call('GET', KEYS[4]) or '0') + unsettled(KEYS[2], KEYS[3], ARGV[6])
end
-- A site's page view: admit the page into the site's pages (KEYS[8]) when it is known, is the
-- "other" page (ARGV[12]) or the site has room for ARGV[11] pages; flag x if not.
if KEYS[8] then
  local page = ARGV[10]
  if redis.call('ZSCORE', KEYS[8], page) or page == ARGV[12]
     or redis.call('ZCARD', KEYS[8]) < tonumber(ARGV[11]) then
    redis.call('ZINCRBY', KEYS[8], 1, page)
  else
    flags = flags .. 'x'
  end
end
-- One flat string, not a table: Redis answers a table as a deferred-length array, which costs
-- the server as much as the rest of the script (docs/BENCHMARKS.md). %d is exact to 2^53.
local answer = string.format('%d %d %d %d', total, new_today, day_hits, visitor_days)
if flags ~= '' then return answer .. ' ' .. flags end
return answer
"""
)

_STATS = (
    _UNIQUES_LUA
    + """
-- KEYS: total, bots, visitor-days, daily hits, daily uniques, then the days' HLLs.
-- ARGV: HLL key prefix, then the days (yyyymmdd). One slot, one round trip, on a Cluster too.
local days = {unpack(ARGV, 2)}
local hits = redis.call('HMGET', KEYS[4], unpack(days))
local uniques = redis.call('HMGET', KEYS[5], unpack(days))
local hlls = {}
for i = 6, #KEYS do hlls[#hlls + 1] = KEYS[i] end
for i = 1, #days do
  if not uniques[i] then uniques[i] = redis.call('PFCOUNT', KEYS[5 + i]) end
end
local visitor_days = tonumber(redis.call('GET', KEYS[3]) or '0')
  + unsettled(KEYS[4], KEYS[5], ARGV[1])
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), visitor_days,
        hits, uniques, redis.call('PFCOUNT', unpack(hlls))}
"""
)

_BOT = """
-- KEYS: bot total, total. A bot is shown the total but does not change it; its hits are
-- counted on counters that exist only (a crawler of random names makes no keys).
local total = redis.call('GET', KEYS[2])
if total then redis.call('INCR', KEYS[1]) end
return tonumber(total or '0')
"""

_SALT = """
-- KEYS: the period's salt. ARGV: a fresh random salt, seconds until it must be gone.
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
return redis.call('GET', KEYS[1])
"""


_CREATE = """
-- KEYS: total, metadata. ARGV: starting value, then metadata field/value pairs.
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 2))
return 1
"""

_SET = """
-- KEYS: total, metadata. ARGV: new value, 1 when enable_reset must be on.
-- Returns {status, old}: status 1 set, 0 refused (reset disabled), -1 no such counter.
local old = redis.call('GET', KEYS[1])
if not old then return {-1, 0} end
if ARGV[2] == '1' and redis.call('HGET', KEYS[2], 'enable_reset') ~= '1' then
  return {0, tonumber(old)}
end
redis.call('SET', KEYS[1], ARGV[1])
return {1, tonumber(old)}
"""

_UPDATE = """
-- KEYS: total, metadata. ARGV: amount, 1 when the bounds apply, default lower, upper,
-- the largest total allowed (either sign).
-- Returns {status, value}: status 1 updated, 0 out of bounds, -1 no such counter,
-- -2 the total would pass the largest allowed.
local current = redis.call('GET', KEYS[1])
if not current then return {-1, 0} end
local amount = tonumber(ARGV[1])
if ARGV[2] == '1' then
  local lower = tonumber(redis.call('HGET', KEYS[2], 'update_lowerbound') or ARGV[3])
  local upper = tonumber(redis.call('HGET', KEYS[2], 'update_upperbound') or ARGV[4])
  if amount < lower or amount > upper then return {0, tonumber(current)} end
end
local limit = tonumber(ARGV[5])
local after = tonumber(current) + amount
if after > limit or after < -limit then return {-2, tonumber(current)} end
return {1, redis.call('INCRBY', KEYS[1], ARGV[1])}
"""

_ROTATE = """
-- KEYS: metadata. ARGV: the admin key's hash as the caller read it ('' for none), the new one.
-- Returns 1 replaced, 0 it changed meanwhile (a concurrent rotation), -1 no such counter.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if (redis.call('HGET', KEYS[1], 'admin_key_sha256') or '') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'admin_key_sha256', ARGV[2])
return 1
"""

_PAGE_KEYING = """
-- KEYS: the site's metadata, the site's pages. ARGV: a fresh random secret.
-- Returns {secret, pages the site had when this call made its secret (0 if it had one)}.
local secret = redis.call('HGET', KEYS[1], 'page_secret')
if secret then return {secret, 0} end
redis.call('HSET', KEYS[1], 'page_secret', ARGV[1])
return {ARGV[1], redis.call('ZCARD', KEYS[2])}
"""

_CLAIM = """
-- KEYS: total, metadata. ARGV: now (ms), the admin key's hash, private ('' leaves it).
redis.call('SET', KEYS[1], 0, 'NX')
redis.call('HSETNX', KEYS[2], 'created', ARGV[1])
redis.call('HSET', KEYS[2], 'admin_key_sha256', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], 'private', ARGV[3]) end
return redis.call('GET', KEYS[1])
"""

_RATE = """
-- KEYS: the bucket. ARGV: window (seconds). Fixed window: returns {count, seconds left}.
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
"""


class StoreUnavailable(Exception):
    """Redis did not answer (in time); the request can be retried later."""


# The largest total either way: past 2^53 - 1 neither Redis' Lua nor JSON clients (doubles)
# hold a count exactly. set, update, create and import refuse to pass it; a hit at it too.
MAX_TOTAL = 2**53 - 1


class HitRateLimited(Exception):
    """This visitor passed HIT_RATE_LIMIT on this counter: not counted (a 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many hits from this visitor; retry in {retry_after} s")
        self.retry_after = retry_after


class CounterAtLimit(Exception):
    """The counter's total is at MAX_TOTAL: it counts no further (answered with a 4xx)."""

    def __init__(self) -> None:
        super().__init__(f"the counter is at its largest total, {MAX_TOTAL}: it counts no further")


@dataclass(frozen=True, slots=True)
class Hit:
    total: int
    new_visitor_today: bool
    today: int = 0  # hits today, this one included
    unique_visitor_days: int = 0
    counted: bool = True
    created: bool = False  # this hit made the counter (its first, on a name nobody created)
    page_refused: bool = False  # a site's hit: the page's view was over PAGES_PER_SITE


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    hits: int
    uniques: int


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    bots: int
    unique_visitor_days: int
    uniques: int  # distinct visitor ids over the range (PFCOUNT of the days' union)
    days: list[Day]  # oldest first, today last

    @property
    def today(self) -> Day:
        return self.days[-1]


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
    """``with _STORE_ERRORS:`` Redis trouble as StoreUnavailable, logged once per transition
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


_STORE_ERRORS = _StoreErrors()


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
        "page_secrets",
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
        self.page_secrets: dict[str, tuple[float, bytes]] = {}  # namespace -> (until, secret)

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
        _counter_keys.cache_clear()


def _current() -> _Backend:
    global _backend
    backend = _backend
    if backend is None or backend.generation != _generation:
        # Two threads may both build one; the loser's connections close with it.
        backend = _backend = _Backend(_generation)
    return backend


def _connection_factory(client: redis.Redis):
    """Makes connections like the pool's (same server, Sentinel look-up, timeouts, TLS), not
    connected yet; None for a Cluster or single-connection client."""
    pool = getattr(client, "connection_pool", None)
    if pool is None or client.connection is not None or pool.cache is not None:
        return None
    return partial(pool.connection_class, **pool.connection_kwargs)


def _ready(connection: redis.connection.AbstractConnection) -> None:
    """The pool's own check before lending a connection: bytes or EOF waiting on an idle one
    mean Redis closed it (a restart, a timeout, CLIENT KILL): connect afresh, not fail."""
    try:
        if connection.can_read():
            raise redis.ConnectionError("Connection has data")
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        connection.disconnect()
        connection.connect()
        if connection.can_read():
            raise redis.ConnectionError("Connection not ready") from None


def _client() -> redis.Redis:
    return _current().client


# SHA computed once per process (bytes need no client to hash them).
_HIT_SCRIPT = Script(None, _HIT.encode())
_BOT_SCRIPT = Script(None, _BOT.encode())
_STATS_SCRIPT = Script(None, _STATS.encode())
_SALT_SCRIPT = Script(None, _SALT.encode())
_CREATE_SCRIPT = Script(None, _CREATE.encode())
_SET_SCRIPT = Script(None, _SET.encode())
_UPDATE_SCRIPT = Script(None, _UPDATE.encode())
_RATE_SCRIPT = Script(None, _RATE.encode())
_ROTATE_SCRIPT = Script(None, _ROTATE.encode())
_PAGE_KEYING_SCRIPT = Script(None, _PAGE_KEYING.encode())
_CLAIM_SCRIPT = Script(None, _CLAIM.encode())


def _send(backend: _Backend, *command, wait: tuple[int, int] | None = None):
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
            connection.send_packed_command((packed,))
            reply = connection.read_response()
        else:
            connection.send_packed_command((packed, hiredis.pack_command(("WAIT", *wait))))
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


def _run(script: Script, keys: tuple, args: tuple, *, wait: tuple[int, int] | None = None):
    """EVALSHA the script; when Redis answers NOSCRIPT (new or restarted), load it, retry."""
    backend = _current()
    try:
        return _send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)
    except redis.exceptions.NoScriptError:
        script.sha = backend.client.script_load(script.script)
        return _send(backend, "EVALSHA", script.sha, len(keys), *keys, *args, wait=wait)


def _cache_key(name: str) -> str:
    return _current().prefix + name


def _key(counter: Counter, field: str) -> str:
    return _cache_key(f"c:{{{counter.namespace}/{counter.key}}}:{field}")


@lru_cache(maxsize=16_384)
def _counter_keys(prefix: str, counter: Counter) -> tuple[str, ...]:
    """The hit script's fixed keys, the prefix of its daily HyperLogLog keys, its rate window
    (``r``: hits per visitor, gone after HIT_RATE_LIMIT's window) and a site's pages."""
    base = f"{prefix}c:{{{counter.namespace}/{counter.key}}}:"
    return (
        *(base + field for field in ("n", "d", "du", "uv", "m")),
        base + "u:",
        base + "r",
        base + "pages",
    )


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


@lru_cache(maxsize=4)
def _days(today: date, retention: int) -> tuple[str, str]:
    """Today and the oldest day kept, as the hashes' field names."""
    return _day(today), _day(today - timedelta(days=retention - 1))


def _hit_command(
    prefix: str,
    counter: Counter,
    visitor_id: str,
    now: datetime | None,
    uniques: bool = False,
    page: Counter | None = None,
) -> tuple[tuple, tuple]:
    """The hit script's keys and arguments."""
    retention = settings.COUNTER_RETENTION_DAYS
    today, oldest = _days((now or clock.now()).date(), retention)
    n, d, du, uv, m, hll, rate, pages = _counter_keys(prefix, counter)
    limit, window = settings.HIT_RATE_LIMIT or (0, 0)
    keys = (n, d, du, uv, hll + today, m, rate)
    now_ms = int(time.time() * 1000)
    args = (today, visitor_id, oldest, retention * 86400, now_ms, hll, +uniques, limit, window)
    if page is not None:  # the site's hit of a page view also admits the page (hit_page)
        keys += (pages,)
        args += (page.key, settings.PAGES_PER_SITE, OTHER_PAGE_KEY)
    return keys, args


def _as_hit(reply: bytes) -> Hit:
    """The hit script's answer: b"total new-today today's-hits visitor-days [flags]", or
    b"limit" (at MAX_TOTAL), or b"rate <seconds>" (HIT_RATE_LIMIT passed)."""
    if reply == b"limit":
        raise CounterAtLimit
    if reply.startswith(b"rate "):
        raise HitRateLimited(max(int(reply[5:]), 1))
    parts = reply.split()
    flags = parts[4] if len(parts) > 4 else b""
    return Hit(
        int(parts[0]),
        parts[1] == b"1",
        int(parts[2]),
        int(parts[3]),
        created=b"c" in flags,
        page_refused=b"x" in flags,
    )


def hit(
    counter: Counter, *, visitor_id: str, now: datetime | None = None, uniques: bool = False
) -> Hit:
    """Count one human hit: total, today's bucket, today's HyperLogLog. One round trip.
    With ``uniques`` the answer carries the unique visitor-days (a badge shows them)."""
    with _STORE_ERRORS:
        backend = _current()
        keys, args = _hit_command(backend.prefix, counter, visitor_id, now, uniques)
        reply = _run(_HIT_SCRIPT, keys, args, wait=backend.wait)
    metrics.count(metrics.HITS)
    return _as_hit(reply)


# Past PAGES_PER_SITE distinct pages, a site's new paths are counted on this one page.
OTHER_PAGE_KEY = "p.other"
OTHER_PAGE_PATH = "(other pages)"


def hit_page(
    site: Counter, page: Counter, *, visitor_id: str, path: str, now: datetime | None = None
) -> tuple[Hit, Hit]:
    """Count a page view on the site's counter and the page's, and keep the page's original
    path for display: one pipelined round trip (two hash tags, so not one script).

    A site has at most PAGES_PER_SITE page counters: the site's hit admits a new page into
    the site's pages while there is room; past that, the new path's counter, just made by
    this view, is deleted again and the view counted on the site's "other" page instead (two
    more round trips, for such views only).
    """
    with _STORE_ERRORS:
        backend = _current()
        replies = _page_view(backend, site, page, visitor_id, path, now)
        page_hit = _as_hit(replies[1])
        try:
            site_hit = _as_hit(replies[0])
        except (HitRateLimited, CounterAtLimit):
            # The site refused the view (and did not admit the page): a page counter this
            # view made goes again, or refused views with new paths would make keys unbounded.
            if page_hit.created:
                delete(page, now=now)
            raise
        if site_hit.page_refused:
            delete(page, now=now)
            other = Counter(page.namespace, OTHER_PAGE_KEY)
            replies = _page_view(
                backend, site, other, visitor_id, OTHER_PAGE_PATH, now, site_too=False
            )
            page_hit = _as_hit(replies[1])
    metrics.count(metrics.HITS, 2)
    return site_hit, page_hit


def _page_view(backend, site, page, visitor_id, path, now, *, site_too: bool = True) -> list:
    """The page view's commands in one pipeline: the site's hit (which admits the page into
    the site's pages) unless not ``site_too``, the page's hit, the page's path."""
    for _attempt in (1, 2):
        pipe = backend.client.pipeline(transaction=False)
        if site_too:
            keys, args = _hit_command(backend.prefix, site, visitor_id, now, page=page)
            pipe.execute_command("EVALSHA", _HIT_SCRIPT.sha, len(keys), *keys, *args)
        else:  # the "other" page, counted in the site's pages without a second site hit
            pipe.zincrby(_key(site, "pages"), 1, page.key)
        keys, args = _hit_command(backend.prefix, page, visitor_id, now)
        pipe.execute_command("EVALSHA", _HIT_SCRIPT.sha, len(keys), *keys, *args)
        pipe.hsetnx(_key(page, "m"), "path", path)
        if backend.wait:
            pipe.execute_command("WAIT", *backend.wait)
        replies = pipe.execute(raise_on_error=False)
        if not any(isinstance(r, redis.exceptions.NoScriptError) for r in replies):
            break
        # Redis restarted: no script was run (every hit failed alike); load it and redo.
        _HIT_SCRIPT.sha = backend.client.script_load(_HIT_SCRIPT.script)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    if backend.wait and replies[-1] < backend.wait[0]:
        metrics.count(metrics.REPLICATION_LAGGED)
    return replies


def bot_hit(counter: Counter) -> Hit:
    """Record a filtered bot hit; return the unchanged total. One round trip."""
    with _STORE_ERRORS:
        total = _run(_BOT_SCRIPT, (_key(counter, "b"), _key(counter, "n")), ())
    metrics.count(metrics.BOT_HITS)
    return Hit(total=int(total), new_visitor_today=False, counted=False)


def total(counter: Counter) -> int | None:
    """The counter's total, or None when it has never been hit."""
    with _STORE_ERRORS:
        value = _client().get(_key(counter, "n"))
    return None if value is None else int(value)


def stats(counter: Counter, *, days: int, now: datetime | None = None) -> Stats:
    """Totals and the last ``days`` days (today included), in one round trip (a script)."""
    if not 1 <= days <= settings.COUNTER_RETENTION_DAYS:
        raise ValueError(f"days must be 1 to {settings.COUNTER_RETENTION_DAYS}, got {days}")
    today = (now or clock.now()).date()
    span = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    fields = [_day(day) for day in span]
    keys = [_key(counter, field) for field in ("n", "b", "uv", "d", "du")]
    keys += [_key(counter, f"u:{field}") for field in fields]
    with _STORE_ERRORS:
        reply = _run(_STATS_SCRIPT, tuple(keys), (_key(counter, "u:"), *fields))
    total_, bots, visitor_days, hits, uniques, range_uniques = reply
    return Stats(
        total=int(total_ or 0),
        bots=int(bots or 0),
        unique_visitor_days=int(visitor_days or 0),
        uniques=int(range_uniques),
        days=[
            Day(day=day, hits=int(h or 0), uniques=int(u or 0))
            for day, h, u in zip(span, hits, uniques, strict=True)
        ],
    )


@dataclass(frozen=True, slots=True)
class Info:
    total: int | None  # None: the counter does not exist
    meta: dict[str, str]


def info(counter: Counter) -> Info:
    """The total and the metadata hash, in one round trip."""
    with _STORE_ERRORS:
        pipe = _client().pipeline(transaction=False)
        pipe.get(_key(counter, "n"))
        pipe.hgetall(_key(counter, "m"))
        value, meta = pipe.execute()
    return Info(
        total=None if value is None else int(value),
        meta={k.decode(): v.decode() for k, v in meta.items()},
    )


def _stat(name: str) -> str:
    # One hash tag for the service-wide figures, so they can be read together on a Cluster.
    return _cache_key(f"stats:{{service}}:{name}")


def create(counter: Counter, *, value: int, meta: dict[str, str | int]) -> bool:
    """Create the counter with a starting value and metadata; False when it exists."""
    pairs = [str(item) for pair in meta.items() for item in pair]
    with _STORE_ERRORS:
        client = _client()
        created = _run(_CREATE_SCRIPT, (_key(counter, "n"), _key(counter, "m")), (value, *pairs))
        if created:
            client.incr(_stat("keys_created"))
    return bool(created)


def set_total(counter: Counter, value: int, *, require_reset_enabled: bool) -> tuple[int, int]:
    """Set the total; return (status, old total): 1 set, 0 refused, -1 no such counter."""
    keys = (_key(counter, "n"), _key(counter, "m"))
    with _STORE_ERRORS:
        client = _client()
        status, old = _run(_SET_SCRIPT, keys, (value, int(require_reset_enabled)))
        if status == 1:
            client.incr(_stat("keys_updated"))
    return int(status), int(old)


def update(counter: Counter, amount: int, *, bounds: tuple[int, int] | None) -> tuple[int, int]:
    """Add ``amount`` (within the counter's update bounds unless ``bounds`` is None, whose
    values are the defaults for counters that never stored theirs); return (status, total):
    1 updated, 0 out of bounds, -1 no such counter, -2 the total would pass MAX_TOTAL."""
    keys = (_key(counter, "n"), _key(counter, "m"))
    lower, upper = bounds or (0, 0)
    args = (amount, int(bounds is not None), lower, upper, MAX_TOTAL)
    with _STORE_ERRORS:
        client = _client()
        status, value = _run(_UPDATE_SCRIPT, keys, args)
        if status == 1:
            client.incr(_stat("keys_updated"))
    return int(status), int(value)


def replace_admin_key(counter: Counter, *, expected: str, new: str) -> int:
    """Replace the admin key's hash if it is still ``expected``: 1 done, 0 it changed
    meanwhile, -1 no such counter. The old key stops working at once."""
    with _STORE_ERRORS:
        return int(_run(_ROTATE_SCRIPT, (_key(counter, "m"),), (expected, new)))


def delete(counter: Counter, *, now: datetime | None = None) -> bool:
    """Delete every key of the counter (daily HyperLogLogs of the whole retention included)."""
    today = (now or clock.now()).date()
    days = settings.COUNTER_RETENTION_DAYS + 1
    fields = ["n", "d", "du", "uv", "b", "m", "pages", "r"]
    fields += [f"u:{_day(today - timedelta(days=offset))}" for offset in range(days)]
    if counter.key == SITE_KEY:  # its page secret goes with it
        _current().page_secrets.pop(counter.namespace, None)
    with _STORE_ERRORS:
        deleted = _client().delete(*[_key(counter, field) for field in fields])
    return deleted > 0


def service_stats() -> dict[str, int]:
    """Service-wide figures: counters created and admin updates made."""
    with _STORE_ERRORS:
        created, updated = _client().mget(_stat("keys_created"), _stat("keys_updated"))
    return {"keys_created": int(created or 0), "keys_updated": int(updated or 0)}


def rate_limit(bucket: str, *, window: int) -> tuple[int, int]:
    """Count one request in ``bucket``'s fixed window; return (count so far, seconds left)."""
    with _STORE_ERRORS:
        count, ttl = _run(_RATE_SCRIPT, (_cache_key(f"rl:{bucket}"),), (window,))
    return int(count), max(int(ttl), 0)


# A process keeps a site's page secret this long (a site deleted and made again elsewhere
# has a new one: its pages split for at most this long in this process), for this many sites.
_PAGE_SECRET_SECONDS = 300
_PAGE_SECRETS_KEPT = 10_000


def page_secret(site: Counter) -> bytes:
    """The site's secret that keys its page counters' names, made by the first page view
    (kept in the site's metadata, so a backup carries it). Read from Redis once per site
    every few minutes, not per view. The view that gives a site from before page secrets
    its secret moves that site's pages to their keyed names (rekey_pages)."""
    backend = _current()
    kept = backend.page_secrets.get(site.namespace)
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    with _STORE_ERRORS:
        keys = (_key(site, "m"), _key(site, "pages"))
        secret, pages_before = _run(_PAGE_KEYING_SCRIPT, keys, (secrets.token_hex(32),))
    secret = bytes.fromhex(secret.decode())
    if pages_before:
        rekey_pages(site, secret)
    if len(backend.page_secrets) >= _PAGE_SECRETS_KEPT:
        backend.page_secrets.clear()
    backend.page_secrets[site.namespace] = (time.monotonic() + _PAGE_SECRET_SECONDS, secret)
    return secret


def rekey_pages(site: Counter, secret: bytes) -> int:
    """Move the site's page counters named by an unkeyed hash (before page secrets) to the
    keyed name of their stored path: merged into the new counter (views counted there
    meanwhile are kept), then the old one deleted. Idempotent; returns the pages moved."""
    with _STORE_ERRORS:
        client = _client()
        ranked = client.zrange(_key(site, "pages"), 0, -1, withscores=True)
        olds = [Counter(site.namespace, raw.decode()) for raw, _ in ranked]
        pipe = client.pipeline(transaction=False)
        for old in olds:
            pipe.hget(_key(old, "m"), "path")
        paths = pipe.execute()
    moved = 0
    for old, (_, hits), path in zip(olds, ranked, paths, strict=True):
        if path is None or old.key == OTHER_PAGE_KEY:
            continue
        new = Counter(site.namespace, page_key(path.decode("utf-8", "surrogateescape"), secret))
        if new == old:
            continue
        import_counter(new, export_counter(old), replace=False)
        delete(old)
        with _STORE_ERRORS:
            pipe = _client().pipeline(transaction=True)
            pipe.zincrby(_key(site, "pages"), hits, new.key)
            pipe.zrem(_key(site, "pages"), old.key)
            pipe.execute()
        moved += 1
    if moved:
        logger.info("%s: moved %d page counters to keyed names", site, moved)
    return moved


def claim(site: Counter, *, admin_key_sha256: str, private: bool | None) -> int:
    """Give the site (made now if need be) this admin key, replacing any other; ``private``
    sets its privacy unless None. Returns its total."""
    now_ms = int(clock.now().timestamp() * 1000)
    flag = "" if private is None else str(int(private))
    with _STORE_ERRORS:
        keys = (_key(site, "n"), _key(site, "m"))
        total_ = _run(_CLAIM_SCRIPT, keys, (now_ms, admin_key_sha256, flag))
    return int(total_)


class Page(NamedTuple):
    path: str  # as the page script sent it
    hits: int
    key: str  # its counter's key in the site's namespace


def top_pages(site: Counter, *, limit: int = 10) -> list[Page]:
    """The site's most viewed pages, most viewed first."""
    with _STORE_ERRORS:
        client = _client()
        ranked = client.zrevrange(_key(site, "pages"), 0, limit - 1, withscores=True)
        if not ranked:
            return []
        pipe = client.pipeline(transaction=False)
        for page_key_, _ in ranked:
            pipe.hget(_key(Counter(site.namespace, page_key_.decode()), "m"), "path")
        paths = pipe.execute()
    return [
        Page((path or key).decode(), int(hits), key.decode())
        for (key, hits), path in zip(ranked, paths, strict=True)
    ]


# Backup and restore (counter/backup.py) -------------------------------------------------

_REFRESH_DAY = (
    _UNIQUES_LUA
    + """
-- KEYS: daily uniques, unique visitor-days, the day's HLL. ARGV: the day.
-- After a merge: the day's uniques are its HLL's count again (settled); visitor-days follow.
recount(KEYS[1], KEYS[2], KEYS[3], ARGV[1])
"""
)
_REFRESH_DAY_SCRIPT = Script(None, _REFRESH_DAY.encode())


def iter_counters(*, namespace: str | None = None) -> Iterator[Counter]:
    """Every counter that has a total, metadata or bot hits (SCAN: no blocking KEYS)."""
    prefix = _cache_key("c:{")
    pattern = f"{prefix}{namespace}/*" if namespace else f"{prefix}*"
    seen: set[Counter] = set()
    with _STORE_ERRORS:
        for raw in _client().scan_iter(match=pattern, count=1000):
            name = raw.decode()
            tag = name[len(prefix) : name.index("}:", len(prefix))]
            ns, _, key = tag.partition("/")
            counter = Counter(ns, key)
            if counter not in seen:
                seen.add(counter)
                yield counter


def export_counter(counter: Counter) -> dict:
    """Everything about one counter, raw HyperLogLogs included (two round trips)."""
    with _STORE_ERRORS:
        client = _client()
        pipe = client.pipeline(transaction=False)
        for field in ("n", "b", "uv"):
            pipe.get(_key(counter, field))
        for field in ("d", "du", "m"):
            pipe.hgetall(_key(counter, field))
        pipe.zrange(_key(counter, "pages"), 0, -1, withscores=True)
        total, bots, visitor_days, daily, daily_uniques, meta, pages = pipe.execute()
        days = sorted({k.decode() for k in daily} | {k.decode() for k in daily_uniques})
        uniques = {k.decode(): int(v) for k, v in daily_uniques.items()}
        unsettled = [day for day in days if day not in uniques]  # counted at read time
        pipe = client.pipeline(transaction=False)
        for day in days:
            pipe.get(_key(counter, f"u:{day}"))
            pipe.ttl(_key(counter, f"u:{day}"))
        for day in unsettled:
            pipe.pfcount(_key(counter, f"u:{day}"))
        raw = pipe.execute()
    hlls = {day: (raw[2 * i], raw[2 * i + 1]) for i, day in enumerate(days)}
    uniques.update(zip(unsettled, raw[2 * len(days) :], strict=True))
    return {
        "total": None if total is None else int(total),
        "bots": int(bots or 0),
        "unique_visitor_days": int(visitor_days or 0) + sum(uniques[day] for day in unsettled),
        "daily": {k.decode(): int(v) for k, v in sorted(daily.items())},
        "daily_uniques": dict(sorted(uniques.items())),
        "hll": {day: value for day, (value, _) in hlls.items() if value is not None},
        "hll_ttl": {day: ttl for day, (value, ttl) in hlls.items() if value is not None},
        "meta": {k.decode(): v.decode() for k, v in meta.items()},
        "pages": {k.decode(): int(v) for k, v in pages},
    }


def import_counter(counter: Counter, data: dict, *, replace: bool) -> None:
    """Write one exported counter: ``replace`` makes it exactly the export (one MULTI/EXEC);
    otherwise it is merged in (totals added, HyperLogLogs merged, uniques recounted)."""
    day_ttl = settings.COUNTER_RETENTION_DAYS * 86400
    with _STORE_ERRORS:
        client = _client()
        if data["total"] and not replace:
            after = int(client.get(_key(counter, "n")) or 0) + data["total"]
            if abs(after) > MAX_TOTAL:
                raise ValueError(f"{counter}: merged, its total would pass {MAX_TOTAL}")
        pipe = client.pipeline(transaction=True)
        if replace:
            delete(counter)
        if data["total"] is not None:
            pipe.incrby(_key(counter, "n"), data["total"])
        if data["bots"]:
            pipe.incrby(_key(counter, "b"), data["bots"])
        for day, hits in data["daily"].items():
            pipe.hincrby(_key(counter, "d"), day, hits)
        tmp = _key(counter, "import")
        for day, raw in data["hll"].items():
            hll = _key(counter, f"u:{day}")
            if replace:  # as it was (PFMERGE would turn a small sparse HLL into a dense one)
                pipe.set(hll, raw)
            else:
                pipe.set(tmp, raw)
                pipe.pfmerge(hll, hll, tmp)
            ttl = data["hll_ttl"].get(day, -1)
            pipe.expire(hll, ttl if ttl > 0 else day_ttl)
        pipe.delete(tmp)
        without_hll = {d: u for d, u in data["daily_uniques"].items() if d not in data["hll"]}
        for day, uniques in without_hll.items():
            pipe.hincrby(_key(counter, "du"), day, uniques)
        # Visitor-days of days no longer in the export's history: carried over as they were.
        carried = data["unique_visitor_days"] - sum(data["daily_uniques"].values())
        pipe.incrby(_key(counter, "uv"), carried + sum(without_hll.values()))
        for field, value in data["meta"].items():
            if replace:
                pipe.hset(_key(counter, "m"), field, value)
            else:
                pipe.hsetnx(_key(counter, "m"), field, value)
        for page, hits in data["pages"].items():
            pipe.zincrby(_key(counter, "pages"), hits, page)
        pipe.execute()
        for day in data["hll"]:  # the merged HLLs' counts are the days' uniques
            keys = (_key(counter, "du"), _key(counter, "uv"), _key(counter, f"u:{day}"))
            _run(_REFRESH_DAY_SCRIPT, keys, (day,))


def reset(counter: Counter, *, value: int = 0) -> int:
    """Set the total to ``value`` atomically; return the total it had before (0 if none)."""
    with _STORE_ERRORS:
        old = _client().set(_key(counter, "n"), value, get=True)
    return 0 if old is None else int(old)


def period_salt(period: str, *, ttl: int) -> bytes:
    """The shared random salt of a visitor-hash period, created by whoever asks first."""
    with _STORE_ERRORS:
        salt = _run(_SALT_SCRIPT, (_cache_key(f"salt:{period}"),), (secrets.token_hex(32), ttl))
    return bytes.fromhex(salt.decode() if isinstance(salt, bytes) else salt)


def rewrite_aof_after(period: str, *, claim_seconds: int) -> str:
    """Once ``period``'s salt has expired, rewrite the server's append-only file.

    The AOF records every write: the period's salt and each visitor id (a PFADD argument)
    stay on disk until the file is rewritten, which Redis does by itself only when it has
    doubled. A rewrite writes what exists now (the salt is gone, HyperLogLogs are registers),
    and Redis 7+/Valkey delete the old files once it is done. One process of the deployment
    does it: the first to claim the period. Returns what happened: ``"salt alive"`` (too
    early), ``"claimed"`` (another process did it), ``"no aof"`` or ``"rewriting"``.
    """
    with _STORE_ERRORS:
        client = _client()
        if client.exists(_cache_key(f"salt:{period}")):
            return "salt alive"
        claim = _cache_key(f"aof-rewritten:{period}")
        if not client.set(claim, 1, nx=True, ex=claim_seconds):
            return "claimed"
        nodes = client.get_primaries() if hasattr(client, "get_primaries") else [None]
        rewriting = False
        for node in nodes:
            server = client if node is None else client.get_redis_connection(node)
            if not int(server.info("persistence").get("aof_enabled", 0)):
                continue
            try:
                server.bgrewriteaof()
            except redis.exceptions.ResponseError as exc:  # one already running: it will do
                logger.info("AOF rewrite after %s: %s", period, exc)
            rewriting = True
    return "rewriting" if rewriting else "no aof"


def ping() -> None:
    """Raise StoreUnavailable unless Redis answers and takes writes: a tiny key that expires
    at once, so a server out of memory (noeviction) or a read-only replica is not ready."""
    with _STORE_ERRORS:
        _client().set(_cache_key("ready"), 1, px=1000)
