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
