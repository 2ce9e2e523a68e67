"""The operator's overview: every site and counter (not the sites' pages) with its total and
today's figures, read in one pipelined round trip after a bounded SCAN.

"Today" is each counter's own day: a site's is its local date in its time zone (its daily
buckets are keyed by it, store/zones.py), any other counter's the UTC day. The zone is read
in the same pipeline (the site's metadata, fresh: not the 60 s a process keeps it), with
the buckets of the three dates a zone's today can be (the UTC date and a day either side);
the local date picks among them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice

from counter import clock
from counter.names import PAGE_PREFIX, Counter, made_by_page_script
from counter.store import zones
from counter.store.connection import STORE_ERRORS, get_client
from counter.store.counters import iter_counters
from counter.store.keys import counter_key, day_field


@dataclass(frozen=True, slots=True)
class CounterFigures:
    counter: Counter
    total: int
    today: int  # hits on ``day``, the counter's today
    today_uniques: int
    private: bool
    day: date  # the counter's today: its site's local date, or the UTC date
    zone: str = zones.DEFAULT_ZONE  # whose day ``day`` is (an IANA name, or UTC)


def counters_overview(
    *, limit: int, now: datetime | None = None
) -> tuple[list[CounterFigures], bool]:
    """At most ``limit`` counters, in SCAN's order (which is no order: the caller sorts), and
    whether more exist. Page counters are left out: each site lists its own pages."""
    found = (counter for counter in iter_counters() if not counter.key.startswith(PAGE_PREFIX))
    counters = list(islice(found, limit + 1))
    more = len(counters) > limit
    counters = counters[:limit]
    now = (now or clock.now()).astimezone(UTC)
    utc_today = now.date()
    # the dates a counter's today can be: a zone's (UTC-12 to UTC+14) is a day either side
    candidates = {
        False: (utc_today,),
        True: (utc_today - timedelta(days=1), utc_today, utc_today + timedelta(days=1)),
    }
    with STORE_ERRORS:
        pipe = get_client().pipeline(transaction=False)
        for counter in counters:
            days = [day_field(day) for day in candidates[made_by_page_script(counter.key)]]
            pipe.get(counter_key(counter, "n"))
            pipe.hmget(counter_key(counter, "m"), "private", "timezone")
            pipe.hmget(counter_key(counter, "d"), days)
            for field in days:
                pipe.pfcount(counter_key(counter, f"u:{field}"))
        replies = iter(pipe.execute() if counters else [])
    rows = []
    for counter in counters:
        days = candidates[made_by_page_script(counter.key)]
        total, (private, zone_raw), hits = next(replies), next(replies), next(replies)
        uniques = [next(replies) for _ in days]
        zone, day = zones.DEFAULT_ZONE, utc_today
        if len(days) > 1 and zone_raw:  # a site with a zone of its own: its days' dates
            zone = zone_raw.decode()
            day = now.astimezone(zones.named(zone)).date()
        at = days.index(day)
        rows.append(
            CounterFigures(
                counter=counter,
                total=int(total or 0),
                today=int(hits[at] or 0),
                today_uniques=int(uniques[at] or 0),
                private=private == b"1",
                day=day,
                zone=zone,
            )
        )
    return rows, more
