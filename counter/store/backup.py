"""A counter's raw data out and in: everything needed to restore it exactly, raw
HyperLogLogs included. The backup file's format (JSON Lines, checked before any write) is
counter/domain/backup_format.py's; the commands are export_counters and import_counters."""

from __future__ import annotations

from django.conf import settings

from counter.names import SITE_KEY, Counter
from counter.store import dimensions, scripts
from counter.store.connection import STORE_ERRORS, get_client, run
from counter.store.counters import MAX_TOTAL, delete
from counter.store.keys import counter_key

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
            dimensions.restore(counter, data.get("dimensions", {}), pipe=pipe)
        pipe.execute()
        for day in data["hll"]:  # the merged HLLs' counts are the days' uniques
            keys = (
                counter_key(counter, "du"),
                counter_key(counter, "uv"),
                counter_key(counter, f"u:{day}"),
            )
            run(_REFRESH_DAY, keys, (day,))
