"""One data directory's server: its socket, log and files, started when none answers (under a
file lock), described, stopped."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from counter.embedded.binary import EmbeddedRedisError, embedded_server_binary

# A Unix socket path must fit in sockaddr_un (104 bytes on macOS, 108 on Linux).
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 15.0


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
