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
    assert "/js/v1/site.js" not in body  # the page script counts on <namespace>/site, not here
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
    assert re.search(
        r"<code>/a</code></a> <span>3</span>.*<code>/b</code></a> <span>1</span>", body
    )
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
    # No stream (it needs the admin key): live.js reads the owner's page again every 30 s
    body = opened.content.decode()
    assert 'id="total" data-refresh="30">1<' in body
    assert "data-live" not in body
    assert key not in body  # the page never holds the admin key


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


def test_site_breakdowns_show_visitors_share_direct_countries_and_conversion(web):
    beacon = {"content_type": "text/plain", "REMOTE_ADDR": "81.2.69.142"}
    web.post("/e/shop.example", data=b'{"p": "/", "w": "l"}', **beacon)  # no referrer: direct
    web.post("/e/shop.example", data=b'{"p": "/", "r": "blog.example"}', REMOTE_ADDR="8.8.8.8",
             content_type="text/plain")  # fmt: skip
    web.post("/e/shop.example", data=b'{"e": "signup", "p": "/"}', **beacon)
    body = web.get("/d/shop.example/site").content.decode()
    referrers = body[body.index('id="b-referrer"') : body.index('id="b-campaign"')]
    assert '<a href="?days=30&amp;referrer=%28none%29">Direct</a>' in referrers  # a filter
    assert "(none)" not in referrers
    assert "1 visitor · 50%" in referrers  # in the row, not only in a title
    assert "United Kingdom (GB)" in body
    assert "United States (US)" in body
    events = body[body.index('id="b-event"') : body.index('id="b-browser"')]
    assert "signup" in events
    assert "50% converted" in events  # 1 of the site's 2 visitors
    api = web.get("/api/v1/counters/shop.example/site/breakdown?dimension=referrer").json()
    assert "(none)" in [row["value"] for row in api["rows"]]  # the API keeps the raw value


def test_a_pages_dashboard_is_titled_by_its_path_and_links_back_to_its_site(web):
    web.post("/e/example.com", data=b"/blog/hello", content_type="text/plain")
    site = web.get("/d/example.com/site").content.decode()
    page_url = re.search(r'<a href="(/d/example\.com/p\.[0-9a-f]+)"><code>/blog/hello<', site)[1]
    assert 'id="script"' in site  # the page script counts on the site: offered there
    page = web.get(page_url).content.decode()
    assert "<title>/blog/hello on example.com: 1 hits" in page
    assert "<h1>/blog/hello</h1>" in page
    assert '<a href="/d/example.com/site">' in page
    assert 'id="script"' not in page  # a snippet here counts on this counter only
    assert "/badge/example.com/p." in page


def test_a_plain_counters_dashboard_offers_no_page_script(web):
    _create(web, namespace="plain", key="home")
    body = web.get("/d/plain/home").content.decode()
    assert 'id="script"' not in body
    assert "/js/v1/site.js" not in body
    assert 'id="md"' in body
    assert 'id="pixel"' in body
    assert "the site's dashboard" not in body


def test_a_private_sites_page_stays_locked(web):
    from counter.store.connection import get_client
    from counter.store.keys import counter_key

    web.post("/e/secret.example", data=b"/hidden", content_type="text/plain")
    site = web.get("/d/secret.example/site").content.decode()
    page_url = re.search(r'<a href="(/d/secret\.example/p\.[0-9a-f]+)">', site)[1]
    get_client().hset(counter_key(Counter("secret.example", "site"), "m"), "private", "1")
    body = web.get(page_url).content.decode()
    assert "/hidden" not in body  # no title by its path for a stranger
    assert "is private" in body


def test_the_created_page_hands_its_dashboard_link_to_the_browsers_list(web):
    created = web.post("/new", {"namespace": "mine.example", "key": "home"}).content.decode()
    remember = re.search(r'<p id="remember"([^>]*)>', created)[1]
    assert 'data-url="/d/mine.example/home"' in remember
    assert 'data-name="mine.example/home"' in remember
    assert "admin" not in remember  # the link only: the key stays on this page, once
    assert "/static/dashboard/mine.js" in created
    landing = web.get("/").content.decode()
    assert '<section id="mine" aria-labelledby="mine-title" hidden>' in landing
    assert "/static/dashboard/mine.js" in landing


def test_a_pages_dashboard_shows_that_pages_own_breakdowns(web):
    beacon = {"content_type": "text/plain", "REMOTE_ADDR": "81.2.69.142"}
    web.post("/e/shop.example", data=b'{"p": "/a", "r": "news.example"}', **beacon)
    web.post("/e/shop.example", data=b'{"p": "/b", "r": "blog.example"}', REMOTE_ADDR="8.8.8.8",
             content_type="text/plain")  # fmt: skip
    web.post("/e/shop.example", data=b'{"e": "signup", "p": "/a"}', **beacon)
    site = web.get("/d/shop.example/site").content.decode()
    page_url = re.search(r'<a href="(/d/shop\.example/p\.[0-9a-f]+)"><code>/a<', site)[1]
    body = web.get(page_url).content.decode()
    referrers = body[body.index('id="b-referrer"') : body.index('id="b-campaign"')]
    assert "news.example" in referrers
    assert "blog.example" not in referrers  # the other page's visitor
    assert 'id="b-page"' not in body  # a page has no "Pages"
    events = body[body.index('id="b-event"') : body.index('id="b-browser"')]
    assert "signup" in events
    assert "United Kingdom (GB)" in body
    assert "United States (US)" not in body


def test_a_page_without_its_path_shows_no_breakdowns(web):
    # A page imported from a backup whose metadata lost its path: nothing names its own
    # values, so no empty bar lists (and no reads for them).
    from counter.store.connection import get_client
    from counter.store.keys import counter_key

    web.post("/e/shop.example", data=b"/a", content_type="text/plain")
    site = web.get("/d/shop.example/site").content.decode()
    page_url = re.search(r'<a href="(/d/shop\.example/(p\.[0-9a-f]+))"><code>/a<', site)
    get_client().hset(counter_key(Counter("shop.example", page_url[2]), "m"), "path", "")
    body = web.get(page_url[1]).content.decode()
    assert 'id="b-referrer"' not in body
    assert 'id="b-event"' not in body


def test_a_sites_dashboard_says_who_is_here_now_and_keeps_it_fresh(web):
    web.post("/e/now.example", data=b'{"p": "/a"}', content_type="text/plain")
    web.post(
        "/e/now.example", data=b'{"p": "/b"}', REMOTE_ADDR="8.8.8.8", content_type="text/plain"
    )
    body = web.get("/d/now.example/site").content.decode()
    card = body[body.index('id="here-now"') :]
    assert 'data-now="/api/v1/counters/now.example/site/now"' in card[:120]
    assert '<span class="n">2</span>' in card[:200]
    assert "<code>/a</code> (1)" in body
    assert "<code>/b</code> (1)" in body
    assert "/static/dashboard/now" in body
    assert web.get("/api/v1/counters/now.example/site/now").json()["visitors"] == 2
    plain = web.get(re.search(r'<a href="(/d/now\.example/p\.[0-9a-f]+)">', body)[1])
    assert 'id="here-now"' not in plain.content.decode()  # a page's dashboard has none
