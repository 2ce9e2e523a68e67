"""A counter's figures over a period: its total, bots, visitors, and each day's hits and
visitors in its days (its site's time zone), the previous period's beside them when
compared. One script (scripts/stats.lua), so one round trip, whatever is asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings

from counter import clock
from counter.names import Counter
from counter.store import scripts, zones
from counter.store.connection import STORE_ERRORS, run
from counter.store.keys import counter_key, day_field

_STATS = scripts.load("stats.lua")


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    hits: int
    uniques: int


@dataclass(frozen=True, slots=True)
class Totals:
    hits: int
    uniques: int  # distinct visitor ids over the period (PFCOUNT of the days' union)


@dataclass(frozen=True, slots=True)
class Stats:
    total: int
    bots: int
    unique_visitor_days: int
    uniques: int  # distinct visitor ids over the range (PFCOUNT of the days' union)
    days: list[Day]  # the period's, oldest first
    today: Day  # today's, whether the period holds today or not
    previous: Totals | None = None  # the previous period's, when compared
    previous_days: list[Day] | None = None  # and its days, oldest first (as many as days)

    @property
    def totals(self) -> Totals:
        return Totals(hits=sum(day.hits for day in self.days), uniques=self.uniques)


def period_span(
    *,
    days: int | None,
    first: date | None,
    last: date | None,
    compare: bool,
    now: datetime | None,
    counter: Counter | None = None,
) -> tuple[list[date], int, date]:
    """The days a read of a period covers, oldest first: the previous period's first (when
    ``compare``), then the period's (the last ``days`` days, today included, or ``first`` to
    ``last``); with the index of the period's first day in that list, and today. Every day is
    within the retention and none is in the future (ValueError otherwise: the caller's
    parameters were checked by counter.domain.periods). Days are ``counter``'s (its site's
    time zone), UTC days without one."""
    today = (now or clock.now()).date() if counter is None else zones.local_date(counter, now)
    if days is not None:
        first, last = today - timedelta(days=days - 1), today
    if first is None or last is None or first > last:
        raise ValueError("a period is days=N or first <= last")
    length = (last - first).days + 1
    start = first - timedelta(days=length) if compare else first
    retention = settings.COUNTER_RETENTION_DAYS
    if last > today or (today - start).days >= retention:
        raise ValueError(f"a read covers the last {retention} days, got {start} to {last}")
    span = [start + timedelta(days=offset) for offset in range((last - start).days + 1)]
    return span, len(span) - length, today


def stats(
    counter: Counter,
    *,
    days: int | None = None,
    first: date | None = None,
    last: date | None = None,
    compare: bool = False,
    now: datetime | None = None,
) -> Stats:
    """Totals, and the period's days: the last ``days`` days (today included), or ``first``
    to ``last``. With ``compare`` the previous period's totals and days too (``previous``,
    ``previous_days``). One round
    trip (a script) whatever is asked: today is read with the period when it lies outside."""
    span, at, today = period_span(
        days=days, first=first, last=last, compare=compare, now=now, counter=counter
    )
    read = span if span[-1] == today else [*span, today]
    fields = [day_field(day) for day in read]
    keys = [counter_key(counter, field) for field in ("n", "b", "uv", "d", "du")]
    keys += [counter_key(counter, f"u:{field}") for field in fields]
    args = (counter_key(counter, "u:"), at + 1, len(span), *fields)
    with STORE_ERRORS:
        reply = run(_STATS, tuple(keys), args)
    total_, bots, visitor_days, hits, uniques, range_uniques, previous_uniques = reply
    every = [
        Day(day=day, hits=int(h or 0), uniques=int(u or 0))
        for day, h, u in zip(read, hits, uniques, strict=True)
    ]
    previous = None
    if compare:
        previous = Totals(hits=sum(day.hits for day in every[:at]), uniques=int(previous_uniques))
    return Stats(
        total=int(total_ or 0),
        bots=int(bots or 0),
        unique_visitor_days=int(visitor_days or 0),
        uniques=int(range_uniques),
        days=every[at : len(span)],
        today=every[-1],
        previous=previous,
        previous_days=every[:at] if compare else None,
    )
