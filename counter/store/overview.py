"""The operator's overview: every site and counter (not the sites' pages) with its total and
today's figures, read in one pipelined round trip after a bounded SCAN."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import islice

from counter import clock
from counter.names import PAGE_PREFIX, Counter
from counter.store.connection import STORE_ERRORS, get_client
from counter.store.counters import iter_counters
from counter.store.keys import counter_key, day_field


@dataclass(frozen=True, slots=True)
class CounterFigures:
    counter: Counter
    total: int
    today: int  # hits today (UTC)
    today_uniques: int
    private: bool


def counters_overview(
    *, limit: int, now: datetime | None = None
) -> tuple[list[CounterFigures], bool]:
    """At most ``limit`` counters, in SCAN's order (which is no order: the caller sorts), and
    whether more exist. Page counters are left out: each site lists its own pages."""
    found = (counter for counter in iter_counters() if not counter.key.startswith(PAGE_PREFIX))
    counters = list(islice(found, limit + 1))
    more = len(counters) > limit
    counters = counters[:limit]
    today = day_field((now or clock.now()).date())
    with STORE_ERRORS:
        pipe = get_client().pipeline(transaction=False)
        for counter in counters:
            pipe.get(counter_key(counter, "n"))
            pipe.hget(counter_key(counter, "d"), today)
            pipe.pfcount(counter_key(counter, f"u:{today}"))
            pipe.hget(counter_key(counter, "m"), "private")
        replies = pipe.execute() if counters else []
    return [
        CounterFigures(
            counter=counter,
            total=int(total or 0),
            today=int(hits or 0),
            today_uniques=int(uniques or 0),
            private=private == b"1",
        )
        for counter, (total, hits, uniques, private) in zip(
            counters, zip(*[iter(replies)] * 4, strict=True), strict=True
        )
    ], more
