"""A counter's operations: hits, its total and metadata, create/set/update/delete. Each is
one script or one command, so one round trip (a hit: one EVALSHA of scripts/hit.lua). Its
figures over a period are read by history.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.conf import settings

from counter import clock, metrics
from counter.names import OTHER_PAGE_KEY, Counter, made_by_page_script
from counter.store import scripts, zones
from counter.store.connection import STORE_ERRORS, current, get_client, run
from counter.store.keys import (
    counter_key,
    counter_keys,
    counters_pattern,
    day_field,
    day_fields,
    dimensions_ttl,
    stat_key,
)

HIT = scripts.load("hit.lua")
_BOT = scripts.load("bot.lua")
_CREATE = scripts.load("create.lua")
_SET = scripts.load("set.lua")
_UPDATE = scripts.load("update.lua")
_ROTATE = scripts.load("rotate.lua")
_RESET = scripts.load("reset.lua")

# The largest total either way: past 2^53 - 1 neither Redis' Lua nor JSON clients (doubles)
# hold a count exactly. set, update, create and import refuse to pass it; a hit at it too.
MAX_TOTAL = 2**53 - 1

# Who is here now (a site's page views of the last NOW_WINDOW_SECONDS): visitor, page pairs
# kept at most per site (the oldest go first), about 60 bytes each (docs/DIMENSIONS.md).
NOW_WINDOW_SECONDS = 300
NOW_PAIRS_KEPT = 10_000


class HitRateLimited(Exception):
    """This visitor passed HIT_RATE_LIMIT on this counter: not counted (a 429)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many hits from this visitor; retry in {retry_after} s")
        self.retry_after = retry_after


class CounterAtLimit(Exception):
    """The counter's total is at MAX_TOTAL: it counts no further (answered with a 4xx)."""

    def __init__(self) -> None:
        super().__init__(f"the counter is at its largest total, {MAX_TOTAL}: it counts no further")


@dataclass(frozen=True, slots=True)
class Hit:
    total: int
    new_visitor_today: bool
    today: int = 0  # hits today, this one included
    unique_visitor_days: int = 0
    counted: bool = True
    created: bool = False  # this hit made the counter (its first, on a name nobody created)
    page_refused: bool = False  # a site's hit: the page's view was over PAGES_PER_SITE
    page_unlisted: bool = False  # a site's hit: a new page, not listed (its budget not paid)


@dataclass(frozen=True, slots=True)
class Info:
    total: int | None  # None: the counter does not exist
    meta: dict[str, str]


def hit_command(
    prefix: str,
    counter: Counter,
    visitor_id: str,
    now: datetime | None,
    uniques: bool = False,
    page: Counter | None = None,
    dimensions: tuple[str, ...] = (),
    *,
    address: str = "",
    create: bool = True,
    admit: bool = True,
    path: str | None = None,
    zone: tzinfo | None = None,
) -> tuple[tuple, tuple]:
    """The hit script's keys and arguments; a page view's ``dimensions`` are dimension, value
    pairs, counted in the site's daily aggregates (scripts/dimensions.lua). Unless ``create``
    the script makes no counter (answers "new"); a site's hit lists a new ``page`` among its
    pages only when ``admit``; a page's own hit keeps its ``path`` when it makes the page.
    ``zone``: the site's time zone (store/zones.py), where its days begin; None is UTC."""
    retention = settings.COUNTER_RETENTION_DAYS
    moment = now or clock.now()
    if zone is not None:
        moment = moment.astimezone(zone)
    today, oldest = day_fields(moment.date(), retention)
    n, d, du, uv, m, hll, rate, per_address, pages, here = counter_keys(prefix, counter)
    limit, window = settings.HIT_RATE_LIMIT or (0, 0)
    address_limit, address_window = (
        (settings.ADDRESS_HIT_RATE_LIMIT or (0, 0)) if address else (0, 0)
    )
    keys = (n, d, du, uv, hll + today, m, rate, per_address)
    now_ms = int(time.time() * 1000)
    args = (
        today,
        visitor_id,
        oldest,
        retention * 86400,
        now_ms,
        hll,
        +uniques,
        limit,
        window,
        +create,
        address,
        address_limit,
        address_window,
    )
    if page is not None:  # the site's hit of a page view also lists the page (hit_page)
        keys += (pages, here)
        # PAGES_PER_SITE counts the "other" page too: room for one fewer named page.
        args += (page.key, settings.PAGES_PER_SITE - 1, OTHER_PAGE_KEY, +admit)
        args += (NOW_WINDOW_SECONDS * 1000, NOW_PAIRS_KEPT)
        if dimensions:
            site_prefix = n[:-1]  # keys.counter_key(site, ""): "...c:{<ns>/site}:"
            cap, ttl = settings.DIMENSION_VALUES_PER_DAY, dimensions_ttl(retention)
            page_cap = settings.DIMENSION_PAGE_VALUES_PER_DAY
            args += (site_prefix, cap, ttl, page_cap, *dimensions, *page_pairs(dimensions))
    elif path is not None:
        args += (path,)
    return keys, args


PAGE_DIMENSIONS = ("referrer", "campaign", "browser", "os", "device", "country")


def page_pairs(dimensions: tuple[str, ...]) -> tuple[str, ...]:
    """A page view's per-page pairs (scripts/dimensions.lua): '@<dimension>', '<path>\\t<value>'
    for each of its dimensions in PAGE_DIMENSIONS; none without a page."""
    pairs = dict(zip(dimensions[::2], dimensions[1::2], strict=True))
    path = pairs.get("page")
    if path is None:
        return ()
    return tuple(
        item
        for dimension, value in pairs.items()
        if dimension in PAGE_DIMENSIONS
        for item in (f"@{dimension}", f"{path}\t{value}")
    )


def check_rate_window(reply) -> None:
    """A script's b"rate <seconds>" (scripts/rate_window.lua: the visitor passed
    HIT_RATE_LIMIT) as HitRateLimited."""
    if isinstance(reply, bytes) and reply.startswith(b"rate "):
        raise HitRateLimited(max(int(reply[5:]), 1))


def as_hit(reply: bytes) -> Hit | None:
    """The hit script's answer: b"total new-today today's-hits visitor-days [flags]", or
    b"new" (None: no such counter, and this hit may not make it), b"limit" (at MAX_TOTAL),
    or b"rate <seconds>" (HIT_RATE_LIMIT or ADDRESS_HIT_RATE_LIMIT passed)."""
    if reply == b"new":
        return None
    if reply == b"limit":
        raise CounterAtLimit
    check_rate_window(reply)
    parts = reply.split()
    flags = parts[4] if len(parts) > 4 else b""
    return Hit(
        int(parts[0]),
        parts[1] == b"1",
        int(parts[2]),
        int(parts[3]),
        created=b"c" in flags,
        page_refused=b"x" in flags,
        page_unlisted=b"n" in flags,
    )


def hit(
    counter: Counter,
    *,
    visitor_id: str,
    address: str = "",
    now: datetime | None = None,
    uniques: bool = False,
    create: bool = True,
) -> Hit | None:
    """Count one human hit: total, today's bucket, today's HyperLogLog. One round trip.
    With ``uniques`` the answer carries the unique visitor-days (a badge shows them). Unless
    ``create``, a counter that does not exist is not made: None, and nothing is written (the
    caller pays the new-counter budget, then hits again with ``create``). ``address`` (the
    client address's id) is held to ADDRESS_HIT_RATE_LIMIT."""
    with STORE_ERRORS:
        backend = current()
        zone = zones.zone(counter) if made_by_page_script(counter.key) else None
        keys, args = hit_command(
            backend.prefix,
            counter,
            visitor_id,
            now,
            uniques,
            address=address,
            create=create,
            zone=zone,
        )
        reply = run(HIT, keys, args, wait=backend.wait)
    made = as_hit(reply)
    if made is not None:
        metrics.count(metrics.HITS)
    return made


def bot_hit(counter: Counter) -> Hit:
    """Record a filtered bot hit; return the unchanged total. One round trip."""
    with STORE_ERRORS:
        total = run(_BOT, (counter_key(counter, "b"), counter_key(counter, "n")), ())
    metrics.count(metrics.BOT_HITS)
    return Hit(total=int(total), new_visitor_today=False, counted=False)


def total(counter: Counter) -> int | None:
    """The counter's total, or None when it has never been hit."""
    with STORE_ERRORS:
        value = get_client().get(counter_key(counter, "n"))
    return None if value is None else int(value)


def info(counter: Counter) -> Info:
    """The total and the metadata hash, in one round trip."""
    with STORE_ERRORS:
        pipe = get_client().pipeline(transaction=False)
        pipe.get(counter_key(counter, "n"))
        pipe.hgetall(counter_key(counter, "m"))
        value, meta = pipe.execute()
    return Info(
        total=None if value is None else int(value),
        meta={k.decode(): v.decode() for k, v in meta.items()},
    )


def create(counter: Counter, *, value: int, meta: dict[str, str | int]) -> bool:
    """Create the counter with a starting value and metadata; False when it exists."""
    pairs = [str(item) for pair in meta.items() for item in pair]
    with STORE_ERRORS:
        client = get_client()
        created = run(
            _CREATE, (counter_key(counter, "n"), counter_key(counter, "m")), (value, *pairs)
        )
        if created:
            client.incr(stat_key("keys_created"))
    return bool(created)


def set_total(counter: Counter, value: int, *, require_reset_enabled: bool) -> tuple[int, int]:
    """Set the total; return (status, old total): 1 set, 0 refused, -1 no such counter."""
    keys = (counter_key(counter, "n"), counter_key(counter, "m"))
    with STORE_ERRORS:
        client = get_client()
        status, old = run(_SET, keys, (value, int(require_reset_enabled)))
        if status == 1:
            client.incr(stat_key("keys_updated"))
    return int(status), int(old)


def update(counter: Counter, amount: int, *, bounds: tuple[int, int] | None) -> tuple[int, int]:
    """Add ``amount`` (within the counter's update bounds unless ``bounds`` is None, whose
    values are the defaults for counters that never stored theirs); return (status, total):
    1 updated, 0 out of bounds, -1 no such counter, -2 the total would pass MAX_TOTAL."""
    keys = (counter_key(counter, "n"), counter_key(counter, "m"))
    lower, upper = bounds or (0, 0)
    args = (amount, int(bounds is not None), lower, upper, MAX_TOTAL)
    with STORE_ERRORS:
        client = get_client()
        status, value = run(_UPDATE, keys, args)
        if status == 1:
            client.incr(stat_key("keys_updated"))
    return int(status), int(value)


def replace_admin_key(counter: Counter, *, expected: str, new: str) -> int:
    """Replace the admin key's hash if it is still ``expected``: 1 done, 0 it changed
    meanwhile, -1 no such counter. The old key stops working at once."""
    with STORE_ERRORS:
        return int(run(_ROTATE, (counter_key(counter, "m"),), (expected, new)))


def delete(counter: Counter, *, now: datetime | None = None) -> bool:
    """Delete every key of the counter (daily HyperLogLogs of the whole retention included,
    a day either side: its site's zone may have changed)."""
    today = (now or clock.now()).date() + timedelta(days=1)
    days = settings.COUNTER_RETENTION_DAYS + 3
    fields = ["n", "d", "du", "uv", "b", "m", "pages", "r", "a", "now"]
    fields += [f"u:{day_field(today - timedelta(days=offset))}" for offset in range(days)]
    with STORE_ERRORS:
        deleted = get_client().delete(*[counter_key(counter, field) for field in fields])
    return deleted > 0


def reset(
    counter: Counter, *, value: int = 0, create: bool = False, now: datetime | None = None
) -> int | None:
    """Start the counter over at ``value``, atomically; return the total it had before, or
    None when it did not exist (made at ``value`` only with ``create``; else nothing is
    written). Its daily history, uniques and bot hits are cleared with the total, so the
    history never shows more hits than the total (scripts/reset.lua); its metadata stays."""
    today = (now or clock.now()).date() + timedelta(days=1)  # a day either side: any zone
    days = settings.COUNTER_RETENTION_DAYS + 3
    fields = ["n", "m", "d", "du", "uv", "b"]
    fields += [f"u:{day_field(today - timedelta(days=offset))}" for offset in range(days)]
    keys = tuple(counter_key(counter, field) for field in fields)
    with STORE_ERRORS:
        client = get_client()
        status, old = run(_RESET, keys, (value, int(create), int(time.time() * 1000)))
        if status == 2:
            client.incr(stat_key("keys_created"))
    if status in (-1, 2):
        return None
    return int(old)


def iter_counters(*, namespace: str | None = None) -> Iterator[Counter]:
    """Every counter that has a total, metadata or bot hits (SCAN: no blocking KEYS)."""
    pattern, prefix = counters_pattern(namespace)
    seen: set[Counter] = set()
    with STORE_ERRORS:
        for raw in get_client().scan_iter(match=pattern, count=1000):
            name = raw.decode()
            tag = name[len(prefix) : name.index("}:", len(prefix))]
            ns, _, key = tag.partition("/")
            counter = Counter(ns, key)
            if counter not in seen:
                seen.add(counter)
                yield counter
