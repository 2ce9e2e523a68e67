"""Nothing is written that no budget paid for, and no hit answered 200 is lost.

A first hit on a new name writes nothing until the client's new-counter budget has paid for
the counter; requests that are not counted write nothing; hits per address are capped
whatever User-Agent each sends; a private site's pages go with it. On fakeredis and a real
server (``any_store``), and the races on a real server with threads.
"""

import threading

import pytest
from django.test import Client

from counter import store
from counter.names import Counter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
TOKEN = "operator-token-0123456789"


def _client(address: str = "203.0.113.7", agent: str = BROWSER) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)


def _dbsize() -> int:
    from django_redis import get_redis_connection

    return get_redis_connection().dbsize()


def _lasting_keys() -> list[bytes]:
    """Every key that never expires."""
    from django_redis import get_redis_connection

    redis = get_redis_connection()
    return [key for key in redis.keys("*") if redis.ttl(key) == -1]


COUNTING = [
    ("get", "/count/{ns}/{key}"),
    ("get", "/hit/{ns}/{key}"),
    ("post", "/hit/{ns}/{key}"),
    ("get", "/badge/{ns}/{key}.svg"),
    ("get", "/i/{ns}/{key}.gif"),
]


@pytest.mark.parametrize(("method", "url"), COUNTING)
def test_past_the_budget_a_first_hit_writes_nothing(any_store, settings, method, url):
    settings.NEW_COUNTER_RATE_LIMIT = (2, 3600)
    client = _client()
    made = [
        getattr(client, method)(url.format(ns="paid", key=f"made{n}")).status_code for n in range(2)
    ]
    assert made == [200, 200]
    lasting = set(_lasting_keys())
    size = _dbsize()
    refused = [getattr(client, method)(url.format(ns="paid", key=f"refused{n}")) for n in range(30)]
    assert {response.status_code for response in refused} == {429}
    assert all(response["Retry-After"] for response in refused)
    assert _dbsize() == size  # not even a key that expires: the budget's bucket exists already
    assert set(_lasting_keys()) == lasting
    assert all(store.total(Counter("paid", f"refused{n}")) is None for n in range(30))


@pytest.mark.parametrize(
    "headers",
    [
        {"REQUEST_METHOD": "HEAD"},
        {"HTTP_USER_AGENT": "Googlebot/2.1 (+http://www.google.com/bot.html)"},
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_USER_AGENT": ""},
    ],
    ids=["head", "bot", "prefetch", "no-user-agent"],
)
def test_requests_that_are_not_counted_write_nothing(any_store, headers):
    client = _client()
    headers = dict(headers)
    method = headers.pop("REQUEST_METHOD", "GET")
    call = client.head if method == "HEAD" else client.get
    size = _dbsize()
    for n in range(40):
        origin = {
            "HTTP_ORIGIN": f"https://new{n}.example",
            "HTTP_REFERER": f"https://new{n}.example/a",
        }
        for url in (
            "/hit/:HOST:/:PATHNAME:",
            "/hit/:HOST:",
            f"/hit/:HOST:/downloads{n}",
            f"/count/quiet/cnt{n}",
            f"/badge/quiet/cnt{n}.svg",
            f"/i/quiet/cnt{n}.gif",
        ):
            assert call(url, **origin, **headers).status_code < 500
        beacon_method = "HEAD" if method == "HEAD" else "POST"
        beacon = client.generic(
            beacon_method, f"/e/quiet{n}.example", "/page", "text/plain", **headers
        )
        assert beacon.status_code == (405 if method == "HEAD" else 204)
    assert _dbsize() == size


def test_a_magic_page_past_the_budget_makes_no_site(any_store, settings):
    settings.NEW_COUNTER_RATE_LIMIT = (1, 3600)
    client = _client()
    first = {"HTTP_ORIGIN": "https://one.example", "HTTP_REFERER": "https://one.example/a"}
    assert client.get("/hit/:HOST:/:PATHNAME:", **first).json()["value"] == 1
    size = _dbsize()
    for n in range(20):
        other = {"HTTP_ORIGIN": f"https://m{n}.example", "HTTP_REFERER": f"https://m{n}.example/"}
        assert client.get("/hit/:HOST:/:PATHNAME:", **other).status_code == 429
    assert _dbsize() == size


def test_rotating_user_agents_cannot_inflate_a_counter(any_store, settings):
    settings.ADDRESS_HIT_RATE_LIMIT = (50, 3600)
    statuses = [
        _client(agent=f"{BROWSER} build/{n}").get("/hit/shared/office").status_code
        for n in range(80)
    ]
    assert statuses == [200] * 50 + [429] * 30
    assert store.total(Counter("shared", "office")) == 50
    # Another address is counted as before.
    assert _client("203.0.113.8").get("/hit/shared/office").json()["value"] == 51


@pytest.mark.parametrize("budget", [0, 50])
def test_concurrent_first_hits_are_all_kept_or_all_refused(real_store, settings, budget):
    settings.NEW_COUNTER_RATE_LIMIT = (budget, 3600) if budget else (1, 3600)
    if not budget:
        assert _client().get("/hit/race/spent").status_code == 200  # the budget is spent
    answers: list = []

    def hit(n: int) -> None:
        response = _client(agent=f"{BROWSER} v{n}").get("/hit/race/new")
        answers.append((response.status_code, response.json().get("value")))

    threads = [threading.Thread(target=hit, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    counted = [value for status, value in answers if status == 200]
    kept = store.total(Counter("race", "new"))
    if budget:
        assert len(counted) == 40
        assert sorted(counted) == list(range(1, 41))  # each answered value is a distinct count
        assert kept == 40
    else:
        assert counted == []
        assert {status for status, _ in answers} == {429}
        assert kept is None
        assert _client().get("/get/race/new").status_code == 404


def _private_site(client) -> str:
    for path in ("/a", "/b"):
        response = client.post("/e/private.example", data=path, content_type="text/plain")
        assert response.status_code == 204
    claimed = client.post(
        "/api/v1/counters/private.example/site/claim",
        {"private": "1"},
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )
    assert claimed.status_code == 200
    return claimed.json()["admin_key"]


def _page_keys() -> list[str]:
    return [
        counter.key
        for counter in store.iter_counters(namespace="private.example")
        if counter.key.startswith("p.")
    ]


def test_deleting_a_private_site_deletes_its_pages(any_store, settings):
    settings.ADMIN_TOKEN = TOKEN
    client = _client()
    key = _private_site(client)
    pages = _page_keys()
    assert len(pages) == 2
    assert client.get(f"/get/private.example/{pages[0]}").status_code == 404  # private
    deleted = client.get("/delete/private.example/site", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert deleted.status_code == 200
    assert _page_keys() == []
    for page in pages:
        for url in (f"/get/private.example/{page}", f"/info/private.example/{page}"):
            assert client.get(url).status_code == 404
        assert client.get(f"/api/v1/counters/private.example/{page}").status_code == 404
    assert store.breakdown(Counter("private.example", "site"), "page", days=1) == []


def test_a_page_key_rotation_gives_a_key_that_works(any_store, settings):
    settings.ADMIN_TOKEN = TOKEN
    client = _client()
    old = _private_site(client)
    page = _page_keys()[0]
    rotated = client.post(
        f"/api/v1/counters/private.example/{page}/admin-key", HTTP_AUTHORIZATION=f"Bearer {old}"
    )
    assert rotated.status_code == 200
    assert rotated.json()["key"] == "site"
    new = rotated.json()["admin_key"]
    # The old key no longer opens the site (403), nor its page (hidden: 404).
    for key, site_status, page_status in ((new, 200, 200), (old, 403, 404)):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
        page_url = f"/api/v1/counters/private.example/{page}"
        assert client.get(page_url, **auth).status_code == page_status
        assert client.get("/info/private.example/site", **auth).status_code == site_status


def test_a_private_sites_page_dashboards_do_not_tell_which_pages_exist(any_store, settings):
    settings.ADMIN_TOKEN = TOKEN
    client = _client()
    _private_site(client)
    existing = client.get(f"/d/private.example/{_page_keys()[0]}")
    missing = client.get("/d/private.example/p.0123456789abcdef")
    assert existing.status_code == missing.status_code == 200
    assert b"admin_key" in existing.content
    assert b"admin_key" in missing.content
    public = client.get("/d/public.example/p.0123456789abcdef")
    assert public.status_code == 404
