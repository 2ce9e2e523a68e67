"""The landing page, the create form, dashboards, private counters, error pages."""

import re

import pytest

from counter import store
from counter.names import Counter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def web(client, day):
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    return client


def _create(web, **form) -> str:
    response = web.post("/new", form)
    assert response.status_code == 200
    return re.search(r'id="admin-key" class="secret">([^<]+)<', response.content.decode())[1]


def test_landing_keeps_the_greeting_has_a_form_demo_badge_and_strict_csp(web):
    response = web.get("/")
    body = response.content.decode()
    assert "Welcome to my App!" in body
    assert '<form method="post" action="/new"' in body
    assert 'src="/badge/demo/visitorsite.svg"' in body
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert "<style" not in body
    assert "<script>" not in body
    assert "http://" not in body.replace("http://localhost", "")  # nothing from elsewhere


def test_create_form_uses_the_api_code_and_shows_the_key_once(web):
    response = web.post("/new", {"namespace": "site", "key": "home"})
    body = response.content.decode()
    assert "Save this now" in body
    assert response["Cache-Control"] == "no-store"
    key = re.search(r'id="admin-key" class="secret">([^<]+)<', body)[1]
    assert web.get(f"/reset/site/home?token={key}").json() == {"value": 0}  # a real admin key
    again = web.post("/new", {"namespace": "site", "key": "home"})
    assert again.status_code == 400
    assert "exists already" in again.content.decode()
    assert web.post("/new", {"key": "bad name"}).status_code == 400


def test_dashboard_shows_figures_chart_table_and_snippets(web):
    _create(web, namespace="site", key="home")
    for ip in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        web.get("/count/site/home", REMOTE_ADDR=ip)
    response = web.get("/d/site/home")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="total" data-live="/live/site/home">3<' in body
    assert 'id="uniques">2<' in body
    assert '<svg xmlns="http://www.w3.org/2000/svg" viewBox' in body
    assert "<td>2026-03-10</td><td>3</td><td>2</td>" in body
    assert "![visitors](http://localhost/badge/site/home.svg)" in body
    assert 'data-namespace="site"' in body
    assert response["Content-Security-Policy"]


def test_range_switch(web):
    web.get("/count/site/home")
    for days in (7, 30, 90):
        body = web.get(f"/d/site/home?days={days}").content.decode()
        assert f'href="?days={days}" aria-current="page"' in body
        assert body.count("<tr><td>") == days
        assert f'href="/api/v1/counters/site/home.csv?days={days}" download' in body
    for days in (1, 8, 14, 365):  # any length within the retention shows that length
        body = web.get(f"/d/site/home?days={days}").content.decode()
        assert body.count("<tr><td>") == days
    assert 'aria-current="page">Today' in web.get("/d/site/home?days=1").content.decode()


def test_figures_have_thousands_separators(web):
    store.reset(Counter("site", "big"), value=1234566, create=True)
    web.get("/count/site/big")
    body = web.get("/d/site/big").content.decode()
    assert 'data-live="/live/site/big">1,234,567</dd>' in body
    assert "<title>site/big: 1,234,567 hits" in body


def test_site_dashboard_lists_top_pages_and_bots(web):
    for path, times in (("/a", 3), ("/b", 1)):
        for _ in range(times):
            web.post("/e/example.com", data=path.encode(), content_type="text/plain")
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    web.post("/e/example.com", data=b"/a", content_type="text/plain", HTTP_USER_AGENT=googlebot)
    body = web.get("/d/example.com/site").content.decode()
    assert re.search(r"<code>/a</code> <span>3</span>.*<code>/b</code> <span>1</span>", body)
    assert 'id="bots">1<' in body


def test_unknown_counter_is_404_with_a_create_link(web):
    response = web.get("/d/site/none")
    assert response.status_code == 404
    assert "/?namespace=site&amp;key=none" in response.content.decode()
    assert web.get("/d/bad%20name").status_code == 400


def test_private_dashboard_needs_the_key_and_sets_a_strict_owner_cookie(web):
    key = _create(web, namespace="site", key="secret", private="on")
    web.get("/count/site/secret")
    locked = web.get("/d/site/secret")
    assert "Admin key" in locked.content.decode()
    assert 'id="total"' not in locked.content.decode()
    assert not locked.cookies
    wrong = web.post("/d/site/secret/unlock", {"admin_key": "wrong"})
    assert "That is not this counter" in wrong.content.decode()
    assert not wrong.cookies
    unlocked = web.post("/d/site/secret/unlock", {"admin_key": key})
    assert unlocked.status_code == 302
    cookie = next(iter(unlocked.cookies.values()))
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/d/site/secret"
    opened = web.get("/d/site/secret")
    assert opened.status_code == 200
    assert 'id="total">1<' in opened.content.decode()


def test_visitors_never_get_a_cookie(web):
    for url in ("/", "/count", "/badge/site/home.svg", "/i/site/home.gif", "/js/v1/site.js"):
        assert not web.get(url).cookies, url
    assert not web.post("/e/site", data=b"/", content_type="text/plain").cookies


def test_store_outage_on_a_page_is_a_503_page(web, point_store_at):
    from tests.servers import free_port

    point_store_at(f"redis://127.0.0.1:{free_port()}/0")
    response = web.get("/d/site/home")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_private_counter_figures_are_not_public_in_the_v1_api(web):
    key = _create(web, namespace="site", key="secret", private="on")
    assert web.get("/api/v1/counters/site/secret").status_code == 403
    authorised = web.get("/api/v1/counters/site/secret", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert authorised.status_code == 200
    assert store.total(Counter("site", "secret")) == 0
