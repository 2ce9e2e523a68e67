"""create/set/update/delete/rate-limit scripts on fakeredis and on a real redis-server."""

import time

import pytest

from counter import store
from counter.names import Counter
from counter.store.connection import get_client

SITE = Counter("site", "home")
META = {"created": 1, "enable_reset": 0, "update_lowerbound": -1, "update_upperbound": 2}


def test_create_is_atomic_and_refuses_an_existing_counter(any_store):
    assert store.create(SITE, value=5, meta=META) is True
    assert store.create(SITE, value=9, meta=META) is False
    found = store.info(SITE)
    assert found.total == 5
    assert found.meta["update_upperbound"] == "2"


def test_create_refuses_a_counter_that_only_has_hits(any_store):
    store.hit(SITE, visitor_id="v")
    assert store.create(SITE, value=100, meta=META) is False
    assert store.total(SITE) == 1


def test_set_respects_enable_reset_unless_admin(any_store):
    store.create(SITE, value=5, meta=META)
    assert store.set_total(SITE, 7, require_reset_enabled=True) == (0, 5)
    assert store.set_total(SITE, 7, require_reset_enabled=False) == (1, 5)
    assert store.set_total(Counter("x", "y"), 1, require_reset_enabled=False) == (-1, 0)


def test_update_respects_stored_bounds_then_defaults(any_store):
    store.create(SITE, value=5, meta=META)
    assert store.update(SITE, 2, bounds=(0, 1)) == (1, 7)  # stored bounds win: -1..2
    assert store.update(SITE, 3, bounds=(0, 1)) == (0, 7)
    assert store.update(SITE, -100, bounds=None) == (1, -93)  # admin: no bounds
    made_by_hit = Counter("site", "hit")
    store.hit(made_by_hit, visitor_id="v")
    assert store.update(made_by_hit, 2, bounds=(0, 1)) == (0, 1)


def test_first_hit_records_creation_time(any_store):
    store.hit(SITE, visitor_id="v")
    created = int(store.info(SITE).meta["created"])
    assert abs(created - time.time() * 1000) < 60_000


def test_delete_removes_history_too(any_store):
    store.hit(SITE, visitor_id="v")
    store.bot_hit(SITE)
    assert store.delete(SITE) is True
    assert get_client().keys("*") == []
    assert store.delete(SITE) is False


@pytest.mark.real_redis
def test_rate_limit_window_expires_on_a_real_server(real_store):
    assert store.rate_limit("create:abc", window=1)[0] == 1
    assert store.rate_limit("create:abc", window=1)[0] == 2
    time.sleep(1.2)
    count, left = store.rate_limit("create:abc", window=1)
    assert count == 1
    assert left == 1
