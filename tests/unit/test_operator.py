"""The operator's page: every site and counter with today's figures, behind ADMIN_TOKEN."""

import re

import pytest

from counter import store
from counter.names import Counter
from counter.web import operator

TOKEN = "operator-token-0123456789"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def web(client, day, settings):
    settings.ADMIN_TOKEN = TOKEN
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    return client


def _names(body: str) -> list[str]:
    return re.findall(r'<tr><td><a href="/d/[^"]+">([^<]+)</a>', body)


def test_without_the_token_there_is_no_page(web, settings):
    assert web.get("/operator").status_code == 404
    assert web.get("/operator?token=wrong-token-0123456789").status_code == 404
    assert web.get("/operator", HTTP_AUTHORIZATION="Bearer nope").status_code == 404
    settings.ADMIN_TOKEN = ""
    assert web.get("/operator?token=").status_code == 404


def test_lists_sites_and_counters_with_today_and_totals_sorted(web):
    store.reset(Counter("old.example", "badge"), value=500, create=True)
    for _ in range(3):
        web.get("/count/busy/home")
    web.post("/e/shop.example", data=b"/a", content_type="text/plain")
    response = web.get("/operator", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    body = response.content.decode()
    assert _names(body) == ["busy/home", "shop.example/site", "old.example/badge"]  # today
    assert "/p." not in body  # pages are their sites'
    assert 'id="sum-total">504<' in body
    assert 'id="sum-today">4 <' in body
    assert '<a href="/d/busy/home">busy/home</a>' in body
    by_total = web.get(f"/operator?sort=total&token={TOKEN}").content.decode()
    assert _names(by_total) == ["old.example/badge", "busy/home", "shop.example/site"]
    assert f"?sort=name&amp;token={TOKEN}" in by_total  # the query's token, kept
    by_name = web.get(f"/operator?sort=name&token={TOKEN}").content.decode()
    assert _names(by_name) == ["busy/home", "old.example/badge", "shop.example/site"]
    assert 'aria-sort="ascending"' in by_name


def test_the_list_is_capped(web, monkeypatch):
    monkeypatch.setattr(operator, "OPERATOR_COUNTERS", 2)
    for name in ("one", "two", "three"):
        web.get(f"/count/cap/{name}")
    body = web.get(f"/operator?token={TOKEN}").content.decode()
    assert len(_names(body)) == 2
    assert "Only the first 2 counters" in body


def test_the_token_opens_a_private_dashboard_the_page_links_to(web):
    response = web.post("/new", {"namespace": "private.example", "key": "home", "private": "on"})
    assert response.status_code == 200
    assert "is private" in web.get("/d/private.example/home").content.decode()
    assert web.post("/d/private.example/home/unlock", {"admin_key": TOKEN}).status_code == 302
    assert 'id="total"' in web.get("/d/private.example/home").content.decode()


def test_a_site_in_its_own_zone_shows_its_local_days_figures(web, day):
    from datetime import UTC, datetime

    site = Counter("far.example", "site")
    day.set(datetime(2026, 12, 3, 1, 0, tzinfo=UTC))  # UTC's 3 December (LA's 2 December)
    for _ in range(2):
        web.post("/e/far.example", data=b"/a", content_type="text/plain")
    web.get("/count/plain/home")
    assert store.set_zone(site, "America/Los_Angeles")
    day.set(datetime(2026, 12, 3, 6, 18, tzinfo=UTC))  # 22:18 on 2 December in LA
    web.post("/e/far.example", data=b"/b", content_type="text/plain")
    local_today = store.stats(site, days=1).today  # what the site's own API says
    assert (local_today.day.isoformat(), local_today.hits) == ("2026-12-02", 1)
    body = web.get(f"/operator?token={TOKEN}").content.decode()
    row = re.search(r'<a href="/d/far.example/site">.*?</tr>', body)[0]
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells[0].startswith("1 ")  # the local day's hit, not the UTC day's two
    assert ">2026-12-02, America/Los_Angeles</small>" in cells[0]
    assert cells[1] == "1"  # its unique visitor of the local day
    assert cells[2] == "3"
    plain = re.search(r'<a href="/d/plain/home">.*?</tr>', body)[0]
    assert re.findall(r"<td>(.*?)</td>", plain)[0] == "1"  # the UTC day's, no zone named
    assert "Today is the UTC day" not in body
    # the next view moves the site's figure at once
    web.post("/e/far.example", data=b"/c", content_type="text/plain")
    body = web.get(f"/operator?token={TOKEN}").content.decode()
    row = re.search(r'<a href="/d/far.example/site">.*?</tr>', body)[0]
    assert re.findall(r"<td>(.*?)</td>", row)[0].startswith("2 ")
