"""May this caller do this? Admin keys, the operator's token, and rate limits.

An admin key is returned once, by ``create``; only its SHA-256 is stored (the key is 256 random
bits, so a plain hash is as good as a slow one) and it is compared in constant time.
"""

import enum
import hashlib
import hmac
import secrets

from django.conf import settings
from django.http import HttpRequest

from counter import metrics, store
from counter.domain import visitors
from counter.names import PAGE_PREFIX, Counter, governing


class Access(enum.Enum):
    ANONYMOUS = "anonymous"  # no key given: CountAPI's public rules apply
    ADMIN = "admin"  # the counter's admin key, or the operator's ADMIN_TOKEN
    DENIED = "denied"  # a key was given and it is wrong


def new_admin_key() -> tuple[str, str]:
    """A fresh admin key and the hash that is stored instead of it."""
    key = secrets.token_urlsafe(32)
    return key, hash_admin_key(key)


def hash_admin_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ruling_meta(counter: Counter, meta: dict[str, str] | None = None) -> dict[str, str]:
    """The metadata whose admin key and options rule ``counter``: its own (``meta``, when the
    caller has read it already), or its site's for a page counter."""
    ruler = governing(counter)
    if ruler == counter and meta is not None:
        return meta
    return store.info(ruler).meta


def is_private(meta: dict[str, str]) -> bool:
    return meta.get("private") == "1"


def may_see(request: HttpRequest, meta: dict[str, str]) -> Access | None:
    """None when the caller may see what ``meta`` (ruling metadata) keeps private: the counter
    is public or the caller holds its key. Else how the caller was refused: ANONYMOUS (no
    key) or DENIED (a wrong one)."""
    if not is_private(meta):
        return None
    found = access(request, meta)
    return None if found is Access.ADMIN else found


class HiddenPage(Exception):
    """A private site's page counter asked for without the site's key: not found (404), its
    total included, as if it did not exist."""

    def __init__(self, counter: Counter):
        super().__init__(f"no counter {counter}")


def reveal_page(request: HttpRequest, counter: Counter) -> None:
    """Raise HiddenPage for a page counter (``p.*``) of a private site unless the caller
    holds the site's key. One read, on page counters only: a page script's views never come
    this way, and a site's own counter shows its total as any private counter does."""
    if counter.key.startswith(PAGE_PREFIX) and may_see(request, ruling_meta(counter)) is not None:
        raise HiddenPage(counter)


def presented_key(request: HttpRequest) -> str | None:
    """``Authorization: Bearer <key>``, else ``?token=<key>``."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.GET.get("token") or None


def is_operator(key: str) -> bool:
    """Whether ``key`` is the operator's ADMIN_TOKEN (the key to every counter)."""
    return bool(settings.ADMIN_TOKEN) and hmac.compare_digest(
        key.encode(), settings.ADMIN_TOKEN.encode()
    )


def opens(key: str, meta: dict[str, str]) -> bool:
    """Whether ``key`` is the operator's ADMIN_TOKEN or the admin key of the counter whose
    (ruling) metadata is ``meta``."""
    if is_operator(key):
        return True
    stored = meta.get("admin_key_sha256", "")
    return bool(stored) and hmac.compare_digest(hash_admin_key(key), stored)


def access(request: HttpRequest, meta: dict[str, str]) -> Access:
    key = presented_key(request)
    if key is None:
        return Access.ANONYMOUS
    return Access.ADMIN if opens(key, meta) else Access.DENIED


class RateLimited(Exception):
    def __init__(self, limit: int, remaining: int, reset: int):
        super().__init__(f"rate limit of {limit} reached; retry in {reset} s")
        self.limit, self.remaining, self.reset = limit, remaining, reset


def check_rate(request: HttpRequest, *, action: str, rule: tuple[int, int] | None) -> dict:
    """Count this request against ``rule`` (limit, window seconds) for the client's address.

    The bucket is the salted visitor hash of the address, never the address itself. Returns
    the RateLimit-* headers to send; raises RateLimited when the limit is passed.
    """
    if rule is None:
        return {}
    limit, window = rule
    who = visitors.anonymous_id(request, scope=f"rate:{action}")
    count, reset = store.rate_limit(f"{action}:{who}", window=window)
    remaining = max(limit - count, 0)
    if count > limit:
        metrics.count(metrics.RATE_LIMITED.labels(action))
        raise RateLimited(limit, remaining, reset or window)
    return {
        "RateLimit-Limit": str(limit),
        "RateLimit-Remaining": str(remaining),
        "RateLimit-Reset": str(reset),
    }
