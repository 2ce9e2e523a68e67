"""A site's time zone (its days begin at local midnight) and who is on it now, through the
API, on fakeredis and a real server."""

import json
import time
from datetime import UTC, datetime

import pytest

from counter import store
from counter.names import Counter
from counter.store import zones
from counter.store.connection import get_client

SITE = Counter("shop.example", "site")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
TOKEN = "operator-token-0123456789"
URL = "/api/v1/counters/shop.example/site"


def _send(client, path: str = "/", *, address: str = "81.2.69.142", **fields):
    return client.post(
        "/e/shop.example",
        data=json.dumps({"p": path, **fields}),
        content_type="text/plain",
        HTTP_USER_AGENT=FIREFOX,
        REMOTE_ADDR=address,
    )


def _patch(client, body, token: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.patch(URL, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def operator(settings):
    settings.ADMIN_TOKEN = TOKEN


def test_a_far_east_site_counts_a_view_under_its_local_date(any_store, client, day, operator):
    assert _send(client).status_code == 204  # 2026-03-10T12:00Z: a UTC day
    answer = _patch(client, {"timezone": "Pacific/Kiritimati"})  # UTC+14
    assert answer.status_code == 200, answer.content
    assert answer.json()["timezone"] == "Pacific/Kiritimati"
    assert _send(client, "/next").status_code == 204  # 2026-03-11T02:00 in Kiritimati

    detail = client.get(URL + "?days=3").json()
    assert detail["timezone"] == "Pacific/Kiritimati"
    days = {d["date"]: d["hits"] for d in detail["days"]}
    assert days == {"2026-03-09": 0, "2026-03-10": 1, "2026-03-11": 1}  # the UTC day stays
    assert [d["date"] for d in detail["days"]][-1] == "2026-03-11"  # today is local
    rows = client.get(URL + "/breakdown?dimension=page&days=1").json()["rows"]
    assert [row["value"] for row in rows] == ["/next"]  # today's, the local day's
    # The pages' own days are the site's too.
    page = store.top_pages(SITE)[0]
    page_days = store.stats(Counter("shop.example", page.key), days=1).days
    assert page_days[-1].day.isoformat() == "2026-03-11"


def test_a_site_without_a_zone_counts_utc_days(any_store, client, day):
    day.set(datetime(2026, 3, 10, 23, 30, tzinfo=UTC))
    _send(client)
    detail = client.get(URL + "?days=1").json()
    assert detail["timezone"] == "UTC"
    assert detail["days"] == [{"date": "2026-03-10", "hits": 1, "uniques": 1}]


def test_setting_the_zone_needs_the_key_a_known_zone_and_the_site(any_store, client, operator):
    assert _patch(client, {"timezone": "Europe/Paris"}).status_code == 404  # no site yet
    _send(client)
    assert _patch(client, {"timezone": "Europe/Paris"}, token=None).status_code == 401
    assert _patch(client, {"timezone": "Europe/Paris"}, token="wrong").status_code == 403
    unknown = _patch(client, {"timezone": "Mars/Olympus_Mons"})
    assert unknown.status_code == 400
    assert "Mars/Olympus_Mons" in unknown.json()["error"]
    for bad in ({}, {"timezone": ""}, {"timezone": "../../etc/passwd"}):
        assert _patch(client, bad).status_code == 400
    # Files of a system's tz database that are no IANA zone: the server's own, a leap-second
    # copy, a POSIX copy, "Factory"; and a name in the wrong case.
    for not_iana in ("localtime", "right/Asia/Tokyo", "posix/Asia/Tokyo", "Factory", "asia/tokyo"):
        refused = _patch(client, {"timezone": not_iana})
        assert refused.status_code == 400, not_iana
        assert not_iana not in zones.ZONE_NAMES
    store.claim(SITE, admin_key_sha256=store_hash("owner-key"), private=None)
    assert _patch(client, {"timezone": "Asia/Tokyo"}, token="owner-key").status_code == 200
    assert client.get(URL).json()["timezone"] == "Asia/Tokyo"
    assert client.patch("/api/v1/counters/shop.example/home").status_code == 405


def store_hash(key: str) -> str:
    from counter.domain.permissions import hash_admin_key

    return hash_admin_key(key)


def test_another_process_sees_a_new_zone_within_a_minute(any_store, client, day, operator):
    _send(client)
    assert zones.zone_name(SITE) == "UTC"  # kept by this process now
    get_client().hset(store.dimensions.site_prefix(SITE) + "m", "timezone", "Asia/Tokyo")
    assert zones.zone_name(SITE) == "UTC"  # as another worker would, for a while
    until, name = zones._kept_zones()[SITE.namespace]
    assert until - time.monotonic() <= zones.ZONE_KEPT_SECONDS
    zones._kept_zones()[SITE.namespace] = (time.monotonic() - 1, name)  # a minute later
    assert zones.zone_name(SITE) == "Asia/Tokyo"


def test_who_is_here_now(any_store, client, day):
    url = URL + "/now"
    assert client.get(url).status_code == 404  # no site yet
    _send(client, "/", address="81.2.69.142")
    _send(client, "/pricing", address="81.2.69.142")
    _send(client, "/", address="8.8.8.8")
    answer = client.get(url)
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "namespace": "shop.example",
        "key": "site",
        "visitors": 2,
        "pages": [{"page": "/", "visitors": 2}, {"page": "/pricing", "visitors": 1}],
        "window_seconds": 300,
    }
    assert client.get("/api/v1/counters/shop.example/home/now").status_code == 400
    store.claim(SITE, admin_key_sha256="0" * 64, private=True)
    assert client.get(url).status_code == 403
    store.delete(SITE)
    assert get_client().keys("*shop.example/site}:now") == []


def test_the_now_set_forgets_old_views_and_keeps_a_cap(any_store, client, monkeypatch):
    from counter.store import counters

    monkeypatch.setattr(counters, "NOW_PAIRS_KEPT", 3)
    for i in range(5):
        _send(client, f"/{i}", address=f"198.51.100.{i + 1}")
    key = store.dimensions.site_prefix(SITE) + "now"
    assert get_client().zcard(key) == 3  # the oldest went
    assert 0 < get_client().pttl(key) <= 300_000
    assert store.here_now(SITE).visitors == 3
    # Views older than the window are not counted, and go at the next new pair.
    get_client().zadd(key, {"feedc0ffee|p.old": int((time.time() - 301) * 1000)})
    assert store.here_now(SITE).visitors == 3
    _send(client, "/5", address="198.51.100.9")
    assert b"feedc0ffee|p.old" not in get_client().zrange(key, 0, -1)


@pytest.mark.real_redis
def test_a_view_with_a_zone_is_still_one_round_trip(real_store, client, day, operator):
    import redis

    _send(client)
    _patch(client, {"timezone": "America/Los_Angeles"})
    _send(client)  # warm: the zone kept
    sent: list[int] = []
    original = redis.connection.Connection.send_packed_command

    def counting(self, *args, **kwargs):
        sent.append(1)
        return original(self, *args, **kwargs)

    redis.connection.Connection.send_packed_command = counting
    try:
        assert _send(client).status_code == 204
    finally:
        redis.connection.Connection.send_packed_command = original
    assert len(sent) == 1
