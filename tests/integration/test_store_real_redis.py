"""The store on a real redis-server: key layout, atomic increments, reset."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from counter import store
from counter.names import SEED_COUNTER, Counter

pytestmark = pytest.mark.real_redis


def test_seed_counter_key_carries_the_hash_tag(real_store):
    store.hit(SEED_COUNTER)
    assert real_store.client().keys("*") == [b"visitorsite:1:c:{default/visitor_count}:n"]


def test_concurrent_hits_are_exact(real_store):
    counter = Counter("site", "busy")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: store.hit(counter), range(800)))
    assert sorted(results) == list(range(1, 801))
    assert store.total(counter) == 800


def test_reset_returns_the_old_total(real_store):
    for _ in range(5):
        store.hit(SEED_COUNTER)
    assert store.reset(SEED_COUNTER, value=100) == 5
    assert store.hit(SEED_COUNTER) == 101
