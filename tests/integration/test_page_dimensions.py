"""A breakdown narrowed to one page, and the pages of a referrer or campaign: per-page pairs
counted by the site's page-view script, capped per day, on fakeredis and a real server."""

import json
from datetime import timedelta

import pytest

from counter import store
from counter.names import Counter
from counter.store.connection import get_client

SITE = Counter("shop.example", "site")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
GB, US = "81.2.69.142", "8.8.8.8"
URL = "/api/v1/counters/shop.example/site/breakdown"


def _send(client, agent: str = FIREFOX, address: str = GB, **body):
    return client.post(
        "/e/shop.example",
        data=json.dumps(body),
        content_type="text/plain",
        HTTP_USER_AGENT=agent,
        REMOTE_ADDR=address,
    )


def _rows(client, query: str) -> dict[str, tuple[int, int]]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return {row["value"]: (row["hits"], row["visitors"]) for row in response.json()["rows"]}


def _views(client):
    _send(client, p="/", r="news.example", s="newsletter")
    _send(client, p="/pricing", r="news.example")
    _send(client, p="/pricing", agent=IPHONE, address=US)  # no referrer field: (none)
    _send(client, p="/blog", r="", s="spring")  # an empty referrer: a navigation


def test_a_pages_own_values(any_store, client, day):
    _views(client)
    assert _rows(client, "dimension=referrer&page=/pricing") == {
        "news.example": (1, 1),
        "(none)": (1, 1),
    }
    assert _rows(client, "dimension=browser&page=/pricing") == {
        "Firefox": (1, 1),
        "Mobile Safari": (1, 1),
    }
    assert _rows(client, "dimension=country&page=/") == {"GB": (1, 1)}
    assert _rows(client, "dimension=campaign&page=/blog") == {"spring": (1, 1)}
    assert _rows(client, "dimension=device&page=/nowhere") == {}
    body = client.get(f"{URL}?dimension=os&page=/").json()
    assert body["page"] == "/"
    assert body["timezone"] == "UTC"


def test_the_pages_of_a_referrer_and_of_a_campaign(any_store, client, day):
    _views(client)
    assert _rows(client, "dimension=page&referrer=news.example") == {
        "/": (1, 1),
        "/pricing": (1, 1),
    }
    assert _rows(client, "dimension=page&campaign=newsletter") == {"/": (1, 1)}
    # The site's own breakdowns are as they were: no per-page pair shows there.
    assert _rows(client, "dimension=referrer") == {"news.example": (2, 1), "(none)": (1, 1)}


def test_narrowed_days_settle_like_the_rest(any_store, client, day):
    _views(client)
    day.set(day.current + timedelta(days=1))
    _send(client, p="/", r="news.example")  # settles yesterday
    assert _rows(client, "dimension=page&referrer=news.example&days=2") == {
        "/": (2, 2),
        "/pricing": (1, 1),
    }
    assert not get_client().keys("*xu:20260310:*")


def test_bad_narrowing_is_a_400(any_store, client):
    _send(client, p="/")
    for query in (
        "dimension=page&page=/",
        "dimension=page&page=/x",
        "dimension=referrer&referrer=x",
        "dimension=page&referrer=x&campaign=y",
        "dimension=browser&page=/&referrer=x",
    ):
        answer = client.get(f"{URL}?{query}")
        assert answer.status_code == 400, query
        assert "error" in answer.json()


def test_pairs_past_the_cap_and_unlisted_pages(any_store, client, settings, day):
    settings.DIMENSION_PAGE_VALUES_PER_DAY = 2
    for i in range(4):
        _send(client, p="/", r=f"site{i}.example")
    assert _rows(client, "dimension=referrer&page=/") == {
        "site0.example": (1, 1),
        "site1.example": (1, 1),
    }
    prefix = store.dimensions.site_prefix(SITE)
    fields = get_client().hgetall(f"{prefix}x:20260310")
    assert fields[b"#|@referrer"] == b"2"
    assert fields[b"h|@referrer|(other)"] == b"2"
    # A page the site has no room for counts its pairs as "(other)".
    settings.PAGES_PER_SITE = 2  # "/" and the "other" page
    _send(client, p="/full", r="late.example", address=US)
    assert _rows(client, "dimension=page&referrer=late.example") == {}  # past the pair cap
    settings.DIMENSION_PAGE_VALUES_PER_DAY = 100
    _send(client, p="/full", r="later.example", address=US)
    assert _rows(client, "dimension=page&referrer=later.example") == {"(other)": (1, 1)}


def test_a_pages_events(any_store, client, day):
    _views(client)
    _send(client, e="signup", p="/pricing")
    _send(client, e="signup", p="/pricing", address=US)
    _send(client, e="signup", p="/never-viewed")  # no view today: the page "(other)"
    _send(client, e="share")  # no page named
    assert _rows(client, "dimension=event&page=/pricing") == {"signup": (2, 2)}
    assert _rows(client, "dimension=event&page=(other)") == {"signup": (1, 1)}
    assert _rows(client, "dimension=event") == {"signup": (3, 2), "share": (1, 1)}


@pytest.mark.real_redis
def test_per_page_pairs_keep_one_slot_and_expire(real_store, client, day):
    from redis.crc import key_slot

    _views(client)
    keys = get_client().keys("*shop.example/site}*")
    site_slot = key_slot(store.dimensions.site_prefix(SITE).encode())
    assert {key_slot(key) for key in keys} == {site_slot}
    pair_hll = [key for key in keys if b"xu:20260310:@" in key]
    assert pair_hll
    assert all(get_client().ttl(key) > 0 for key in pair_hll)
    store.delete(SITE)
    assert get_client().keys("*shop.example/site}*") == []
