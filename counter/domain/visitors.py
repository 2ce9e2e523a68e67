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
import logging
import re
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.http import HttpRequest

from counter import clock, store

logger = logging.getLogger("counter.visitors")

# Long enough for every real User-Agent; bounds the bot cache and the regex work per string.
_MAX_UA = 512
_SALT_GRACE = timedelta(minutes=10)  # hosts' clocks differ a little around midnight
# One detector for the process: its patterns compile once, on the first User-Agent.
_CRAWLERS = CrawlerDetect()


@dataclass(frozen=True, slots=True)
class Visitor:
    id: str
    is_bot: bool
    address: str = ""  # the client address alone, hashed the same way (ADDRESS_HIT_RATE_LIMIT)


def should_count(request: HttpRequest) -> bool:
    """HEAD requests and browser prefetches read a counter; they are not visits."""
    if request.method == "HEAD":
        return False
    meta = request.META
    purpose = meta.get("HTTP_SEC_PURPOSE") or meta.get("HTTP_PURPOSE") or meta.get("HTTP_X_MOZ")
    return not (purpose and "prefetch" in purpose.lower())


class _Proxies:
    """TRUSTED_PROXIES parsed once (settings.py has validated them).

    Behind a proxy every hit parses a new X-Forwarded-For address, so IPv4, nearly every hop,
    is read by ``inet_pton`` and matched with integer masks: a quarter of the work of
    ``ipaddress`` objects. IPv6 hops take ``ipaddress``, which gives each address one spelling.
    """

    def __init__(self, source: list[str] | tuple[str, ...]):
        self.source = source
        self.networks = tuple(ipaddress.ip_network(proxy, strict=False) for proxy in source)
        self.v4 = tuple(
            (int(net.network_address), int(net.netmask))
            for net in self.networks
            if net.version == 4
        )
        self.peers: dict[str, bool] = {}  # REMOTE_ADDR -> is a proxy (deployments have few)

    def hop(self, value: str) -> tuple[str, bool] | None:
        """The address as visitor ids spell it, and whether it is a proxy; None if it is not
        an address."""
        try:
            packed = socket.inet_pton(socket.AF_INET, value)
        except (OSError, ValueError):  # ValueError: a NUL in the text
            try:
                ip = ipaddress.ip_address(value)
            except ValueError:
                return None
            return str(ip), any(ip in network for network in self.networks)
        number = int.from_bytes(packed)
        for network, mask in self.v4:
            if number & mask == network:
                return value, True
        return value, False

    def is_proxy(self, remote: str) -> bool:
        known = self.peers.get(remote)
        if known is None:
            hop = self.hop(remote)
            known = hop is not None and hop[1]
            if len(self.peers) >= 256:
                self.peers.clear()
            self.peers[remote] = known
        return known


_proxies: _Proxies | None = None


def _trusted(source: list[str]) -> _Proxies:
    global _proxies
    proxies = _proxies
    if proxies is None or proxies.source is not source:  # first use, or settings changed
        proxies = _proxies = _Proxies(source)
    return proxies


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the nearest X-Forwarded-For hop not in TRUSTED_PROXIES when the
    request came through one of them. The header is never trusted otherwise."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "")
    source = settings.TRUSTED_PROXIES
    if not source:
        return remote
    proxies = _trusted(source)
    if not proxies.is_proxy(remote):
        return remote
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        parsed = proxies.hop(hop.strip())
        if parsed is None:
            return remote  # a forged or broken header: fall back to the proxy itself
        address, is_proxy = parsed
        if not is_proxy:
            return address
    return remote


@cache
def _bot_allow(pattern: str) -> re.Pattern | None:
    return re.compile(pattern, re.IGNORECASE) if pattern else None


@lru_cache(maxsize=4096)
def is_bot(user_agent: str) -> bool:
    """Crawlers, spiders, monitors and headless browsers, per the crawlerdetect library,
    except what BOT_ALLOW lets through (HTTP tools, image proxies fetching for a person)."""
    if not user_agent.strip():
        return True  # browsers always send one; only scripts and probes send none
    allow = _bot_allow(settings.BOT_ALLOW)
    if allow is not None and any(allow.fullmatch(name) for name in _names(user_agent)):
        return False
    return _CRAWLERS.is_crawler(user_agent)


# What BOT_ALLOW is matched against, as whole names: the User-Agent's first product ("curl" of
# "curl/8.5.0", "github-camo" of "github-camo (876de43e)") and a proxy's name in a closing
# "(via HOST NAME)" comment (Gmail's GoogleImageProxy). Not any word anywhere: a crawler does
# not pass by carrying "curl" in a comment, nor "xcurl/1" for curl.
_FIRST = re.compile(r"\s*([^\s()/;,]+)")
_VIA = re.compile(r"\(via [^()]*?([^\s()]+)\)\s*$")


def _names(user_agent: str) -> list[str]:
    return [m.group(1) for m in (_FIRST.match(user_agent), _VIA.search(user_agent)) if m]


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
        _forget_on_disk(period, after=ttl + _REWRITE_DELAY)
    return salt


# Once a period's salt has expired, its visitor ids can no longer be linked to anyone, but
# the server's append-only file still holds that salt and every id (the PFADD arguments)
# until the file is rewritten. Every process that counted in a period asks for the rewrite
# shortly after the salt has expired; the first one does it (store.rewrite_aof_after).
_REWRITE_DELAY = 60  # seconds after the salt's expiry: hosts' clocks differ a little
_REWRITE_RETRIES = 30  # a minute apart, while the salt still lives or Redis is away
_forgetting: dict[str, threading.Timer] = {}


def _forget_on_disk(period: str, *, after: float, retries: int = _REWRITE_RETRIES) -> None:
    """Ask for the AOF rewrite of ``period`` in ``after`` seconds (once per process)."""
    if not settings.AOF_REWRITE_AFTER_PERIOD:
        return
    with _salts_lock:
        if retries == _REWRITE_RETRIES and period in _forgetting:
            return  # already asked for
        timer = threading.Timer(after, _rewrite_after, args=(period, retries))
        timer.daemon = True
        _forgetting[period] = timer
    timer.start()


def _rewrite_after(period: str, retries: int) -> None:
    try:
        outcome = store.rewrite_aof_after(period, claim_seconds=2 * 86400)
    except store.StoreUnavailable as exc:
        outcome = f"unavailable ({exc})"
    if outcome == "rewriting":
        logger.info("Privacy: AOF rewrite started: %s's salt and ids leave the disk", period)
    elif outcome not in ("claimed", "no aof") and retries > 1:
        _forget_on_disk(period, after=_REWRITE_DELAY, retries=retries - 1)  # too early, or away
        return
    with _salts_lock:
        _forgetting.pop(period, None)


def visitor_id(*, ip: str, user_agent: str, namespace: str, salt: bytes) -> str:
    material = f"{ip}|{user_agent}|{namespace}".encode("utf-8", "surrogateescape")
    return hashlib.blake2b(material, key=salt, digest_size=8).hexdigest()


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:_MAX_UA]


def identify(request: HttpRequest, *, namespace: str, now: datetime | None = None) -> Visitor:
    agent = user_agent(request)
    if is_bot(agent):
        return Visitor(id="", is_bot=True)
    salt = _salt(now or clock.now())
    ip = client_ip(request)
    return Visitor(
        visitor_id(ip=ip, user_agent=agent, namespace=namespace, salt=salt),
        is_bot=False,
        address=visitor_id(ip=ip, user_agent="", namespace=namespace, salt=salt),
    )


def anonymous_id(request: HttpRequest, *, scope: str, now: datetime | None = None) -> str:
    """The client's address alone, hashed like a visitor id (rate limits and the like)."""
    salt = _salt(now or clock.now())
    return visitor_id(ip=client_ip(request), user_agent="", namespace=scope, salt=salt)
