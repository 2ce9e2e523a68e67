"""A site's dimensions through the page script's endpoint, on fakeredis and a real server:
what a view and an event record, the daily cap, settling a day, one slot, one round trip."""

import json
from datetime import timedelta

import pytest
import redis
from redis.crc import key_slot

from counter import store
from counter.names import Counter
from counter.store.connection import get_client

SITE = Counter("shop.example", "site")
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
GB, US = "81.2.69.142", "8.8.8.8"  # addresses the shipped table places in GB and the US


def _send(client, body: dict | str, *, agent: str = FIREFOX, address: str = GB):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        "/e/shop.example",
        data=data,
        content_type="text/plain",
        HTTP_USER_AGENT=agent,
        REMOTE_ADDR=address,
    )


def _rows(client, dimension: str, days: int = 1) -> dict[str, tuple[int, int]]:
    response = client.get(
        f"/api/v1/counters/shop.example/site/breakdown?dimension={dimension}&days={days}"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["dimension"] == dimension
    hits = [row["hits"] for row in body["rows"]]
    assert hits == sorted(hits, reverse=True)
    return {row["value"]: (row["hits"], row["visitors"]) for row in body["rows"]}


def test_a_landing_a_navigation_and_an_event_fill_every_dimension(any_store, client, day):
    landing = {"p": "/", "r": "www.news.example", "s": "newsletter", "w": "l"}
    assert _send(client, landing).status_code == 204
    assert _send(client, {"p": "/pricing", "r": "", "w": "l"}).status_code == 204
    assert _send(client, {"e": "signup", "p": "/pricing"}).status_code == 204
    assert _send(client, {"p": "/", "w": "s"}, agent=IPHONE, address=US).status_code == 204

    assert store.total(SITE) == 3  # page views; the event is not one
    assert _rows(client, "page") == {"/": (2, 2), "/pricing": (1, 1)}
    assert _rows(client, "referrer") == {"news.example": (1, 1), "(none)": (1, 1)}
    assert _rows(client, "campaign") == {"newsletter": (1, 1)}
    assert _rows(client, "browser") == {"Firefox": (2, 1), "Mobile Safari": (1, 1)}
    assert _rows(client, "os") == {"Windows": (2, 1), "iOS": (1, 1)}
    assert _rows(client, "device") == {"desktop": (2, 1), "mobile": (1, 1)}
    assert _rows(client, "country") == {"GB": (2, 1), "US": (1, 1)}
    assert _rows(client, "event") == {"signup": (1, 1)}


def test_the_sites_own_host_and_search_engines_are_not_hosts(any_store, client, day):
    for referrer in ("shop.example", "www.google.co.uk", "l.facebook.com", "Bing.com."):
        _send(client, {"p": "/", "r": referrer})
    assert _rows(client, "referrer") == {"Google": (1, 1), "Facebook": (1, 1), "Bing": (1, 1)}


def test_distinct_values_past_the_daily_cap_count_as_other(any_store, client, settings, day):
    settings.DIMENSION_VALUES_PER_DAY = 3
    for n in range(10):
        _send(client, {"p": "/", "s": f"campaign-{n}"}, address=f"203.0.113.{n}")
    _send(client, {"p": "/", "s": "campaign-1"})  # a kept value still counts as itself
    rows = _rows(client, "campaign")
    assert rows == {
        "campaign-0": (1, 1),
        "campaign-1": (2, 2),
        "campaign-2": (1, 1),
        "(other)": (7, 7),
    }
    # The next day has its own cap.
    day.set(day.current + timedelta(days=1))
    _send(client, {"p": "/", "s": "campaign-9"})
    assert _rows(client, "campaign") == {"campaign-9": (1, 1)}
    assert _rows(client, "campaign", days=2)["campaign-9"] == (1, 1)


def test_a_day_is_settled_by_the_next_days_first_view(any_store, client, day):
    for n in range(5):
        _send(client, {"p": "/", "r": "blog.example"}, address=f"203.0.113.{n}")
    first = day.current.strftime("%Y%m%d")
    client_ = get_client()
    assert client_.keys(f"*shop.example/site*xu:{first}:*")  # the day's visitor HyperLogLogs
    day.set(day.current + timedelta(days=1))
    _send(client, {"p": "/", "r": "blog.example"})
    assert client_.keys(f"*shop.example/site*xu:{first}:*") == []  # counted, then deleted
    assert _rows(client, "referrer", days=2) == {"blog.example": (6, 6)}
    settled = f"{store.dimensions.site_prefix(SITE)}x:{first}"
    assert client_.ttl(settled) > 0  # it expires
    # Compacted: a field of lines a dimension, no field a value.
    fields = client_.hgetall(settled)
    assert not [field for field in fields if field.startswith((b"h|", b"v|"))]
    assert fields[b"s|referrer"] == b"blog.example\t5\t5"


def test_half_an_emoji_is_counted_not_a_500(any_store, client, day):
    for body in ('{"p": "/", "s": "\\ud83d"}', '{"p": "/\\ud800x"}', '{"e": "\\udfff"}'):
        assert _send(client, body).status_code == 204, body
    assert set(_rows(client, "page")) == {"/", "/?x"}
    assert _rows(client, "campaign") == {"?": (1, 1)}


def test_events_need_the_site_and_a_name(any_store, client):
    assert _send(client, {"e": "signup"}).status_code == 204
    assert get_client().keys("*shop.example*") == []  # no site yet: an event makes nothing
    assert _send(client, {"e": "   "}).status_code == 400
    assert _send(client, {"e": 5}).status_code == 400
    assert _send(client, "{not json").status_code == 400
    assert _send(client, {"p": 5}).status_code == 400
    assert _send(client, '["/"]').status_code == 204  # the first script's path: any text


def test_an_event_counts_a_visitors_only(any_store, client):
    """The page script's events go through the visit's one sequence: a bot's and a prefetch's
    count nothing; a visitor's counts."""
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert _send(client, "/").status_code == 204  # the site
    assert _send(client, {"e": "signup"}, agent=googlebot).status_code == 204
    prefetched = client.post(
        "/e/shop.example",
        data=json.dumps({"e": "signup"}),
        content_type="text/plain",
        HTTP_USER_AGENT=FIREFOX,
        REMOTE_ADDR=US,
        HTTP_SEC_PURPOSE="prefetch",
    )
    assert prefetched.status_code == 204
    assert _rows(client, "event") == {}
    assert _send(client, {"e": "signup"}, address=US).status_code == 204
    assert _rows(client, "event") == {"signup": (1, 1)}


def test_deleting_the_site_deletes_its_dimensions(any_store, client, day):
    _send(client, {"p": "/", "s": "newsletter"})
    day.set(day.current + timedelta(days=1))
    _send(client, {"p": "/", "s": "newsletter"})
    _send(client, {"e": "signup"})
    assert get_client().keys("*shop.example/site}:x*")
    store.delete(SITE)
    assert get_client().keys("*shop.example/site}*") == []


def test_the_breakdown_answers_errors_and_privacy(any_store, client):
    url = "/api/v1/counters/shop.example/site/breakdown"
    assert client.get(url + "?dimension=page").status_code == 404  # no such site yet
    _send(client, {"p": "/"})
    assert client.get(url + "?dimension=colour").status_code == 400
    assert client.get(url + "?dimension=page&days=0").status_code == 400
    assert client.get(url + "?dimension=page&limit=x").status_code == 400
    store.claim(SITE, admin_key_sha256="0" * 64, private=True)
    assert client.get(url + "?dimension=page").status_code == 403


@pytest.mark.real_redis
def test_a_view_is_one_round_trip_and_its_keys_share_the_sites_slot(real_store, client, day):
    _send(client, {"p": "/", "s": "warm-up"})  # the site, its secret, the scripts, the salt
    sent: list[int] = []
    original = redis.connection.Connection.send_packed_command

    def counting(self, *args, **kwargs):
        sent.append(1)
        return original(self, *args, **kwargs)

    redis.connection.Connection.send_packed_command = counting
    try:
        landing = {"p": "/", "r": "news.example", "s": "newsletter", "m": "email", "w": "m"}
        assert _send(client, landing).status_code == 204
    finally:
        redis.connection.Connection.send_packed_command = original
    assert len(sent) == 1
    site_slot = key_slot(store.dimensions.site_prefix(SITE).encode())
    keys = get_client().keys("*shop.example/site}*")
    assert any(b"}:xu:" in key for key in keys)
    assert {key_slot(key) for key in keys} == {site_slot}


def test_the_first_scripts_plain_path_still_counts(any_store, client, day):
    assert _send(client, "/old/page").status_code == 204
    assert _rows(client, "page") == {"/old/page": (1, 1)}
    assert _rows(client, "referrer") == {}  # it never sent one


@pytest.mark.real_redis  # fakeredis keeps a HyperLogLog as a set: a backup reads raw strings
def test_a_backup_carries_the_dimensions(real_store, client, day):
    from counter.domain.backup_format import export_lines, read_backup

    _send(client, {"p": "/", "s": "newsletter"})
    lines = list(export_lines([SITE]))
    assert json.loads(lines[0])["dimensions"]
    store.delete(SITE)
    for counter, data in read_backup(lines):
        store.import_counter(counter, data, replace=True)
    assert _rows(client, "campaign") == {"newsletter": (1, 1)}


def test_a_breakdown_past_its_limit_sums_the_rest_as_other(any_store, client, day):
    for n, hits in enumerate((5, 4, 3, 2)):
        for _ in range(hits):
            _send(client, {"p": f"/{n}"})
    url = "/api/v1/counters/shop.example/site/breakdown?dimension=page&limit="
    rows = client.get(url + "4").json()["rows"]
    assert [(r["value"], r["hits"]) for r in rows] == [("/0", 5), ("/1", 4), ("/2", 3), ("/3", 2)]
    rows = client.get(url + "3").json()["rows"]
    assert [(r["value"], r["hits"]) for r in rows] == [("/0", 5), ("(other)", 5), ("/1", 4)]


def test_events_share_the_visitors_rate_window_with_page_views(any_store, client, settings):
    settings.HIT_RATE_LIMIT = (3, 60)
    assert _send(client, {"p": "/"}).status_code == 204
    statuses = [_send(client, {"e": "signup"}).status_code for _ in range(4)]
    assert statuses == [204, 204, 429, 429]
    assert _send(client, {"e": "signup"}, address=US).status_code == 204  # another visitor
    assert _rows(client, "event") == {"signup": (3, 2)}


def _import_merged(lines: list | None = None) -> None:
    from counter.domain.backup_format import export_lines, read_backup

    for counter, data in read_backup(lines or list(export_lines([SITE]))):
        store.import_counter(counter, data, replace=False)


def _page_rows(dimension: str, **narrowed) -> dict[str, tuple[int, int]]:
    rows = store.page_breakdown(SITE, dimension, **narrowed)
    return {row.value: (row.hits, row.visitors) for row in rows}


def _day_rows(on, dimension: str) -> dict[str, tuple[int, int]]:
    rows = store.breakdown(SITE, dimension, first=on, last=on)
    return {row.value: (row.hits, row.visitors) for row in rows}


@pytest.mark.real_redis
def test_views_after_an_import_merged_into_a_live_day_are_counted(real_store, client, day):
    from datetime import UTC, datetime

    today = datetime(2026, 3, 10).date()
    _send(client, {"p": "/", "r": "www.news.example", "s": "newsletter"})
    _import_merged()  # into itself: today's figures doubled
    _send(client, {"p": "/", "r": "www.news.example", "s": "newsletter"}, address=US)
    _send(client, {"p": "/", "r": "www.search.example"})  # a value new since the import

    def exact() -> None:
        # live: 2 views (GB, US), imported: 1 (GB), added as visitor-days are
        assert _day_rows(today, "referrer") == {"news.example": (3, 3), "search.example": (1, 1)}
        assert _day_rows(today, "campaign") == {"newsletter": (3, 3)}
        assert _day_rows(today, "page") == {"/": (4, 3)}
        assert _page_rows("referrer", page="/", first=today, last=today) == {
            "news.example": (3, 3),
            "search.example": (1, 1),
        }
        assert _page_rows("page", referrer="news.example", first=today, last=today) == {"/": (3, 3)}
        assert _page_rows("page", campaign="newsletter", first=today, last=today) == {"/": (3, 3)}

    exact()
    assert _rows(client, "referrer") == {"news.example": (3, 3), "search.example": (1, 1)}
    assert {r.value: r.hits for r in store.breakdowns(SITE, days=1)["referrer"]} == {
        "news.example": 3,
        "search.example": 1,
    }
    prefix = store.dimensions.site_prefix(SITE)
    stored = get_client().hgetall(f"{prefix}x:20260310")
    assert b"settled" not in stored  # kept live: the views' own figures still counted in h|
    assert stored[b"#|referrer"] == b"2"

    day.set(datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
    _send(client, {"p": "/later"})  # the day's first view settles yesterday
    stored = get_client().hgetall(f"{prefix}x:20260310")
    assert b"settled" in stored
    assert not [f for f in stored if f.startswith(b"h|")]
    assert b"i|referrer" in stored  # the imported lines, kept: reads add them
    assert get_client().keys("*shop.example/site}:xu:20260310:*") == []
    exact()  # settled: its own lines and the imported ones, added
    assert _rows(client, "referrer", days=2) == {
        "news.example": (3, 3),
        "search.example": (1, 1),
        "(none)": (1, 1),
    }

    _import_merged()  # into a settled day: written settled, the imported lines folded in
    stored = get_client().hgetall(f"{prefix}x:20260310")
    assert b"settled" in stored
    assert not [f for f in stored if f.startswith(b"i|")]
    assert _day_rows(today, "referrer") == {"news.example": (6, 6), "search.example": (2, 2)}
    assert _page_rows("page", referrer="news.example", first=today, last=today) == {"/": (6, 6)}


@pytest.mark.real_redis
def test_views_after_an_import_into_a_day_not_opened_yet_are_counted(real_store, client, day):
    from counter.domain.backup_format import export_lines

    _send(client, {"p": "/", "r": "www.news.example"})
    lines = list(export_lines([SITE]))
    get_client().delete(*get_client().keys("*shop.example/site}:x*"))  # today not opened yet
    _import_merged(lines)  # today's dimensions from another server's backup
    _send(client, {"p": "/", "r": "www.news.example"}, address=US)
    _send(client, {"p": "/", "r": "www.news.example"})
    assert _rows(client, "referrer") == {"news.example": (3, 3)}
    assert _page_rows("page", referrer="news.example", days=1) == {"/": (3, 3)}


def test_a_kept_breakdown_keeps_the_days_before_today_and_reads_today_fresh(any_store, client, day):
    from datetime import UTC, datetime

    _send(client, {"p": "/a"})  # yesterday, once the clock moves on
    day.set(datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
    _send(client, {"p": "/b"}, address=US)
    kept = store.breakdowns(SITE, days=7, keep_seconds=60)
    assert kept == store.breakdowns(SITE, days=7)  # the same figures as a fresh read
    assert {row.value: row.hits for row in kept["page"]} == {"/a": 1, "/b": 1}
    _send(client, {"p": "/b"}, address=GB)  # today: shown at once (the live dashboard)
    again = store.breakdowns(SITE, days=7, keep_seconds=60)
    assert {row.value: row.hits for row in again["page"]} == {"/a": 1, "/b": 2}
    get_client().delete(*get_client().keys("*shop.example/site}:x*"))  # every day gone
    kept_past = store.breakdowns(SITE, days=7, keep_seconds=60)  # yesterday: the minute's
    assert {row.value: row.hits for row in kept_past["page"]} == {"/a": 1}
    assert store.breakdowns(SITE, days=7)["page"] == []
