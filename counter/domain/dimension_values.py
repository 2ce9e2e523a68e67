"""What a page view says about where its visitor came from and what they use: the values of a
site's dimensions (docs/DIMENSIONS.md), made from the page script's beacon, the User-Agent and
the client's address. Nothing here is stored per visitor: the values are counted in the
site's daily aggregates (store.dimensions), and the address is only looked up, in memory.

Parsers: ua-parser (with its native accelerator, ua-parser-rs) for browser, OS and device, a
bounded cache in front of it; iptocc (an offline table in the package) for the country.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import iptocc

from counter.domain.params import BadParameter, parse_object
from counter.names import MAX_PAGE_PATH, normalise_path

MAX_VALUE = 64  # characters of a campaign part or an event name
NONE = "(none)"  # a referrer-less landing ("direct")
UNKNOWN = "(unknown)"  # a User-Agent or address nobody knows
# Bytes of a beacon's body (3 KiB): a page path of MAX_PAGE_PATH characters of up to 4 bytes,
# and the JSON around it. The route refuses a longer body before reading it (413).
MAX_BODY = MAX_PAGE_PATH * 4 + 1024
WIDTHS = {"s": "mobile", "m": "tablet", "l": "desktop", "x": "desktop"}  # the script's classes
_CACHED_AGENTS = 2048  # bounded: at most this many User-Agents' results (~1 MB)


class BadBeacon(ValueError):
    """A beacon body that is not a page view or an event (answered 400)."""


@dataclass(frozen=True, slots=True)
class Beacon:
    path: str
    referrer: str | None = None  # a host; None: no referrer; "": from the site itself
    campaign: str = ""  # "source / medium / campaign", the parts sent
    width: str = ""  # the viewport's class: s, m, l, x
    event: str | None = None  # a custom event's name (visitorsite.event): not a page view
    tablet: bool = False  # the script saw a touch screen behind a Mac's User-Agent (an iPad)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HOST = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\]")


def _clean(value: str) -> str:
    """Text that can be stored: JSON's \\u escapes can make lone surrogates, which are no
    UTF-8 (replaced, as undecodable bytes are); control characters become spaces."""
    return _CONTROL.sub(" ", value.encode("utf-8", "replace").decode("utf-8"))


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise BadBeacon(f"{what} must be a string")
    # One line, no leading "(": those are the service's own values, such as "(other)".
    return " ".join(_clean(value).split())[:MAX_VALUE].lstrip("(")


def _path(value: str) -> str:
    return normalise_path(_clean(value))


def parse_beacon(body: bytes) -> Beacon:
    """The page script's body: a page's path as text (the first script's), or a JSON object
    {"p": path, "r": referrer host, "s"/"m"/"c": utm source/medium/campaign, "w": width class,
    "t": 1 for a touch screen behind a Mac's User-Agent, "e": event name}, flat
    (params.parse_object). BadBeacon says what is wrong. The body is at
    most MAX_BODY bytes: the route refuses a longer one before reading it (middleware)."""
    text = body.decode("utf-8", "replace")
    if not text.startswith("{"):
        if len(body) > MAX_PAGE_PATH * 4:
            raise BadBeacon("the page path is too long")
        return Beacon(path=_path(text), referrer="")  # the first script's: no more
    try:
        data = parse_object(text)
    except BadParameter as exc:
        raise BadBeacon(str(exc)) from None
    path = data.get("p", "/")
    if not isinstance(path, str):
        raise BadBeacon("p (the page's path) must be a string")
    if len(path) > MAX_PAGE_PATH * 4:
        raise BadBeacon("the page path is too long")
    event = data.get("e")
    if event is not None:
        event = _text(event, "e (the event's name)")
        if not event:
            raise BadBeacon(f"e (the event's name) must be 1 to {MAX_VALUE} characters")
    referrer = data.get("r")
    if referrer is not None:
        if not isinstance(referrer, str):
            raise BadBeacon("r (the referrer's host) must be a string")
        referrer = _host(_clean(referrer))
    parts = [_text(data.get(name, ""), name) for name in ("s", "m", "c")]
    width = data.get("w", "")
    return Beacon(
        path=_path(path),
        referrer=referrer,
        campaign=" / ".join(part for part in parts if part),
        width=width if isinstance(width, str) and width in WIDTHS else "",
        event=event,
        tablet=data.get("t") == 1,
    )


def _host(value: str) -> str:
    """A referrer's host, lower case, without "www."; "" when it is not a host name."""
    host = value.strip().lower().rstrip(".")
    if not (host and len(host) <= 253 and _HOST.fullmatch(host)):
        return ""
    return host.removeprefix("www.")


# Search engines and social sites are named, whatever their host (google.co.uk, l.facebook.com).
_GROUPS = {
    "bing.com": "Bing",
    "duckduckgo.com": "DuckDuckGo",
    "yahoo.com": "Yahoo",
    "yandex.ru": "Yandex",
    "yandex.com": "Yandex",
    "baidu.com": "Baidu",
    "ecosia.org": "Ecosia",
    "search.brave.com": "Brave Search",
    "startpage.com": "Startpage",
    "kagi.com": "Kagi",
    "qwant.com": "Qwant",
    "t.co": "Twitter / X",
    "twitter.com": "Twitter / X",
    "x.com": "Twitter / X",
    "facebook.com": "Facebook",
    "fb.me": "Facebook",
    "instagram.com": "Instagram",
    "linkedin.com": "LinkedIn",
    "lnkd.in": "LinkedIn",
    "reddit.com": "Reddit",
    "news.ycombinator.com": "Hacker News",
    "youtube.com": "YouTube",
    "youtu.be": "YouTube",
    "pinterest.com": "Pinterest",
    "bsky.app": "Bluesky",
    "threads.net": "Threads",
    "mastodon.social": "Mastodon",
}
_GOOGLE = re.compile(r"(.+\.)?google(\.com?)?\.[a-z]{2,3}")


def referrer_name(host: str) -> str:
    """A known search engine's or social site's name, else the host."""
    if _GOOGLE.fullmatch(host):
        return "Google"
    labels = host.split(".")
    for start in range(len(labels) - 1):
        name = _GROUPS.get(".".join(labels[start:]))
        if name:
            return name
    return host


_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "HarmonyOS"})
_parser = None
_parser_lock = threading.Lock()


def _ua_parser():
    """ua-parser's regex resolver (ua-parser-rs), built once a process (~0.2 s)."""
    global _parser
    if _parser is None:
        with _parser_lock:
            if _parser is None:
                from ua_parser import Parser, load_lazy_builtins
                from ua_parser.regex import Resolver

                _parser = Parser(Resolver(load_lazy_builtins()))
    return _parser


@lru_cache(maxsize=_CACHED_AGENTS)
def agent(user_agent: str) -> tuple[str, str, str]:
    """The User-Agent's browser family, OS family and device class ("" where the User-Agent
    does not tell: the viewport's width decides)."""
    result = _ua_parser().parse(user_agent)
    browser = result.user_agent.family if result.user_agent else UNKNOWN
    system = result.os.family if result.os else UNKNOWN
    model = result.device.family if result.device else ""
    # Android tablets' browsers leave "Mobile" out of the User-Agent (Google's convention).
    android_tablet = system == "Android" and "Mobile" not in user_agent
    if "iPad" in model or "Tablet" in model or "Kindle" in model or android_tablet:
        device = "tablet"
    elif system in _MOBILE_OS or "Mobi" in user_agent:
        device = "mobile"
    elif system not in (UNKNOWN, "Other"):
        device = "desktop"
    else:
        device = ""
    return (
        (UNKNOWN if browser == "Other" else browser),
        (UNKNOWN if system == "Other" else system),
        device,
    )


def country(address: str) -> str:
    """The address' ISO 3166-1 country code, or "(unknown)" (private, reserved, not listed)."""
    try:
        return iptocc.country_code(address) or UNKNOWN
    except ValueError:
        return UNKNOWN


def of_view(beacon: Beacon, *, namespace: str, user_agent: str, address: str) -> tuple[str, ...]:
    """A page view's dimension, value pairs, flat (as the hit script takes them)."""
    browser, system, device = agent(user_agent)
    if beacon.tablet and device in ("desktop", ""):  # iPadOS Safari's Mac User-Agent
        device = "tablet"
    pairs = [
        "page", beacon.path,
        "browser", browser,
        "os", system,
        "device", device or WIDTHS.get(beacon.width, UNKNOWN),
        "country", country(address),
    ]  # fmt: skip
    if beacon.referrer is None:  # a landing with no referrer: typed, bookmarked, an app
        pairs += ("referrer", NONE)
    elif beacon.referrer and beacon.referrer != namespace.removeprefix("www."):
        pairs += ("referrer", referrer_name(beacon.referrer))
    if beacon.campaign:
        pairs += ("campaign", beacon.campaign)
    return tuple(pairs)
