from django.apps import AppConfig
from django.conf import settings


class CounterConfig(AppConfig):
    name = "counter"

    def ready(self) -> None:
        from counter import checks  # noqa: F401  (registers the system checks)

        if not has_database():
            _skip_database_housekeeping()


def has_database() -> bool:
    """False when no SQL database is configured (Django fills in its dummy backend)."""
    engines = {db.get("ENGINE") for db in settings.DATABASES.values()}
    return bool(engines - {"django.db.backends.dummy"})


def _skip_database_housekeeping() -> None:
    """Django resets query logs and closes stale database connections around every request.
    With no database configured that only walks a dummy backend: a fifth of Django's own
    per-request cost on a hit (docs/BENCHMARKS.md). Kept whenever a database is configured."""
    from django.core import signals
    from django.db import close_old_connections, reset_queries

    signals.request_started.disconnect(reset_queries)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
