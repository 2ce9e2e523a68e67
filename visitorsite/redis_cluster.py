"""Redis Cluster behind django-redis, which has no cluster client of its own (its issues #208
and #606): a connection factory that hands django-redis a redis-py ``RedisCluster``.

This is the thinnest route that works: django-redis keeps building keys and owning the cache
interface, redis-py's cluster client routes every command by slot and follows MOVED/ASK during
resharding. One RedisCluster per process, shared by all threads (it is thread-safe and holds a
pool per node), instead of one per thread re-reading the slot map.
"""

import threading
from typing import Any, ClassVar

from django_redis.pool import ConnectionFactory
from redis.cluster import ClusterNode, RedisCluster


class ClusterConnectionFactory(ConnectionFactory):
    _clusters: ClassVar[dict[tuple, RedisCluster]] = {}
    _lock = threading.Lock()

    def connect(self, url: str) -> Any:
        nodes = tuple(tuple(node) for node in self.options["CLUSTER_NODES"])
        with self._lock:
            cluster = self._clusters.get(nodes)
            if cluster is None:
                cluster = RedisCluster(
                    startup_nodes=[ClusterNode(host, port) for host, port in nodes],
                    socket_timeout=self.options.get("SOCKET_TIMEOUT"),
                    socket_connect_timeout=self.options.get("SOCKET_CONNECT_TIMEOUT"),
                )
                self._clusters[nodes] = cluster
        return cluster

    def disconnect(self, connection: Any) -> None:
        connection.close()
