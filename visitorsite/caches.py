"""CACHES["default"]: django-redis for one Redis, Sentinel, Cluster or the embedded default."""

from django.core.exceptions import ImproperlyConfigured


def _host_port(value: str, name: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise ImproperlyConfigured(f"{name}: {value!r} is not host:port")
    return host.strip("[]"), int(port)


def cache_config(
    *,
    url: str = "",
    sentinels: list[str] = (),
    sentinel_master: str = "mymaster",
    cluster_nodes: list[str] = (),
    connect_timeout: float = 0.25,
    timeout: float = 0.5,
    key_prefix: str = "visitorsite",
    pool_kwargs: dict | None = None,
) -> dict:
    """CACHES["default"] for one Redis, Sentinel, Cluster or the embedded default (also used
    by the tests, so that they point the store at a topology exactly as production does)."""
    options = {
        "SOCKET_CONNECT_TIMEOUT": connect_timeout,
        "SOCKET_TIMEOUT": timeout,
        # Off on purpose: a failed increment must be an error, never a silently dropped hit.
        "IGNORE_EXCEPTIONS": False,
    }
    if pool_kwargs:
        options["CONNECTION_POOL_KWARGS"] = pool_kwargs
    if sentinels:
        location = f"redis://{sentinel_master}/0"
        options["CLIENT_CLASS"] = "django_redis.client.SentinelClient"
        options["CONNECTION_FACTORY"] = "django_redis.pool.SentinelConnectionFactory"
        options["SENTINELS"] = [_host_port(s, "REDIS_SENTINELS") for s in sentinels]
        options["SENTINEL_KWARGS"] = {
            "socket_timeout": timeout,
            "socket_connect_timeout": connect_timeout,
        }
    elif cluster_nodes:
        location = "redis://cluster/0"
        options["CONNECTION_FACTORY"] = "visitorsite.redis_cluster.ClusterConnectionFactory"
        options["CLUSTER_NODES"] = [_host_port(n, "REDIS_CLUSTER_NODES") for n in cluster_nodes]
    elif url:
        location = url
    else:
        location = "unix://embedded"
        options["CONNECTION_FACTORY"] = "counter.embedded.EmbeddedConnectionFactory"
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "KEY_PREFIX": key_prefix,
        "OPTIONS": options,
    }
