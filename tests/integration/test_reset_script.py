"""store.reset (scripts/reset.lua) on fakeredis and a real server: a reset starts the counter
over at its new total, history and uniques included, in one atomic script."""

from datetime import UTC, datetime, timedelta

from django_redis import get_redis_connection

from counter import store
from counter.names import Counter

COUNTER = Counter("site", "home")
DAY1 = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)


def _fill() -> None:
    """Two days of hits (the first settled), bot hits and an admin key's metadata."""
    assert store.create(COUNTER, value=0, meta={"enable_reset": 1, "admin": "hash"})
    for visitor in ("a", "b", "c"):
        store.hit(COUNTER, visitor_id=visitor, now=DAY1)
    for visitor in ("a", "d"):
        store.hit(COUNTER, visitor_id=visitor, now=DAY2)
    store.bot_hit(COUNTER)
    before = store.stats(COUNTER, days=2, now=DAY2)
    assert (before.total, before.bots, before.unique_visitor_days) == (5, 1, 5)


def test_a_reset_clears_history_uniques_and_bots_and_keeps_metadata(any_store):
    _fill()
    assert store.reset(COUNTER, value=40, now=DAY2) == 5
    after = store.stats(COUNTER, days=2, now=DAY2)
    assert (after.total, after.bots, after.unique_visitor_days, after.uniques) == (40, 0, 0, 0)
    assert [(d.hits, d.uniques) for d in after.days] == [(0, 0), (0, 0)]
    assert store.info(COUNTER).meta["admin"] == "hash"

    hit = store.hit(COUNTER, visitor_id="a", now=DAY2, uniques=True)
    assert (hit.total, hit.today, hit.unique_visitor_days) == (41, 1, 1)
    assert hit.new_visitor_today  # the visitor seen before the reset is new again


def test_a_counter_that_does_not_exist_is_not_made(any_store):
    assert store.reset(COUNTER, value=7) is None
    assert get_redis_connection().dbsize() == 0
    assert store.total(COUNTER) is None


def test_create_makes_it_with_its_creation_time(any_store):
    assert store.reset(COUNTER, value=7, create=True) is None
    info = store.info(COUNTER)
    assert info.total == 7
    assert int(info.meta["created"]) > 0
    assert store.reset(COUNTER, value=0, create=True) == 7
