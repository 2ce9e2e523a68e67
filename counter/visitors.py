"""Who is this visitor? A salted, rotating hash, never a stored IP; and is it a bot?

Visitor id = keyed BLAKE2b (8 bytes) of ``ip | user-agent | namespace``, keyed with the
current period's random salt. The salt is shared by every worker and host through Redis and
expires shortly after its period ends, after which nobody (the operator included) can link a
hash back to an IP. With daily rotation (the default) a returning visitor is a new visitor on
each day, so figures over several days count visitor-days; monthly rotation counts people
within a month.
"""

import hashlib
import ipaddress
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.http import HttpRequest

from counter import clock, store

# Long enough for every real User-Agent; bounds the bot cache and the regex work per string.
_MAX_UA = 512
_SALT_GRACE = timedelta(minutes=10)  # hosts' clocks differ a little around midnight


@dataclass(frozen=True, slots=True)
class Visitor:
    id: str
    is_bot: bool


def should_count(request: HttpRequest) -> bool:
    """HEAD requests and browser prefetches read a counter; they are not visits."""
    if request.method == "HEAD":
        return False
    meta = request.META
    purpose = meta.get("HTTP_SEC_PURPOSE") or meta.get("HTTP_PURPOSE") or meta.get("HTTP_X_MOZ")
    return not (purpose and "prefetch" in purpose.lower())


_Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[_Network, ...]:
    """TRUSTED_PROXIES parsed once (settings.py has validated them)."""
    return tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _address(value: str) -> _Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _in(ip: _Address, networks: tuple[_Network, ...]) -> bool:
    return any(ip in network for network in networks)


@lru_cache(maxsize=256)
def _from_proxy(remote: str, proxies: tuple[str, ...]) -> bool:
    """Whether the peer is one of the proxies: cached, as a deployment has few of them."""
    ip = _address(remote)
    return ip is not None and _in(ip, _networks(proxies))


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the nearest X-Forwarded-For hop not in TRUSTED_PROXIES when the
    request came through one of them. The header is never trusted otherwise.

    Each address is parsed once: with a proxy in front, this runs for every hit and every
    hop is a new address (no cache helps)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if not proxies:
        return remote
    proxies = tuple(proxies)
    if not _from_proxy(remote, proxies):
        return remote
    networks = _networks(proxies)
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop = hop.strip()
        ip = _address(hop)
        if ip is None:
            return remote  # a forged or broken header: fall back to the proxy itself
        if not _in(ip, networks):
            return hop if ip.version == 4 else str(ip)  # one spelling per IPv6 address
    return remote


@cache
def _bot_allow(pattern: str) -> re.Pattern | None:
    return re.compile(pattern, re.IGNORECASE) if pattern else None


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Crawlers, spiders, monitors and headless browsers, per the crawlerdetect library,
    except what BOT_ALLOW lets through (HTTP tools, image proxies fetching for a person)."""
    allow = _bot_allow(settings.BOT_ALLOW)
    if allow is not None and allow.search(user_agent):
        return False
    return CrawlerDetect(user_agent=user_agent).isCrawler()


@lru_cache(maxsize=4)
def _period(today: date, rotation: str) -> tuple[str, datetime]:
    """The salt period containing ``today``: its id and the moment it ends."""
    day = datetime(today.year, today.month, today.day, tzinfo=UTC)
    if rotation == "monthly":
        start = day.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return f"m{start:%Y%m}", end
    return f"d{day:%Y%m%d}", day + timedelta(days=1)


_salts: dict[str, bytes] = {}
_salts_lock = threading.Lock()


def _salt(now: datetime) -> bytes:
    """The current period's salt: from this process' memory, else one Redis call a period."""
    period, ends = _period(now.date(), settings.VISITOR_SALT_ROTATION)
    salt = _salts.get(period)
    if salt is None:
        ttl = int((ends - now + _SALT_GRACE).total_seconds())
        salt = store.period_salt(period, ttl=ttl)
        with _salts_lock:
            _salts.clear()  # forget past periods' salts as soon as possible
            _salts[period] = salt
    return salt


def visitor_id(*, ip: str, user_agent: str, namespace: str, salt: bytes) -> str:
    material = f"{ip}|{user_agent}|{namespace}".encode("utf-8", "surrogateescape")
    return hashlib.blake2b(material, key=salt, digest_size=8).hexdigest()


def identify(request: HttpRequest, *, namespace: str, now: datetime | None = None) -> Visitor:
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:_MAX_UA]
    if is_bot(user_agent):
        return Visitor(id="", is_bot=True)
    salt = _salt(now or clock.now())
    ip = client_ip(request)
    return Visitor(
        visitor_id(ip=ip, user_agent=user_agent, namespace=namespace, salt=salt), is_bot=False
    )


def anonymous_id(request: HttpRequest, *, scope: str, now: datetime | None = None) -> str:
    """The client's address alone, hashed like a visitor id (rate limits and the like)."""
    salt = _salt(now or clock.now())
    return visitor_id(ip=client_ip(request), user_agent="", namespace=scope, salt=salt)
