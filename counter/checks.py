"""System checks: refuse a counting cache that cannot count atomically or hides failures."""

from django.conf import settings
from django.core.checks import Error, register

_REDIS_BACKENDS = {"django_redis.cache.RedisCache"}


@register()
def check_counting_cache(app_configs, **kwargs):
    cache = settings.CACHES.get("default", {})
    errors = []
    if cache.get("BACKEND") not in _REDIS_BACKENDS:
        errors.append(
            Error(
                f"CACHES['default'] uses {cache.get('BACKEND')!r}; counting needs django-redis.",
                hint="Set BACKEND to 'django_redis.cache.RedisCache' (REDIS_URL picks the server).",
                id="counter.E001",
            )
        )
    if cache.get("OPTIONS", {}).get("IGNORE_EXCEPTIONS"):
        errors.append(
            Error(
                "IGNORE_EXCEPTIONS is on for the counting cache: failed hits would be dropped.",
                hint="Remove IGNORE_EXCEPTIONS; Redis errors are answered with 503 instead.",
                id="counter.E002",
            )
        )
    return errors
