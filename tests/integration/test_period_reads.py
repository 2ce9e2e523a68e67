"""Reads of a period (last N days, or from/to) and of the previous period beside it, on
fakeredis and a real server: one round trip each, both periods from one read."""

import json
from datetime import timedelta

from counter import store
from counter.names import Counter
from counter.store import connection

COUNTER = Counter("site", "home")
SITE = Counter("shop.example", "site")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _views(client, page: str, *addresses: str) -> None:
    for address in addresses:
        body = json.dumps({"p": page, "w": "l"})
        response = client.post(
            "/e/shop.example",
            data=body,
            content_type="text/plain",
            HTTP_USER_AGENT=FIREFOX,
            REMOTE_ADDR=address,
        )
        assert response.status_code == 204


def _round_trips(monkeypatch) -> list:
    calls = []
    real = connection.run

    def counted(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr("counter.store.history.run", counted)
    return calls


def test_a_range_and_its_previous_period(any_store, day, monkeypatch):
    start = day.current.date()
    for offset, visitors in enumerate(["a", "ab", "abc", "", "d"]):  # five days, today last
        moment = day.current + timedelta(days=offset)
        for visitor in visitors:
            store.hit(COUNTER, visitor_id=visitor, now=moment)
    day.set(day.current + timedelta(days=4))
    calls = _round_trips(monkeypatch)

    figures = store.stats(COUNTER, first=start + timedelta(days=2), last=start + timedelta(days=3))
    assert [(d.day - start).days for d in figures.days] == [2, 3]
    assert [d.hits for d in figures.days] == [3, 0]
    assert (figures.totals.hits, figures.totals.uniques) == (3, 3)
    assert (figures.today.day, figures.today.hits) == (start + timedelta(days=4), 1)
    assert figures.previous is None

    compared = store.stats(
        COUNTER, first=start + timedelta(days=2), last=start + timedelta(days=3), compare=True
    )
    assert (compared.previous.hits, compared.previous.uniques) == (3, 2)  # a; a, b
    assert compared.days == figures.days

    last_two = store.stats(COUNTER, days=2, compare=True)
    assert (last_two.totals.hits, last_two.totals.uniques) == (1, 1)  # "", "d"
    assert (last_two.previous.hits, last_two.previous.uniques) == (5, 3)  # "ab", "abc"
    assert last_two.today == last_two.days[-1]
    assert len(calls) == 3  # one script a read, whatever the period


def test_a_breakdown_carries_the_previous_period_per_row(any_store, client, day):
    _views(client, "/", "203.0.113.1", "203.0.113.2")
    _views(client, "/gone", "203.0.113.1")
    day.set(day.current + timedelta(days=1))  # yesterday settles at today's first view
    _views(client, "/", "203.0.113.1", "203.0.113.2", "203.0.113.3")
    _views(client, "/new", "203.0.113.1")
    _views(client, "/newer", "203.0.113.1")

    rows = store.breakdown(SITE, "page", days=1, compare=True)
    by_value = {row.value: (row.hits, row.visitors, row.previous_hits) for row in rows}
    assert by_value == {"/": (3, 3, 2), "/new": (1, 1, 0), "/newer": (1, 1, 0)}
    assert store.breakdown(SITE, "page", days=1)[0].previous_hits is None

    capped = store.breakdown(SITE, "page", days=1, compare=True, limit=2)
    # "(other)" holds every value of the previous period not named in a row: "/gone"
    assert [(r.value, r.hits, r.previous_hits) for r in capped] == [
        ("/", 3, 2),
        ("(other)", 2, 1),
    ]
    both = store.breakdowns(SITE, days=1, compare=True)
    assert both["page"] == rows
    yesterday = day.current.date() - timedelta(days=1)
    alone = store.breakdown(SITE, "page", first=yesterday, last=yesterday)
    assert {row.value: row.hits for row in alone} == {"/": 2, "/gone": 1}
