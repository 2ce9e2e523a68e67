"""Figures for docs/DIMENSIONS.md, on a real server (not collected: run it by its path,
``pytest -s tests/integration/measure_memory.py``): bytes a site keeps, per cap."""

import pytest

from counter import store
from counter.names import Counter
from counter.store import counters
from counter.store.connection import get_client

SITE = Counter("shop.example", "site")
PAGE = Counter("shop.example", "p.0123456789abcdef")


@pytest.mark.real_redis
def test_bytes_of_the_now_set_at_its_cap(real_store, day):
    store.hit_page(SITE, PAGE, visitor_id="0" * 16, path="/")
    key = store.dimensions.site_prefix(SITE) + "now"
    for pairs in (10, 1_000, counters.NOW_PAIRS_KEPT):
        while get_client().zcard(key) < pairs:
            n = get_client().zcard(key)
            store.hit_page(SITE, PAGE, visitor_id=f"{n:016x}", path="/", page_too=False)
        print(f"now set, {pairs} pairs: {get_client().memory_usage(key)} bytes")


def _site_bytes(pattern: str) -> int:
    client = get_client()
    return sum(client.memory_usage(key, samples=0) or 0 for key in client.keys(pattern))


def _view_pairs(i: int, pages: int, distinct: bool = False) -> tuple[str, ...]:
    """A view's pairs: a mix of few browsers, systems, countries; or (``distinct``) values
    never seen before, so that every dimension reaches its cap (the worst case)."""
    if distinct:
        return ("page", f"/page/{i % pages}", *(
            item for name in ("browser", "os", "device", "country", "referrer", "campaign")
            for item in (name, f"{name} {i}")
        ))  # fmt: skip
    return (
        "page", f"/page/{i % pages}",
        "browser", f"Browser {i % 40}",
        "os", f"System {i % 20}",
        "device", ("desktop", "mobile", "tablet")[i % 3],
        "country", f"C{i % 90}",
        "referrer", f"ref{i % 500}.example",
        "campaign", f"campaign {i % 200}",
    )  # fmt: skip


@pytest.mark.real_redis
@pytest.mark.parametrize("cap", [100, 200, 500, 1_000])
@pytest.mark.parametrize("per_page", [False, True])
@pytest.mark.parametrize("distinct", [False, True])
def test_bytes_of_a_days_dimensions_per_cap(
    real_store, day, settings, monkeypatch, cap, per_page, distinct
):
    from datetime import timedelta

    settings.DIMENSION_PAGE_VALUES_PER_DAY = cap
    if not per_page:
        monkeypatch.setattr(counters, "page_pairs", lambda dimensions: ())
    views = cap + cap // 5 if distinct else 2 * cap  # past the cap when distinct
    for i in range(views):
        store.hit_page(
            SITE, PAGE, visitor_id=f"{i:016x}", path="/",
            dimensions=_view_pairs(i, 200, distinct), page_too=False,
        )  # fmt: skip
    prefix = store.dimensions.site_prefix(SITE)
    live = _site_bytes(f"{prefix}x*:20260310*")
    day.set(day.current + timedelta(days=1))
    get_client().config_set("slowlog-log-slower-than", 0)
    get_client().slowlog_reset()
    import time

    started = time.perf_counter()
    store.hit_page(SITE, PAGE, visitor_id="f" * 16, path="/", dimensions=_view_pairs(0, 1))
    wall = (time.perf_counter() - started) * 1000
    entries = get_client().slowlog_get(100)
    settling = max((e["duration"] for e in entries if b"EVALSHA" in e["command"]), default=0)
    settled = _site_bytes(f"{prefix}x:20260310")
    fields = get_client().hlen(f"{prefix}x:20260310")
    print(
        f"\n{'distinct' if distinct else 'mix'} per-page {per_page} cap {cap}: {views} views, "
        f"live day {live} bytes, "
        f"settled {settled} bytes ({fields} fields), settling {settling / 1000:.1f} ms of Redis "
        f"({wall:.1f} ms in all)"
    )


@pytest.mark.real_redis
@pytest.mark.parametrize("per_page", [False, True])
def test_commands_and_time_per_view(real_store, day, monkeypatch, per_page):
    if not per_page:
        monkeypatch.setattr(counters, "page_pairs", lambda dimensions: ())
    client = get_client()
    for i in range(200):  # warm: every pair known
        store.hit_page(SITE, PAGE, visitor_id=f"{i:016x}", path="/", dimensions=_view_pairs(i, 5))
    client.config_resetstat()
    views = 2000
    for i in range(views):
        store.hit_page(SITE, PAGE, visitor_id=f"{i:016x}", path="/", dimensions=_view_pairs(i, 5))
    stats = client.info("commandstats")
    inner = sum(
        value["calls"]
        for name, value in stats.items()
        if name not in ("cmdstat_evalsha", "cmdstat_config", "cmdstat_info")
    )
    script = stats["cmdstat_evalsha"]
    print(
        f"\nper-page {per_page}: {inner / views:.1f} commands a view (site's and page's "
        f"scripts), {script['usec'] / views:.1f} us of Redis a view"
    )
