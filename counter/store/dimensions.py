"""A site's dimensions: where its visitors come from and what they use, per day, as
aggregates (each value's hits and visitors), never a record per visitor.

The site's hit script counts a page view's dimensions (scripts/dimensions.lua, where the
keys are described); a custom event is counted by scripts/event.lua. Both keep a dimension
to DIMENSION_VALUES_PER_DAY distinct values a day, the rest under "(other)". Read here:
a range of days summed, most hits first.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.conf import settings

from counter import clock
from counter.names import Counter
from counter.store import scripts, zones
from counter.store.connection import STORE_ERRORS, get_client, kept, run
from counter.store.counters import PAGE_DIMENSIONS, check_rate_window
from counter.store.history import period_span
from counter.store.keys import (
    counter_key,
    day_field,
    day_fields,
    dimension_visitors_key,
    dimensions_key,
    dimensions_ttl,
)

DIMENSIONS = ("referrer", "campaign", "browser", "os", "device", "country", "page", "event")
# The per-page pairs' dimensions (scripts/dimensions.lua): values '<page path>\t<value>'.
PAGE_PAIRS = tuple(f"@{dimension}" for dimension in (*PAGE_DIMENSIONS, "event"))
OTHER = "(other)"  # values past a day's cap, and past a breakdown's rows

_EVENT = scripts.load("event.lua")
_READ = scripts.load("read_dimensions.lua")


@dataclass(frozen=True, slots=True)
class Row:
    value: str
    hits: int
    visitors: int  # visitor-days: each day's distinct visitors with this value, summed
    previous_hits: int | None = None  # the previous period's, when compared
    previous_visitors: int | None = None


def _days(days: int, now: datetime | None, site: Counter | None = None) -> list[date]:
    today = (now or clock.now()).date() if site is None else zones.local_date(site, now)
    return [today - timedelta(days=offset) for offset in range(days)]


def _periods(
    site: Counter,
    days: int | None,
    first: date | None,
    last: date | None,
    compare: bool,
    now: datetime | None,
) -> tuple[list[str], list[str]]:
    """The period's day fields and the previous period's (empty unless ``compare``), in the
    site's days (its time zone)."""
    span, at, _ = period_span(
        days=days, first=first, last=last, compare=compare, now=now, counter=site
    )
    fields = [day_field(day) for day in span]
    return fields[at:], fields[:at]


def day_ttl() -> int:
    return dimensions_ttl(settings.COUNTER_RETENTION_DAYS)


def site_prefix(site: Counter) -> str:
    """The common prefix of the site's keys (its dimensions' keys are made from it)."""
    return counter_key(site, "")


def count_event(
    site: Counter,
    *,
    visitor_id: str,
    name: str,
    address: str = "",
    page: str = "",
    now: datetime | None = None,
) -> bool:
    """Count a custom event in the site's ``event`` dimension (not in its total), and with
    ``page`` (its path) in that page's events (the page "(other)" unless it was viewed today).
    False when the site does not exist (events make nothing); HitRateLimited past the
    visitor's HIT_RATE_LIMIT or the ``address``'s ADDRESS_HIT_RATE_LIMIT, shared with the
    site's page views. One round trip."""
    today, _ = day_fields(zones.local_date(site, now), settings.COUNTER_RETENTION_DAYS)
    keys = tuple(counter_key(site, field) for field in ("n", "d", "r", "a"))
    limit, window = settings.HIT_RATE_LIMIT or (0, 0)
    per_address = (settings.ADDRESS_HIT_RATE_LIMIT if address else None) or (0, 0)
    args = (today, visitor_id, site_prefix(site), settings.DIMENSION_VALUES_PER_DAY, day_ttl())
    with STORE_ERRORS:
        pairs = ("event", name, *(("@event", f"{page}\t{name}") if page else ()))
        cap = settings.DIMENSION_PAGE_VALUES_PER_DAY
        reply = run(_EVENT, keys, (*args, limit, window, address, *per_address, cap, *pairs))
    check_rate_window(reply)
    return bool(reply)


def breakdown(
    site: Counter,
    dimension: str,
    *,
    days: int | None = None,
    first: date | None = None,
    last: date | None = None,
    compare: bool = False,
    now: datetime | None = None,
    limit: int = 100,
) -> list[Row]:
    """The dimension's values over the last ``days`` days (today included), or ``first`` to
    ``last``, most hits first; past ``limit`` rows the rest are summed under "(other)" (ranked
    by its hits too). With ``compare`` each row carries the previous period's figures: both
    periods are read at once."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"no dimension {dimension!r}")
    span, before = _periods(site, days, first, last, compare, now)
    read = read_days(site, before + span, dimension)
    return _rank(read, dimension, limit, span, before if compare else None)


def page_breakdown(
    site: Counter,
    dimension: str,
    *,
    days: int | None = None,
    first: date | None = None,
    last: date | None = None,
    compare: bool = False,
    page: str | None = None,
    referrer: str | None = None,
    campaign: str | None = None,
    now: datetime | None = None,
    limit: int = 100,
) -> list[Row]:
    """A breakdown narrowed by the per-page pairs (scripts/dimensions.lua): with ``page``,
    that page's own values of ``dimension`` (one of PAGE_DIMENSIONS); with ``referrer`` or
    ``campaign`` (``dimension`` "page"), the pages visitors from it viewed. Pairs counted past
    DIMENSION_PAGE_VALUES_PER_DAY belong to no page and are left out; pages the site does
    not list are "(other)". The period and ``compare`` as ``breakdown``'s."""
    if page is not None:
        narrowed_too = referrer is not None or campaign is not None
        if dimension not in (*PAGE_DIMENSIONS, "event") or narrowed_too:
            raise ValueError(f"page= narrows one of {', '.join(PAGE_DIMENSIONS)}, event")
        source, wanted, keep = dimension, page, 0
    elif dimension == "page" and (referrer is None) != (campaign is None):
        source = "referrer" if referrer is not None else "campaign"
        wanted, keep = (referrer if referrer is not None else campaign), 1
    else:
        raise ValueError("referrer= or campaign= (one) narrows the page dimension")
    span, before = _periods(site, days, first, last, compare, now)
    narrowed: Days = {}
    for day, by_dimension in read_days(site, before + span, f"@{source}").items():
        values = narrowed.setdefault(day, {}).setdefault(dimension, {})
        for pair, figures in by_dimension.get(f"@{source}", {}).items():
            parts = pair.split("\t", 1)
            if len(parts) == 2 and parts[keep] == wanted:
                values[parts[1 - keep]] = figures
    return _rank(narrowed, dimension, limit, span, before if compare else None)


def breakdowns(
    site: Counter,
    *,
    days: int | None = None,
    first: date | None = None,
    last: date | None = None,
    compare: bool = False,
    now: datetime | None = None,
    limit: int = 10,
    keep_seconds: float = 0,
) -> dict[str, list[Row]]:
    """Every dimension's breakdown (as ``breakdown``), read at once: the dashboard's. With
    ``keep_seconds`` the days before today (the period's and the previous period's), added
    up, are kept that long in this process and reused; today's are read every time, so a
    dashboard that follows the live stream shows today's views at once, and a year of a busy
    site's value-days is not added up again on every read."""
    kept_reads = kept("breakdowns")  # key -> (until, the days before today, added up)
    span, before = _periods(site, days, first, last, compare, now)
    today = day_field(zones.local_date(site, now))
    past = [day for day in span if day != today]
    key = (site, span[0], span[-1], compare, today)
    found = kept_reads.get(key) if keep_seconds else None
    if found is not None and found[0] > time.monotonic():
        added, fresh = found[1], read_days(site, [today]) if today in span else {}
    else:
        read = read_days(site, before + span)
        added = {_PAST: _added(read, past), _BEFORE: _added(read, before)}
        fresh = {today: read[today]} if today in read else {}
        if keep_seconds:
            if len(kept_reads) >= 256:
                kept_reads.clear()
            kept_reads[key] = (time.monotonic() + keep_seconds, added)
    read = {**added, **fresh}
    days_read = [_PAST, *fresh]
    previous = [_BEFORE] if compare else None
    return {
        dimension: _rank(read, dimension, limit, days_read, previous) for dimension in DIMENSIONS
    }


# breakdowns' added-up days: not day fields (those are digits)
_PAST, _BEFORE = "past", "before"


def _added(read: Days, days: list[str]) -> dict[str, dict[str, list[int]]]:
    """The ``days`` of ``read`` added up, as one day's: dimension -> value -> [hits,
    visitors] (visitors are visitor-days, added as everywhere)."""
    added: dict[str, dict[str, list[int]]] = {}
    for day in days:
        for dimension, values in read.get(day, {}).items():
            add_values(added.setdefault(dimension, {}), values)
    return added


def add_values(into: dict[str, list[int]], values: dict[str, list[int]]) -> None:
    """Add ``values`` (value -> [hits, visitors]) to ``into``, value by value."""
    for value, (hits, visitors) in values.items():
        before = into.get(value, (0, 0))
        into[value] = [before[0] + int(hits), before[1] + int(visitors)]


def _tally(read: Days, days: list[str], dimension: str) -> tuple[Tally[str], Tally[str]]:
    hits: Tally[str] = Tally()
    visitors: Tally[str] = Tally()
    for day in days:
        for value, (day_hits, day_visitors) in read.get(day, {}).get(dimension, {}).items():
            hits[value] += day_hits
            visitors[value] += day_visitors
    return hits, visitors


def _rank(
    read: Days, dimension: str, limit: int, span: list[str], previous: list[str] | None = None
) -> list[Row]:
    """The period's (``span``) rows; with ``previous`` (the previous period's days) each row
    carries that period's figures, "(other)" all of its values not named in a row."""
    hits, visitors = _tally(read, span, dimension)
    ranked = sorted(hits, key=lambda value: (-hits[value], value))
    rows = [Row(value, hits[value], visitors[value]) for value in ranked if value != OTHER]
    rest: list[Row] = []
    if len(rows) + (OTHER in hits) > limit:  # room for limit - 1 values and "(other)"
        rows, rest = rows[: limit - 1], rows[limit - 1 :]
    other = Row(
        OTHER,
        hits[OTHER] + sum(row.hits for row in rest),
        visitors[OTHER] + sum(row.visitors for row in rest),
    )
    if other.hits:
        rows.append(other)
        rows.sort(key=lambda row: (-row.hits, row.value == OTHER, row.value))
    if previous is None:
        return rows
    before_hits, before_visitors = _tally(read, previous, dimension)
    named = {row.value for row in rows if row.value != OTHER}
    return [
        replace(
            row,
            previous_hits=before_hits[row.value]
            if row.value != OTHER
            else sum(n for value, n in before_hits.items() if value not in named),
            previous_visitors=before_visitors[row.value]
            if row.value != OTHER
            else sum(n for value, n in before_visitors.items() if value not in named),
        )
        for row in rows
    ]


Days = dict[str, dict[str, dict[str, list[int]]]]  # day -> dimension -> value -> [hits, visitors]


def read_days(
    site: Counter, span: list[str], dimension: str | None = None, *, pairs: bool = False
) -> Days:
    """The days' aggregates (of one dimension, or all), visitors included; with ``pairs``
    (``dimension`` None) the per-page pairs' (PAGE_PAIRS) too, as a backup carries them.

    A settled day's dimension is one field of lines (``value\\thits\\tvisitors``): one
    pipeline of HMGETs reads every settled day, and Redis does little. The days not settled
    yet (today, normally alone) are read by a script that counts their HyperLogLogs, a week
    of days a call at most, so that no call holds Redis long. A day's imported figures
    ('i|<dimension>' lines, written by ``backup.restore_dimensions`` into a day that was
    live) are added to either: the same HMGET reads them."""
    prefix = site_prefix(site)
    names = DIMENSIONS if dimension is None else (dimension,)
    if pairs:
        if dimension is not None:
            raise ValueError("pairs= reads every dimension")
        names = (*DIMENSIONS, *PAGE_PAIRS)
    counts = 1 + len(names)  # where the '#|' fields start in a reply
    fields = [
        "settled",
        *(f"s|{name}" for name in names),
        *(f"#|{name}" for name in DIMENSIONS),
        *(f"i|{name}" for name in names),
    ]
    read: Days = {}
    live: list[str] = []
    imported: dict[str, list] = {}  # day -> its 'i|' fields (restore's, a live day's)
    with STORE_ERRORS:
        pipe = get_client().pipeline(transaction=False)
        for day in span:
            pipe.hmget(dimensions_key(site, day), fields)
        replies = pipe.execute()
    for day, values in zip(span, replies, strict=True):
        imported[day] = values[counts + len(DIMENSIONS) :]
        if values[0] is None:  # not settled: live, or no such day
            if any(value is not None for value in values[counts:]):
                live.append(day)
            continue
        for name, text in zip(names, values[1:counts], strict=True):
            if text:
                read.setdefault(day, {})[name] = parse_lines(text)
    wanted = ("h|*" if pairs else "h|") if dimension is None else f"h|{dimension}|"
    for start in range(0, len(live), _LIVE_DAYS_A_CALL):
        chunk = live[start : start + _LIVE_DAYS_A_CALL]
        with STORE_ERRORS:
            reply = run(_READ, (counter_key(site, "n"),), (prefix, wanted, *chunk))
        for day, rows in zip(chunk, reply, strict=True):
            for i in range(0, len(rows), 3):
                name, _, value = rows[i].decode("utf-8", "surrogateescape").partition("|")
                read.setdefault(day, {}).setdefault(name, {})[value] = [rows[i + 1], rows[i + 2]]
    for day, texts in imported.items():
        for name, text in zip(names, texts, strict=True):
            if text:
                add_values(read.setdefault(day, {}).setdefault(name, {}), parse_lines(text))
    return read


_LIVE_DAYS_A_CALL = 7


def parse_lines(text: bytes) -> dict[str, list[int]]:
    """A settled day's dimension: value -> [hits, visitors]."""
    values = {}
    for line in text.decode("utf-8", "surrogateescape").split("\n"):
        value, hits, visitors = line.rsplit("\t", 2)
        values[value] = [int(hits), int(visitors)]
    return values


def _retained(now: datetime | None) -> list[str]:
    tomorrow = (now or clock.now()) + timedelta(days=1)  # a day either side: any zone
    return [day_field(day) for day in _days(settings.COUNTER_RETENTION_DAYS + 3, tomorrow)]


def delete(site: Counter, *, now: datetime | None = None) -> int:
    """Delete the site's dimensions, every retained day's (with the site): the days' hashes,
    and the HyperLogLogs of days not settled yet."""
    days = _retained(now)
    with STORE_ERRORS:
        client = get_client()
        pipe = client.pipeline(transaction=False)
        for day in days:
            pipe.hexists(dimensions_key(site, day), "settled")
            pipe.hkeys(dimensions_key(site, day))
        replies = pipe.execute()
        doomed = []
        for i, day in enumerate(days):
            settled, fields = replies[2 * i], replies[2 * i + 1]
            if not fields:
                continue
            doomed.append(dimensions_key(site, day))
            if not settled:
                doomed += [
                    dimension_visitors_key(site, day, field[2:].decode("utf-8", "surrogateescape"))
                    for field in fields
                    if field.startswith(b"h|")
                ]
        return client.delete(*doomed) if doomed else 0


def export(site: Counter, *, now: datetime | None = None) -> Days:
    """The site's dimensions, visitors counted, for a backup: settled days and days not
    settled yet alike, the per-page pairs ('@<dimension>', values '<page path>\\t<value>',
    PAGE_PAIRS) included."""
    return read_days(site, _retained(now), pairs=True)


def format_lines(values: dict[str, list[int]]) -> str:
    """A dimension's values as lines ``value\thits\tvisitors`` ('s|', 'i|' fields)."""
    return "\n".join(f"{value}\t{hits}\t{visitors}" for value, (hits, visitors) in values.items())
