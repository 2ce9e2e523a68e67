"""A counter's raw data out and in: everything needed to restore it exactly, raw
HyperLogLogs and a site's daily dimensions included. The backup file's format (JSON Lines,
checked before any write) is counter/domain/backup_format.py's; the commands are
export_counters and import_counters."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from counter.names import SITE_KEY, Counter
from counter.store import dimensions, scripts, zones
from counter.store.connection import STORE_ERRORS, get_client, run
from counter.store.counters import MAX_TOTAL, delete
from counter.store.dimensions import (
    DIMENSIONS,
    OTHER,
    PAGE_PAIRS,
    Days,
    add_values,
    day_ttl,
    format_lines,
    parse_lines,
    read_days,
)
from counter.store.keys import counter_key, day_field, dimension_visitors_key, dimensions_key

_REFRESH_DAY = scripts.load("refresh_day.lua")


def export_counter(counter: Counter) -> dict:
    """Everything about one counter, raw HyperLogLogs included (two round trips)."""
    with STORE_ERRORS:
        client = get_client()
        pipe = client.pipeline(transaction=False)
        for field in ("n", "b", "uv"):
            pipe.get(counter_key(counter, field))
        for field in ("d", "du", "m"):
            pipe.hgetall(counter_key(counter, field))
        pipe.zrange(counter_key(counter, "pages"), 0, -1, withscores=True)
        total, bots, visitor_days, daily, daily_uniques, meta, pages = pipe.execute()
        days = sorted({k.decode() for k in daily} | {k.decode() for k in daily_uniques})
        uniques = {k.decode(): int(v) for k, v in daily_uniques.items()}
        unsettled = [day for day in days if day not in uniques]  # counted at read time
        pipe = client.pipeline(transaction=False)
        for day in days:
            pipe.get(counter_key(counter, f"u:{day}"))
            pipe.ttl(counter_key(counter, f"u:{day}"))
        for day in unsettled:
            pipe.pfcount(counter_key(counter, f"u:{day}"))
        raw = pipe.execute()
    hlls = {day: (raw[2 * i], raw[2 * i + 1]) for i, day in enumerate(days)}
    uniques.update(zip(unsettled, raw[2 * len(days) :], strict=True))
    return {
        "total": None if total is None else int(total),
        "bots": int(bots or 0),
        "unique_visitor_days": int(visitor_days or 0) + sum(uniques[day] for day in unsettled),
        "daily": {k.decode(): int(v) for k, v in sorted(daily.items())},
        "daily_uniques": dict(sorted(uniques.items())),
        "hll": {day: value for day, (value, _) in hlls.items() if value is not None},
        "hll_ttl": {day: ttl for day, (value, ttl) in hlls.items() if value is not None},
        "meta": {k.decode(): v.decode() for k, v in meta.items()},
        "pages": {k.decode(): int(v) for k, v in pages},
        "dimensions": dimensions.export(counter) if counter.key == SITE_KEY else {},
    }


def import_counter(counter: Counter, data: dict, *, replace: bool) -> None:
    """Write one exported counter: ``replace`` makes it exactly the export (one MULTI/EXEC);
    otherwise it is merged in (totals added, HyperLogLogs merged, uniques recounted)."""
    day_ttl = settings.COUNTER_RETENTION_DAYS * 86400
    with STORE_ERRORS:
        client = get_client()
        if data["total"] and not replace:
            after = int(client.get(counter_key(counter, "n")) or 0) + data["total"]
            if abs(after) > MAX_TOTAL:
                raise ValueError(f"{counter}: merged, its total would pass {MAX_TOTAL}")
        pipe = client.pipeline(transaction=True)
        if replace:
            delete(counter)
            if counter.key == SITE_KEY:
                dimensions.delete(counter)
        if data["total"] is not None:
            pipe.incrby(counter_key(counter, "n"), data["total"])
        if data["bots"]:
            pipe.incrby(counter_key(counter, "b"), data["bots"])
        for day, hits in data["daily"].items():
            pipe.hincrby(counter_key(counter, "d"), day, hits)
        tmp = counter_key(counter, "import")
        for day, raw in data["hll"].items():
            hll = counter_key(counter, f"u:{day}")
            if replace:  # as it was (PFMERGE would turn a small sparse HLL into a dense one)
                pipe.set(hll, raw)
            else:
                pipe.set(tmp, raw)
                pipe.pfmerge(hll, hll, tmp)
            ttl = data["hll_ttl"].get(day, -1)
            pipe.expire(hll, ttl if ttl > 0 else day_ttl)
        pipe.delete(tmp)
        without_hll = {d: u for d, u in data["daily_uniques"].items() if d not in data["hll"]}
        for day, uniques in without_hll.items():
            pipe.hincrby(counter_key(counter, "du"), day, uniques)
        # Visitor-days of days no longer in the export's history: carried over as they were.
        carried = data["unique_visitor_days"] - sum(data["daily_uniques"].values())
        pipe.incrby(counter_key(counter, "uv"), carried + sum(without_hll.values()))
        for field, value in data["meta"].items():
            if replace:
                pipe.hset(counter_key(counter, "m"), field, value)
            else:
                pipe.hsetnx(counter_key(counter, "m"), field, value)
        for page, hits in data["pages"].items():
            pipe.zincrby(counter_key(counter, "pages"), hits, page)
        if counter.key == SITE_KEY:
            restore_dimensions(counter, data.get("dimensions", {}), pipe=pipe)
        pipe.execute()
        for day in data["hll"]:  # the merged HLLs' counts are the days' uniques
            keys = (
                counter_key(counter, "du"),
                counter_key(counter, "uv"),
                counter_key(counter, f"u:{day}"),
            )
            run(_REFRESH_DAY, keys, (day,))


def restore_dimensions(site: Counter, exported: Days, *, pipe) -> None:
    """Add exported dimensions to the site (on the caller's pipeline), each day's figures to
    those already there. The per-page pairs ('@<dimension>') are merged like the rest; an old
    backup without them keeps those already there.

    A settled day, or a day absent before the site's yesterday, is written settled: its
    figures read first (imported ones included) and the merge written as its 's|' lines.
    A live day (not settled; or absent from the site's yesterday on, which a page view may
    still open) stays live: its 'h|' fields and HyperLogLogs are left to the page views, and
    the imported figures are added to its 'i|<dimension>' lines (value, hits, visitors),
    which every read adds (``dimensions.read_days``) and settling keeps
    (scripts/dimensions.lua settles the 'h|' fields only). Writing such a day settled, as an
    import once did, lost the views counted after it: they went on into 'h|' fields that
    neither a read of a settled day nor the next day's settling looks at. Separate fields keep
    the hit path as it was (a page view does no more work) where folding late 'h|' fields
    into a settled day would have had every settled day's read and settle look for them.

    Each dimension's count of values ('#|', what the daily caps are checked against) is its
    values', the per-page pairs' without their whole '(other)' (pairs past
    DIMENSION_PAGE_VALUES_PER_DAY, which scripts/dimensions.lua does not count); on a live
    day the values new to it are added. A page view of an imported value not viewed yet that
    day counts it again: the cap comes early, no figure is lost. A merge can leave a day past
    a cap: nothing is folded into '(other)', so no figure is lost."""
    days = sorted(exported)
    names = (*DIMENSIONS, *PAGE_PAIRS)
    with STORE_ERRORS:
        reading = get_client().pipeline(transaction=False)
        for day in days:
            key = dimensions_key(site, day)
            reading.hmget(key, ["settled", *(f"i|{name}" for name in names)])
            reading.hkeys(key)
        replies = reading.execute()
    yesterday = day_field(zones.local_date(site) - timedelta(days=1))
    live: dict[str, tuple[dict, list]] = {}  # day -> its 'i|' texts by name, its fields
    for i, day in enumerate(days):
        values, keys = replies[2 * i], replies[2 * i + 1]
        if values[0] is None and (keys or day >= yesterday):
            live[day] = (dict(zip(names, values[1:], strict=True)), keys)
    there = read_days(site, [day for day in days if day not in live], pairs=True)
    for day, by_dimension in exported.items():
        name = dimensions_key(site, day)
        if day in live:
            _restore_live_day(name, *live[day], by_dimension, pipe)
            continue
        merged = there.get(day, {})
        for dimension, values in by_dimension.items():
            add_values(merged.setdefault(dimension, {}), values)
        hlls = [
            dimension_visitors_key(site, day, f"{d}|{v}")
            for d, values in merged.items()
            for v in values
        ]
        pipe.delete(name, *hlls)
        for dimension, values in merged.items():
            pipe.hset(name, f"s|{dimension}", format_lines(values))
            counted = len(values) - (dimension in PAGE_PAIRS and OTHER in values)
            pipe.hset(name, f"#|{dimension}", counted)
        pipe.hset(name, "settled", 1)
        pipe.expire(name, day_ttl())


def _restore_live_day(
    name: str, imported: dict, fields: list, by_dimension: dict[str, dict[str, list[int]]], pipe
) -> None:
    """``restore_dimensions`` into a live day (its hash ``name``): the exported figures added
    to its 'i|' lines (``imported``: dimension -> text), its count of values raised by the values
    new to the day (in neither its 'h|' ``fields`` nor its 'i|' lines)."""
    counted = {field.decode("utf-8", "surrogateescape") for field in fields}
    for dimension, values in by_dimension.items():
        text = imported.get(dimension)
        merged = parse_lines(text) if text else {}
        new = sum(
            value not in merged
            and f"h|{dimension}|{value}" not in counted
            and not (dimension in PAGE_PAIRS and value == OTHER)
            for value in values
        )
        add_values(merged, values)
        if merged:
            pipe.hset(name, f"i|{dimension}", format_lines(merged))
        if new:
            pipe.hincrby(name, f"#|{dimension}", new)
    if not fields:  # a day no view opened yet; an opened one expires as its first view set
        pipe.expire(name, day_ttl())
