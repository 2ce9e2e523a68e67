"""Every Redis key and command of visitorsite lives here.

The Redis client comes from the django-redis cache configured in ``CACHES["default"]``.
A counter's keys are ``<prefix>:<version>:c:{<namespace>/<key>}:<field>``; they share the
``{namespace/key}`` hash tag, so each script touches one Cluster slot. Fields:

    n        total hits (string)            never expires
    d        daily hits, field yyyymmdd     trimmed past COUNTER_RETENTION_DAYS
    du       daily uniques, field yyyymmdd  trimmed likewise
    uv       all-time unique visitor-days   never expires
    u:<day>  that day's HyperLogLog         expires after COUNTER_RETENTION_DAYS
    b        bot hits filtered              never expires

A hit is one EVALSHA (redis-py's registered script: EVALSHA, re-sent as EVAL on NOSCRIPT).

Daily uniques are the day's PFCOUNT, stored when PFADD changes the HyperLogLog, and ``uv`` grows
by the same difference. Counting "PFADD returned 1" instead would undercount badly: once a
day's HLL fills, most new visitors change no register (measured: -18 % at 10k visitors a day,
-68 % at 100k).

Redis failures (unreachable, timed out, loading, read-only replica) become one exception,
``StoreUnavailable``, which the web layer answers with a fast 503.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from redis.commands.core import Script

from counter import clock
from counter.names import Counter

# What "Redis is unavailable right now" looks like from redis-py. A ResponseError from a
# script or a wrong type is a bug and is left to surface as one.
_UNAVAILABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
)

_HIT = """
-- KEYS: total, daily hits, daily uniques, unique visitor-days, today's HLL
-- ARGV: today (yyyymmdd), visitor id, oldest day kept (yyyymmdd), HLL lifetime (seconds)
local total = redis.call('INCR', KEYS[1])
local day_hits = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local new_today = redis.call('PFADD', KEYS[5], ARGV[2])
if new_today == 1 then
  local uniques = redis.call('PFCOUNT', KEYS[5])
  local before = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0')
  if uniques ~= before then
    redis.call('HSET', KEYS[3], ARGV[1], uniques)
    redis.call('INCRBY', KEYS[4], uniques - before)
  end
end
if day_hits == 1 then
  -- First hit of a day: let the day's HLL expire with the retention, drop days past it.
  redis.call('EXPIRE', KEYS[5], ARGV[4])
  for i = 2, 3 do
    for _, day in ipairs(redis.call('HKEYS', KEYS[i])) do
      if day < ARGV[3] then redis.call('HDEL', KEYS[i], day) end
    end
  end
end
return {total, new_today}
"""

_BOT = """
-- KEYS: bot total, total. A bot is shown the total but does not change it.
redis.call('INCR', KEYS[1])
return tonumber(redis.call('GET', KEYS[2]) or '0')
"""

_SALT = """
-- KEYS: the period's salt. ARGV: a fresh random salt, seconds until it must be gone.
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
return redis.call('GET', KEYS[1])
"""


class StoreUnavailable(Exception):
    """Redis did not answer (in time); the request can be retried later."""


@dataclass(frozen=True, slots=True)
class Hit:
    total: int
    new_visitor_today: bool
    counted: bool = True


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


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"Redis unavailable: {exc.__class__.__name__}: {exc}") from exc
    except OSError as exc:  # e.g. the embedded server could not be started
        raise StoreUnavailable(f"Redis unavailable: {exc}") from exc


class _Backend(threading.local):
    """The counting cache's Redis client and key prefix, looked up once per thread.

    ``caches["default"]`` goes through asgiref's context-aware Local on every access, and
    ``make_key`` through django-redis' key function: measurable on a hit path that is one
    Redis round trip. A settings change (tests) bumps the generation and forces a new look-up.
    """

    generation = -1
    client: redis.Redis
    prefix: str


_backend = _Backend()
_generation = 0


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs) -> None:
    global _generation
    if setting in {"CACHES", "COUNTER_RETENTION_DAYS"}:
        _generation += 1
        _counter_keys.cache_clear()


def _current() -> _Backend:
    if _backend.generation != _generation:
        cache = caches["default"]
        _backend.client = cache.client.get_client(write=True)
        _backend.prefix = cache.make_key("")
        _backend.generation = _generation
    return _backend


def _client() -> redis.Redis:
    return _current().client


# SHA computed once per process (bytes need no client to hash them).
_HIT_SCRIPT = Script(None, _HIT.encode())
_BOT_SCRIPT = Script(None, _BOT.encode())
_SALT_SCRIPT = Script(None, _SALT.encode())


def _send(client: redis.Redis, *command):
    """One command on a pooled connection, without redis-py 8's per-command wrapping.

    ``Redis.execute_command`` adds a retry closure, timing and observability recording around
    every command: a fifth of a hit's CPU (docs/BENCHMARKS.md). The pool's checkout still
    runs its health check, so a connection Redis closed (a restart) is replaced before the
    command is sent; a connection that fails mid-command is dropped, never reused.
    """
    pool = getattr(client, "connection_pool", None)
    if pool is None or client.connection is not None:  # cluster or single-connection clients
        return client.execute_command(*command)
    connection = pool.get_connection()
    try:
        connection.send_command(*command)
        return connection.read_response()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        connection.disconnect()
        raise
    finally:
        pool.release(connection)


def _run(script: Script, client: redis.Redis, keys: tuple, args: tuple):
    """EVALSHA the script; when Redis answers NOSCRIPT (new or restarted), load it, retry."""
    try:
        return _send(client, "EVALSHA", script.sha, len(keys), *keys, *args)
    except redis.exceptions.NoScriptError:
        script.sha = client.script_load(script.script)
        return _send(client, "EVALSHA", script.sha, len(keys), *keys, *args)


def _cache_key(name: str) -> str:
    return _current().prefix + name


def _key(counter: Counter, field: str) -> str:
    return _cache_key(f"c:{{{counter.namespace}/{counter.key}}}:{field}")


@lru_cache(maxsize=16_384)
def _counter_keys(prefix: str, counter: Counter) -> tuple[str, str, str, str, str]:
    """The hit script's fixed keys, and the prefix of its daily HyperLogLog keys."""
    base = f"{prefix}c:{{{counter.namespace}/{counter.key}}}:"
    return base + "n", base + "d", base + "du", base + "uv", base + "u:"


def _day(value: date) -> str:
    return value.strftime("%Y%m%d")


@lru_cache(maxsize=4)
def _days(today: date, retention: int) -> tuple[str, str]:
    """Today and the oldest day kept, as the hashes' field names."""
    return _day(today), _day(today - timedelta(days=retention - 1))


def hit(counter: Counter, *, visitor_id: str, now: datetime | None = None) -> Hit:
    """Count one human hit: total, today's bucket, today's uniques. One round trip."""
    retention = settings.COUNTER_RETENTION_DAYS
    today, oldest = _days((now or clock.now()).date(), retention)
    with _unavailable_as_store_error():
        backend = _current()
        *fixed, hll = _counter_keys(backend.prefix, counter)
        count, new = _run(
            _HIT_SCRIPT,
            backend.client,
            (*fixed, hll + today),
            (today, visitor_id, oldest, retention * 86400),
        )
    return Hit(total=int(count), new_visitor_today=bool(new))


def bot_hit(counter: Counter) -> Hit:
    """Record a filtered bot hit; return the unchanged total. One round trip."""
    with _unavailable_as_store_error():
        total = _run(_BOT_SCRIPT, _client(), (_key(counter, "b"), _key(counter, "n")), ())
    return Hit(total=int(total), new_visitor_today=False, counted=False)


def total(counter: Counter) -> int | None:
    """The counter's total, or None when it has never been hit."""
    with _unavailable_as_store_error():
        value = _client().get(_key(counter, "n"))
    return None if value is None else int(value)


def stats(counter: Counter, *, days: int, now: datetime | None = None) -> Stats:
    """Totals and the last ``days`` days (today included), in one pipelined round trip."""
    if not 1 <= days <= settings.COUNTER_RETENTION_DAYS:
        raise ValueError(f"days must be 1 to {settings.COUNTER_RETENTION_DAYS}, got {days}")
    today = (now or clock.now()).date()
    span = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    fields = [_day(day) for day in span]
    with _unavailable_as_store_error():
        pipe = _client().pipeline(transaction=False)
        pipe.get(_key(counter, "n"))
        pipe.get(_key(counter, "b"))
        pipe.get(_key(counter, "uv"))
        pipe.hmget(_key(counter, "d"), fields)
        pipe.hmget(_key(counter, "du"), fields)
        pipe.pfcount(*[_key(counter, f"u:{field}") for field in fields])
        total_, bots, visitor_days, hits, uniques, range_uniques = pipe.execute()
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


def reset(counter: Counter, *, value: int = 0) -> int:
    """Set the total to ``value`` atomically; return the total it had before (0 if none)."""
    with _unavailable_as_store_error():
        old = _client().set(_key(counter, "n"), value, get=True)
    return 0 if old is None else int(old)


def period_salt(period: str, *, ttl: int) -> bytes:
    """The shared random salt of a visitor-hash period, created by whoever asks first."""
    with _unavailable_as_store_error():
        salt = _run(
            _SALT_SCRIPT, _client(), (_cache_key(f"salt:{period}"),), (secrets.token_hex(32), ttl)
        )
    return bytes.fromhex(salt.decode() if isinstance(salt, bytes) else salt)


def ping() -> None:
    """Raise StoreUnavailable unless Redis answers."""
    with _unavailable_as_store_error():
        _client().ping()
