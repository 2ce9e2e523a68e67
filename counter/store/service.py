"""What the service keeps besides counters: the visitor-hash salts, rate-limit buckets,
service-wide figures, the append-only file's rewrite after a salt period, readiness."""

from __future__ import annotations

import logging
import secrets

import redis

from counter.store import scripts
from counter.store.connection import STORE_ERRORS, get_client, run
from counter.store.keys import aof_claim_key, rate_key, ready_key, salt_key, stat_key

logger = logging.getLogger("counter.store")

_SALT = scripts.load("salt.lua")
_RATE = scripts.load("rate.lua")


def service_stats() -> dict[str, int]:
    """Service-wide figures: counters created and admin updates made."""
    with STORE_ERRORS:
        created, updated = get_client().mget(stat_key("keys_created"), stat_key("keys_updated"))
    return {"keys_created": int(created or 0), "keys_updated": int(updated or 0)}


def rate_limit(bucket: str, *, window: int) -> tuple[int, int]:
    """Count one request in ``bucket``'s fixed window; return (count so far, seconds left)."""
    with STORE_ERRORS:
        count, ttl = run(_RATE, (rate_key(bucket),), (window,))
    return int(count), max(int(ttl), 0)


def period_salt(period: str, *, ttl: int) -> bytes:
    """The shared random salt of a visitor-hash period, created by whoever asks first."""
    with STORE_ERRORS:
        salt = run(_SALT, (salt_key(period),), (secrets.token_hex(32), ttl))
    return bytes.fromhex(salt.decode() if isinstance(salt, bytes) else salt)


def rewrite_aof_after(period: str, *, claim_seconds: int) -> str:
    """Once ``period``'s salt has expired, rewrite the server's append-only file.

    The AOF records every write: the period's salt and each visitor id (a PFADD argument)
    stay on disk until the file is rewritten, which Redis does by itself only when it has
    doubled. A rewrite writes what exists now (the salt is gone, HyperLogLogs are registers),
    and Redis 7+/Valkey delete the old files once it is done. One process of the deployment
    does it: the first to claim the period. Returns what happened: ``"salt alive"`` (too
    early), ``"claimed"`` (another process did it), ``"no aof"`` or ``"rewriting"``.
    """
    with STORE_ERRORS:
        client = get_client()
        if client.exists(salt_key(period)):
            return "salt alive"
        claim = aof_claim_key(period)
        if not client.set(claim, 1, nx=True, ex=claim_seconds):
            return "claimed"
        nodes = client.get_primaries() if hasattr(client, "get_primaries") else [None]
        rewriting = False
        for node in nodes:
            server = client if node is None else client.get_redis_connection(node)
            if not int(server.info("persistence").get("aof_enabled", 0)):
                continue
            try:
                server.bgrewriteaof()
            except redis.exceptions.ResponseError as exc:  # one already running: it will do
                logger.info("AOF rewrite after %s: %s", period, exc)
            rewriting = True
    return "rewriting" if rewriting else "no aof"


def ping() -> None:
    """Raise StoreUnavailable unless Redis answers and takes writes: a tiny key that expires
    at once, so a server out of memory (noeviction) or a read-only replica is not ready."""
    with STORE_ERRORS:
        get_client().set(ready_key(), 1, px=1000)
