"""Every Redis key and command of visitorsite lives here.

The Redis client comes from the django-redis cache configured in ``CACHES["default"]``.
Keys follow docs/DESIGN: ``<prefix>:<version>:c:{<namespace>/<key>}:<field>``; all keys of
one counter share the ``{namespace/key}`` hash tag so multi-key scripts stay Cluster-safe.

Redis failures (unreachable, timed out, loading, read-only replica) become one exception,
``StoreUnavailable``, which the web layer answers with a fast 503.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from django.core.cache import caches

from counter.names import Counter

# What "Redis is unavailable right now" looks like from redis-py. A ResponseError from a
# script or a wrong type is a bug and is left to surface as one.
_UNAVAILABLE = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
)


class StoreUnavailable(Exception):
    """Redis did not answer (in time); the request can be retried later."""


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StoreUnavailable(f"Redis unavailable: {exc.__class__.__name__}: {exc}") from exc
    except OSError as exc:  # e.g. the embedded server could not be started
        raise StoreUnavailable(f"Redis unavailable: {exc}") from exc


def _cache():
    return caches["default"]


def _client() -> redis.Redis:
    return _cache().client.get_client(write=True)


def _key(counter: Counter, field: str) -> str:
    return _cache().make_key(f"c:{{{counter.namespace}/{counter.key}}}:{field}")


def hit(counter: Counter) -> int:
    """Count one hit on ``counter``; return its total after this hit."""
    with _unavailable_as_store_error():
        return _client().incr(_key(counter, "n"))


def total(counter: Counter) -> int | None:
    """The counter's total, or None when it has never been hit."""
    with _unavailable_as_store_error():
        value = _client().get(_key(counter, "n"))
    return None if value is None else int(value)


def reset(counter: Counter, *, value: int = 0) -> int:
    """Set the total to ``value`` atomically; return the total it had before (0 if none)."""
    with _unavailable_as_store_error():
        old = _client().set(_key(counter, "n"), value, get=True)
    return 0 if old is None else int(old)


def ping() -> None:
    """Raise StoreUnavailable unless Redis answers."""
    with _unavailable_as_store_error():
        _client().ping()
