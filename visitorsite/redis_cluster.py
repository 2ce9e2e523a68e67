"""Redis Cluster behind django-redis, which has no cluster client of its own (its issues #208
and #606): a connection factory that hands django-redis a redis-py ``RedisCluster``.

This is the thinnest route that works: django-redis keeps building keys and owning the cache
interface, redis-py's cluster client routes every command by slot and follows MOVED/ASK during
resharding. One RedisCluster per process, shared by all threads (it is thread-safe and holds a
pool per node), instead of one per thread re-reading the slot map.
"""

from typing import Any, ClassVar

from django_redis.pool import ConnectionFactory
from redis.cluster import ClusterNode, RedisCluster


class ClusterConnectionFactory(ConnectionFactory):
    _clusters: ClassVar[dict[tuple, RedisCluster]] = {}

    def connect(self, url: str) -> Any:
        nodes = tuple(tuple(node) for node in self.options["CLUSTER_NODES"])
        cluster = self._clusters.get(nodes)
        if cluster is not None:
            return cluster
        # No lock around this: it reads the slot map over the network, and under gevent a
        # greenlet waiting on the network while holding a lock made before the worker patched
        # threading would block every other greenlet of the process. Two first requests may
        # both build one; setdefault (atomic) keeps the first, the other is closed.
        built = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in nodes],
            socket_timeout=self.options.get("SOCKET_TIMEOUT"),
            socket_connect_timeout=self.options.get("SOCKET_CONNECT_TIMEOUT"),
        )
        cluster = self._clusters.setdefault(nodes, built)
        if cluster is not built:
            built.close()
        return cluster

    def disconnect(self, connection: Any) -> None:
        connection.close()
