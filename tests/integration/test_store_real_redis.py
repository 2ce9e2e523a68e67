"""The store on a real redis-server: key layout, atomic increments, reset."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from counter import store
from counter.names import SEED_COUNTER, Counter

pytestmark = pytest.mark.real_redis


def test_every_key_of_a_counter_carries_its_hash_tag(real_store):
    store.hit(SEED_COUNTER, visitor_id="v1")
    store.bot_hit(SEED_COUNTER)
    keys = real_store.client().keys("*")
    assert len(keys) == 7  # n, d, du, uv, u:<today>, b, m
    assert all(key.startswith(b"visitorsite:1:c:{default/visitor_count}:") for key in keys)


def test_concurrent_hits_are_exact(real_store):
    counter = Counter("site", "busy")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.hit(counter, visitor_id="v").total, range(800)))
    assert sorted(results) == list(range(1, 801))
    assert store.total(counter) == 800


def test_reset_returns_the_old_total(real_store):
    for _ in range(5):
        store.hit(SEED_COUNTER, visitor_id="v")
    assert store.reset(SEED_COUNTER, value=100) == 5
    assert store.hit(SEED_COUNTER, visitor_id="v").total == 101
