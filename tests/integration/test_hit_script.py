"""The hit script and stats read, on fakeredis and on a real redis-server.

Everything Lua and HyperLogLog runs against the real server too (``any_store``);
concurrency, round trips and NOSCRIPT recovery only mean something there.
"""

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest

from counter import store
from counter.names import Counter
from counter.store.connection import get_client
from counter.store.keys import counter_key, salt_key

SITE = Counter("site", "home")
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _ids(count: int, seed: str = "v") -> list[str]:
    return [hashlib.blake2b(f"{seed}{i}".encode(), digest_size=8).hexdigest() for i in range(count)]


def test_ten_thousand_visitors_are_counted_within_two_percent(any_store):
    for visitor in _ids(10_000):
        store.hit(SITE, visitor_id=visitor, now=NOON)
    stats = store.stats(SITE, days=1, now=NOON)
    assert stats.total == 10_000
    assert stats.today.hits == 10_000
    for figure in (stats.uniques, stats.today.uniques, stats.unique_visitor_days):
        assert abs(figure - 10_000) <= 200, figure


def test_one_visitor_a_hundred_times_is_one_unique(any_store):
    results = [store.hit(SITE, visitor_id="same", now=NOON) for _ in range(100)]
    assert results[0].new_visitor_today is True
    assert not any(r.new_visitor_today for r in results[1:])
    stats = store.stats(SITE, days=7, now=NOON)
    assert (stats.total, stats.uniques, stats.unique_visitor_days) == (100, 1, 1)
    assert [d.hits for d in stats.days] == [0] * 6 + [100]
    assert [d.uniques for d in stats.days] == [0] * 6 + [1]


def test_bots_are_shown_the_total_but_only_counted_as_bots(any_store):
    store.hit(SITE, visitor_id="human", now=NOON)
    shown = {store.bot_hit(SITE).total for _ in range(50)}
    assert shown == {1}
    stats = store.stats(SITE, days=1, now=NOON)
    assert (stats.total, stats.bots, stats.today.hits, stats.uniques) == (1, 50, 1, 1)


def test_days_roll_over_in_utc(any_store):
    before_midnight = datetime(2026, 3, 10, 23, 59, 59, tzinfo=UTC)
    store.hit(SITE, visitor_id="a", now=before_midnight)
    store.hit(SITE, visitor_id="a", now=before_midnight + timedelta(seconds=2))
    stats = store.stats(SITE, days=2, now=before_midnight + timedelta(seconds=2))
    assert [(d.day.isoformat(), d.hits, d.uniques) for d in stats.days] == [
        ("2026-03-10", 1, 1),
        ("2026-03-11", 1, 1),
    ]
    # The same id on two days: one unique each day, two visitor-days, one id over the range.
    assert (stats.unique_visitor_days, stats.uniques) == (2, 1)


def test_retention_trims_old_days_but_never_totals(any_store, settings):
    settings.COUNTER_RETENTION_DAYS = 3
    start = NOON
    for offset in range(5):
        store.hit(SITE, visitor_id=f"v{offset}", now=start + timedelta(days=offset))
    client = get_client()
    daily = client.hgetall(counter_key(SITE, "d"))
    assert sorted(daily) == [b"20260312", b"20260313", b"20260314"]
    # Days before the last are settled (counted into du); the last is counted when read.
    assert sorted(client.hgetall(counter_key(SITE, "du"))) == sorted(daily)[:-1]
    ttl = client.ttl(counter_key(SITE, "u:20260314"))
    assert 0 < ttl <= 3 * 86400
    stats = store.stats(SITE, days=3, now=start + timedelta(days=4))
    assert (stats.total, stats.unique_visitor_days) == (5, 5)


def test_a_day_is_counted_when_read_then_settled_by_the_next_days_first_hit(any_store):
    du, uv = counter_key(SITE, "du"), counter_key(SITE, "uv")
    client = get_client()
    for visitor in ("a", "b", "c", "a"):
        store.hit(SITE, visitor_id=visitor, now=NOON)
    assert client.hgetall(du) == {}
    assert client.get(uv) is None
    stats = store.stats(SITE, days=1, now=NOON)
    assert (stats.today.uniques, stats.unique_visitor_days) == (3, 3)
    next_day = NOON + timedelta(days=1)
    store.hit(SITE, visitor_id="a", now=next_day)
    assert client.hgetall(du) == {b"20260310": b"3"}
    assert client.get(uv) == b"3"
    stats = store.stats(SITE, days=2, now=next_day)
    assert [d.uniques for d in stats.days] == [3, 1]
    assert (stats.unique_visitor_days, stats.uniques) == (4, 3)


def test_a_settled_day_stays_current_when_a_late_clock_adds_to_it(any_store):
    for visitor in ("a", "b"):
        store.hit(SITE, visitor_id=visitor, now=NOON)
    store.hit(SITE, visitor_id="a", now=NOON + timedelta(days=1))  # settles the first day
    store.hit(SITE, visitor_id="c", now=NOON)  # a host whose clock is behind
    stats = store.stats(SITE, days=2, now=NOON + timedelta(days=1))
    assert [d.uniques for d in stats.days] == [3, 1]
    assert stats.unique_visitor_days == 4


def test_a_hit_answers_the_unique_visitor_days_when_asked(any_store):
    for offset, visitor in enumerate(("a", "b", "a")):
        store.hit(SITE, visitor_id=visitor, now=NOON + timedelta(days=offset // 2))
    hit = store.hit(SITE, visitor_id="c", now=NOON + timedelta(days=1), uniques=True)
    stats = store.stats(SITE, days=2, now=NOON + timedelta(days=1))
    assert hit.unique_visitor_days == stats.unique_visitor_days == 4
    assert store.hit(SITE, visitor_id="d", now=NOON + timedelta(days=1)).unique_visitor_days == 0


# Up to the largest total, 2^53 - 1 (past it a hit is refused: test_limits_and_errors.py).
@pytest.mark.parametrize("start", [99_999_999_999_999, 999_999_999_999_998, 2**53 - 3])
def test_large_totals_come_back_exact(any_store, start):
    # The API accepts up to 15 digits; JavaScript is exact to 2^53.
    store.reset(SITE, value=start, create=True)
    hit = store.hit(SITE, visitor_id="a", now=NOON, uniques=True)
    assert (hit.total, hit.new_visitor_today, hit.today, hit.unique_visitor_days) == (
        start + 1,
        True,
        1,
        1,
    )
    assert store.hit(SITE, visitor_id="a", now=NOON).new_visitor_today is False


def test_stats_refuses_a_range_past_retention(any_store, settings):
    settings.COUNTER_RETENTION_DAYS = 30
    with pytest.raises(ValueError, match="covers the last 30 days"):
        store.stats(SITE, days=31)
    with pytest.raises(ValueError, match="covers the last 30 days"):
        store.stats(SITE, days=16, compare=True)  # the previous 16 days too: 32
    with pytest.raises(ValueError, match="first <= last"):
        store.stats(SITE, days=0)
    today = store.stats(SITE, days=1).today.day
    with pytest.raises(ValueError, match="covers the last 30 days"):
        store.stats(SITE, first=today, last=today + timedelta(days=1))  # tomorrow


def test_counters_do_not_share_anything(any_store):
    store.hit(SITE, visitor_id="a", now=NOON)
    other = Counter("site", "about")
    assert store.stats(other, days=1, now=NOON).total == 0
    assert store.total(other) is None


def test_salt_is_shared_and_kept_per_period(any_store):
    first = store.period_salt("d20260310", ttl=100)
    assert len(first) == 32
    assert store.period_salt("d20260310", ttl=100) == first
    assert store.period_salt("d20260311", ttl=100) != first
    assert 0 < get_client().ttl(salt_key("d20260310")) <= 100


# Real Redis only ----------------------------------------------------------------------


@pytest.mark.real_redis
def test_sixteen_threads_hitting_one_counter_are_exact(real_store):
    def worker(n: int) -> None:
        for i in range(2_000):
            store.hit(SITE, visitor_id=f"{n}-{i % 50}", now=NOON)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = store.stats(SITE, days=1, now=NOON)
    assert (stats.total, stats.today.hits) == (32_000, 32_000)
    assert abs(stats.uniques - 800) <= 16


@pytest.mark.real_redis
def test_one_evalsha_per_hit_and_no_other_command(real_store):
    store.hit(SITE, visitor_id="warm-up", now=NOON)  # loads the script if needed

    def hits() -> None:
        for i in range(1_000):
            store.hit(SITE, visitor_id=f"v{i}", now=NOON)

    seen = real_store.monitor(hits)
    # MONITOR shows commands run inside a script too, as client type "lua": not sent by us.
    sent = [entry["command"].split()[0].upper() for entry in seen if entry["client_type"] != "lua"]
    assert sent.count("EVALSHA") == 1_000
    assert set(sent) == {"EVALSHA"}, sorted(set(sent))
    assert any(entry["client_type"] == "lua" for entry in seen)  # the script ran its commands


@pytest.mark.real_redis
def test_script_is_reloaded_after_script_flush(real_store):
    store.hit(SITE, visitor_id="a", now=NOON)
    real_store.client().script_flush()
    assert store.hit(SITE, visitor_id="b", now=NOON).total == 2


@pytest.mark.real_redis
def test_hits_count_while_scripts_are_flushed_again_and_again(real_store, settings):
    """A restart or failover can be followed by more: a script loaded and then flushed before
    the hit ran it again answered NOSCRIPT twice (a 500). EVAL carries the script itself."""
    settings.HIT_RATE_LIMIT = None
    stop = threading.Event()
    flusher = real_store.client()

    def flush_again_and_again():
        while not stop.is_set():
            flusher.script_flush()

    thread = threading.Thread(target=flush_again_and_again)
    thread.start()
    try:
        totals = [store.hit(SITE, visitor_id=f"v{i}", now=NOON).total for i in range(300)]
    finally:
        stop.set()
        thread.join()
    assert totals == list(range(1, 301))


@pytest.mark.real_redis
def test_a_page_view_whose_page_hit_lost_its_script_counts_the_site_once(real_store, monkeypatch):
    """Redis can lose its scripts between a view's two hits (a flush read between them): the
    one that ran is not sent again, the other is sent as EVAL."""
    from counter.store import pages

    site, page = Counter("blog", "site"), Counter("blog", "p.home")
    store.hit_page(site, page, visitor_id="v0", path="/", now=NOON)
    send_all = pages.send_all
    calls = []

    def page_hit_lost(backend, commands):
        calls.append([command[0] for command in commands])
        if len(calls) == 1:  # the page's EVALSHA names a script Redis does not have
            commands = [*commands[:-1], ("EVALSHA", "0" * 40, *commands[-1][2:])]
        return send_all(backend, commands)

    monkeypatch.setattr(pages, "send_all", page_hit_lost)
    site_hit, page_hit = store.hit_page(site, page, visitor_id="v1", path="/", now=NOON)
    assert calls == [["EVALSHA", "EVALSHA"], ["EVAL"]]
    assert (site_hit.total, page_hit.total) == (2, 2)
    assert store.total(site) == store.total(page) == 2
