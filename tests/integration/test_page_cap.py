"""Bounded growth: a site's page script can make at most PAGES_PER_SITE page counters; past
that, new paths are counted on the site's one "other" page. On fakeredis and a real server."""

from counter import store
from counter.names import Counter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
SITE = Counter("flood.example", "site")


def _view(client, path: str, address: str = "203.0.113.1") -> None:
    response = client.post(
        "/e/flood.example",
        data=path,
        content_type="text/plain",
        HTTP_USER_AGENT=BROWSER,
        REMOTE_ADDR=address,
    )
    assert response.status_code == 204


def test_random_paths_past_the_cap_count_as_other(any_store, client, settings):
    settings.PAGES_PER_SITE = 20
    settings.DIMENSION_VALUES_PER_DAY = 19  # the page dimension's values: capped alike
    for n in range(19):  # the 20th place is the "other" page's
        _view(client, f"/known/{n}")
    keys_before = _keys(any_store)
    for n in range(200):
        _view(client, f"/random/{n:04x}")
    _view(client, "/known/3")  # a known page still counts as itself

    pages = {key for key in store.iter_counters(namespace="flood.example") if key.key != "site"}
    assert len(pages) == 20  # the 19 admitted, and "other"
    top = {page.path: page.hits for page in store.top_pages(SITE, limit=30)}
    assert top["(other pages)"] == 200
    assert top["/known/3"] == 2
    assert store.total(Counter("flood.example", store.OTHER_PAGE_KEY)) == 200
    assert store.total(SITE) == 220
    # Every later path added no key but the "other" page's few (its total, days, metadata,
    # today's HyperLogLog, its two rate windows, which expire), the page dimension's
    # "(other)" visitors (a HyperLogLog), and the "(other)" page's own browser, os, device
    # and country visitors (four HyperLogLogs: the per-page pairs of pages with no room).
    assert len(_keys(any_store)) - len(keys_before) <= 11


def _keys(any_store) -> list:
    from django_redis import get_redis_connection

    return get_redis_connection().keys("*flood.example*")


def test_views_the_site_refuses_leave_no_page_behind(any_store, client, settings):
    settings.HIT_RATE_LIMIT = (5, 60)
    statuses = [client.post(
        "/e/flood.example", data=f"/r/{n}", content_type="text/plain",
        HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.1",
    ).status_code for n in range(30)]  # fmt: skip
    assert statuses == [204] * 5 + [429] * 25
    pages = [key for key in store.iter_counters(namespace="flood.example") if key.key != "site"]
    assert len(pages) == 5


def test_one_address_past_its_budget_counts_new_paths_as_other(any_store, client, settings):
    settings.NEW_COUNTER_RATE_LIMIT = (2, 3600)
    _view(client, "/", address="203.0.113.50")  # the site, made by someone else
    for n in range(5):
        _view(client, f"/new/{n}")
    top = {page.path: page.hits for page in store.top_pages(SITE, limit=30)}
    assert top == {"/": 1, "/new/0": 1, "/new/1": 1, "(other pages)": 3}
    keys = {counter.key for counter in store.iter_counters(namespace="flood.example")}
    assert len(keys) == 5  # the site, "/", two pages and "other"
