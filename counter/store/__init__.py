"""Every Redis key and command of visitorsite lives in this package; callers use the names
below (``from counter import store``; ``store.hit(...)``).

    keys.py        the key schema (read its docstring first): every key name is made there
    scripts/*.lua  the Lua scripts, one a file, each opening with its KEYS/ARGV contract
    connection.py  the client, its pool, one round trip (shared under gevent), errors ->
                   StoreUnavailable
    counters.py    a counter's operations: hit (one EVALSHA), info, create, set, update...
    history.py     a counter's figures over a period (stats): one script, one round trip
    pages.py       the page script's site and pages: page views, page secrets, claims
    dimensions.py  a site's daily dimensions (referrer, browser, country...): events, reads
    zones.py       a site's time zone (where its days begin), kept per process for a minute
    backup.py      a counter's raw data out and in (export/import)
    service.py     salts, rate-limit buckets, service figures, AOF rewrite, readiness

To change what a hit records: scripts/hit.lua (and its arguments in counters.hit_command).
"""

from counter.names import OTHER_PAGE_KEY
from counter.store.backup import export_counter, import_counter
from counter.store.connection import StoreUnavailable
from counter.store.counters import (
    MAX_TOTAL,
    NOW_WINDOW_SECONDS,
    PAGE_DIMENSIONS,
    CounterAtLimit,
    Hit,
    HitRateLimited,
    Info,
    bot_hit,
    create,
    hit,
    info,
    iter_counters,
    replace_admin_key,
    reset,
    set_total,
    total,
    update,
)
from counter.store.dimensions import (
    DIMENSIONS,
    PAGE_PAIRS,
    Row,
    breakdown,
    breakdowns,
    count_event,
    page_breakdown,
)
from counter.store.history import Day, Stats, Totals, stats
from counter.store.overview import CounterFigures, counters_overview
from counter.store.pages import (
    OTHER_PAGE_PATH,
    HereNow,
    Page,
    claim,
    delete,
    here_now,
    hit_other,
    hit_page,
    list_page,
    listed_pages,
    page_secret,
    rekey_pages,
    top_pages,
)
from counter.store.service import (
    period_salt,
    ping,
    rate_limit,
    rewrite_aof_after,
    service_stats,
)
from counter.store.zones import ZONE_NAMES, UnknownZone, local_date, set_zone, zone_name

__all__ = [
    "DIMENSIONS",
    "MAX_TOTAL",
    "NOW_WINDOW_SECONDS",
    "OTHER_PAGE_KEY",
    "OTHER_PAGE_PATH",
    "PAGE_DIMENSIONS",
    "PAGE_PAIRS",
    "ZONE_NAMES",
    "CounterAtLimit",
    "CounterFigures",
    "Day",
    "HereNow",
    "Hit",
    "HitRateLimited",
    "Info",
    "Page",
    "Row",
    "Stats",
    "StoreUnavailable",
    "Totals",
    "UnknownZone",
    "bot_hit",
    "breakdown",
    "breakdowns",
    "claim",
    "count_event",
    "counters_overview",
    "create",
    "delete",
    "export_counter",
    "here_now",
    "hit",
    "hit_other",
    "hit_page",
    "import_counter",
    "info",
    "iter_counters",
    "list_page",
    "listed_pages",
    "local_date",
    "page_breakdown",
    "page_secret",
    "period_salt",
    "ping",
    "rate_limit",
    "rekey_pages",
    "replace_admin_key",
    "reset",
    "rewrite_aof_after",
    "service_stats",
    "set_total",
    "set_zone",
    "stats",
    "top_pages",
    "total",
    "update",
    "zone_name",
]
