from django.apps import AppConfig
from django.conf import settings


class CounterConfig(AppConfig):
    """Two of Django's request-signal receivers are disconnected, each only while it can do
    nothing here and because it costs measurable throughput (docs/BENCHMARKS.md)."""

    name = "counter"

    def ready(self) -> None:
        from counter import checks  # noqa: F401  (registers the system checks)

        if not has_database():
            _skip_database_housekeeping()
        if caches_close_nothing():
            _skip_cache_closing()


def has_database() -> bool:
    """False when no SQL database is configured (Django fills in its dummy backend)."""
    engines = {db.get("ENGINE") for db in settings.DATABASES.values()}
    return bool(engines - {"django.db.backends.dummy"})


def _skip_database_housekeeping() -> None:
    """Django resets query logs and closes stale database connections around every request.
    With no database configured that only walks a dummy backend: connected again, they cost
    5 % of /count's throughput under load (make bench-signals, docs/BENCHMARKS.md). Kept
    whenever a database is configured."""
    from django.core import signals
    from django.db import close_old_connections, reset_queries

    signals.request_started.disconnect(reset_queries)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)


def caches_close_nothing() -> bool:
    """True when every configured cache is django-redis without CLOSE_CONNECTION, whose
    ``close()`` then does nothing: its pooled connections are meant to outlive requests."""
    from django_redis.cache import RedisCache

    closing_default = getattr(settings, "DJANGO_REDIS_CLOSE_CONNECTION", False)
    for config in settings.CACHES.values():
        backend = config.get("BACKEND", "")
        if backend != f"{RedisCache.__module__}.{RedisCache.__qualname__}":
            return False
        if config.get("OPTIONS", {}).get("CLOSE_CONNECTION", closing_default):
            return False
    return True


def _skip_cache_closing() -> None:
    """Django asks every cache to close after each request. For django-redis without
    CLOSE_CONNECTION that is a no-op reached through two context-local look-ups and a missing
    setting's AttributeError: connected again, 5 % of /count's throughput under load (make
    bench-signals, docs/BENCHMARKS.md). Django's other receivers (reset_urlconf) are kept:
    disconnecting them bought nothing measurable."""
    from django.core import signals
    from django.core.cache import close_caches

    signals.request_finished.disconnect(close_caches)
