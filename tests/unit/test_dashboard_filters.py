"""A site's dashboard narrowed by a click: a page's own breakdowns, the pages a referrer's or
a campaign's visitors landed on; links that keep the period; a bad filter said on the page
(a 400, never a 500), and nothing more shown to a stranger of a private site."""

import html
import re
from urllib.parse import quote

import pytest

from counter.names import Counter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
GB, US = "81.2.69.142", "8.8.8.8"


@pytest.fixture
def web(client, day):
    """shop.example: a GB visitor lands on /pricing from news.example (campaign "spring")
    and signs up there; a US visitor lands on / directly, then views /pricing."""
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")

    def view(body: bytes, address: str) -> None:
        sent = client.post("/e/shop.example", data=body, content_type="text/plain",
                           REMOTE_ADDR=address)  # fmt: skip
        assert sent.status_code == 204

    view(b'{"p": "/pricing", "r": "news.example", "c": "spring", "w": "l"}', GB)
    view(b'{"e": "signup", "p": "/pricing"}', GB)
    view(b'{"p": "/", "w": "l"}', US)
    view(b'{"p": "/pricing", "r": "", "w": "l"}', US)
    return client


def _page(web, query: str, status: int = 200) -> str:
    response = web.get(f"/d/shop.example/site?{query}")
    assert response.status_code == status, response.content[:300]
    return response.content.decode()


def _list(body: str, dimension: str) -> str:
    start = body.index(f'id="b-{dimension}"')
    end = body.find("</section>", start)
    return body[start:end]


def _rows(section: str) -> dict[str, str]:
    """A bar list's rows: label -> the row's hits and context, as text."""
    rows = {}
    for item in re.findall(r"<li>(.*?)</li>", section, re.S):
        label = re.search(r'<span class="value">(?:<a [^>]*>)?(.*?)(?:</a>)?</span>', item)[1]
        text = " ".join(re.sub(r"<[^>]+>", " ", item[item.index('<span class="n"') :]).split())
        rows[html.unescape(label)] = text
    return rows


def _link(section: str, label: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)">{re.escape(label)}</a>', section)
    return html.unescape(found[1]) if found else None


def test_rows_link_to_their_filter_keeping_the_period(web):
    body = _page(web, "days=7&compare=previous")
    assert _link(_list(body, "referrer"), "news.example") == (
        "?days=7&compare=previous&referrer=news.example"
    )
    direct = "?days=7&compare=previous&referrer=%28none%29"  # no referrer: counted per page too
    assert _link(_list(body, "referrer"), "Direct") == direct
    assert _link(_list(body, "campaign"), "spring") == "?days=7&compare=previous&campaign=spring"
    assert _link(_list(body, "page"), "/pricing") == "?days=7&compare=previous&page=%2Fpricing"
    for dimension in ("browser", "os", "device", "country", "event"):
        assert "<a " not in _list(body, dimension), dimension  # nothing to narrow by there
    assert 'id="filter"' not in body


def test_a_page_filter_shows_that_pages_own_breakdowns(web):
    body = _page(web, "page=%2Fpricing")
    assert "<title>shop.example/site, page /pricing: 3 hits" in body
    assert '<span class="path">filtered to page /pricing</span>' in body
    own = re.search(r'\(<a href="(/d/shop\.example/p\.[0-9a-f]+)">this page', body)[1]
    site = _page(web, "")
    assert f'<a href="{own}"><code>/pricing</code>' in site  # the same page as Top pages'
    assert 'id="b-page"' not in body  # a page has no "Pages"
    assert _rows(_list(body, "referrer")) == {"news.example": "1 hit 1 visitor · 100%"}
    assert _rows(_list(body, "campaign")) == {"spring": "1 hit 1 visitor · 100%"}
    assert _rows(_list(body, "country")) == {
        "United Kingdom (GB)": "1 hit 1 visitor · 50%",
        "United States (US)": "1 hit 1 visitor · 50%",
    }
    # the page's signup over the page's 2 visitors, not the site's
    assert _rows(_list(body, "event")) == {"signup": "1 hit 1 visitor · 100% · 50% converted"}
    assert re.search(r'<dd id="period-hits">3<', body)  # the cards stay the whole site's
    remove = re.search(r'<a href="([^"]*)" id="remove-filter">Remove filter</a>', body)[1]
    assert remove == "?days=30"


def test_a_referrer_filter_lists_the_pages_its_visitors_landed_on(web):
    body = _page(web, "days=1&referrer=news.example")
    assert "filtered to visitors from news.example" in body
    assert re.findall(r'id="b-(\w+)"', body) == ["page"]
    pages = _list(body, "page")
    assert _rows(pages) == {"/pricing": "1 hit 1 visitor · 100%"}
    assert _link(pages, "/pricing") == "?days=1&page=%2Fpricing"  # and on to that page
    direct = _page(web, "referrer=%28none%29")
    assert "filtered to visitors from Direct" in direct
    assert _rows(_list(direct, "page")) == {"/": "1 hit 1 visitor · 100%"}
    campaign = _page(web, "campaign=spring")
    assert _rows(_list(campaign, "page")) == {"/pricing": "1 hit 1 visitor · 100%"}
    nobody = _page(web, "referrer=elsewhere.example")  # a value nobody came from: no rows
    assert "None yet." in _list(nobody, "page")


def test_the_period_links_and_the_form_keep_the_filter(web):
    body = _page(web, "days=7&referrer=news.example")
    assert 'href="?days=30&amp;referrer=news.example">30 days' in body
    assert 'href="?days=7&amp;compare=previous&amp;referrer=news.example">Compare' in body
    assert '<input type="hidden" name="referrer" value="news.example">' in body
    compared = _page(web, "days=7&compare=previous&page=%2Fpricing")
    assert 'href="?days=7&amp;page=%2Fpricing">Stop comparing' in compared
    assert '<small class="change">' in _list(compared, "referrer")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("page=" + "a" * 5000, "page= is longer than 512 characters"),
        ("referrer=%00", "referrer= holds a control character"),
        ("referrer=a%0Ab", "referrer= holds a control character"),
        ("page=%2Fpricing&referrer=news.example", "one filter at a time, not page and referrer"),
        ("page=%2Fnowhere", "this site lists no such page"),
        ("page=", "page= is empty"),
        ("referrer=%28other%29", "it cannot be narrowed to"),
        ("page=%ff%fe", "this site lists no such page"),
        ("campaign=" + quote("x" * 300), "campaign= is longer than 256 characters"),
    ],
)
def test_a_bad_filter_is_said_on_the_page_with_a_400(web, query, words):
    body = _page(web, query, status=400)
    error = re.search(r'<p class="error" role="alert" id="filter-error">(.*?)</p>', body)[1]
    assert html.escape(words, quote=True) in error or words in html.unescape(error)
    assert 'id="filter"' not in body  # the whole site's figures, not called filtered
    assert 'id="b-page"' in body


def test_a_bad_period_and_a_filter_together_are_still_a_400(web):
    body = _page(web, "days=abc&page=%2Fpricing", status=400)
    assert 'id="period-error"' in body
    assert "filtered to page /pricing" in body


def test_other_rows_are_plain_text(web, settings):
    settings.DIMENSION_VALUES_PER_DAY = 1  # a second referrer counts as "(other)"
    web.post("/e/cap.example", data=b'{"p": "/", "r": "one.example"}', content_type="text/plain")
    web.post("/e/cap.example", data=b'{"p": "/b", "r": "two.example"}', REMOTE_ADDR=GB,
             content_type="text/plain")  # fmt: skip
    body = web.get("/d/cap.example/site").content.decode()
    referrers = _list(body, "referrer")
    assert '<span class="value">(other)</span>' in referrers
    assert _link(referrers, "one.example") == "?days=30&referrer=one.example"
    assert '<span class="value">(other)</span>' in _list(body, "page")


def test_a_page_the_site_does_not_list_is_not_a_link(web, settings):
    settings.PAGES_PER_SITE = 2  # "/" and "/pricing" (and "other") are all it lists
    web.post("/e/shop.example", data=b'{"p": "/later"}', content_type="text/plain")
    pages = _list(_page(web, ""), "page")
    assert '<span class="value">/later</span>' in pages  # its views count on "other"
    assert _link(pages, "/pricing")
    _page(web, "page=%2Flater", status=400)


def test_a_private_sites_filters_show_nothing_to_a_stranger(web):
    from counter.store.connection import get_client
    from counter.store.keys import counter_key

    get_client().hset(counter_key(Counter("shop.example", "site"), "m"), "private", "1")
    for query in ("page=%2Fpricing", "referrer=news.example", "page=" + "a" * 5000):
        response = web.get(f"/d/shop.example/site?{query}")
        body = response.content.decode()
        assert response.status_code == 200  # the locked form, as without a filter
        assert "is private" in body
        assert "/pricing" not in body
        assert "news.example" not in body
        assert 'id="filter' not in body


def test_a_private_sites_owner_clicks_through_as_on_a_public_one(web):
    from counter import store
    from counter.domain.permissions import hash_admin_key

    site = Counter("shop.example", "site")
    store.claim(site, admin_key_sha256=hash_admin_key("owner-key"), private=True)
    unlocked = web.post("/d/shop.example/site/unlock", {"admin_key": "owner-key"})
    assert unlocked.status_code == 302
    body = _page(web, "referrer=news.example")  # the cookie's path is the site's dashboard
    assert _rows(_list(body, "page")) == {"/pricing": "1 hit 1 visitor · 100%"}
    assert "As JSON" not in body  # the API would need the key: no link
    _page(web, "page=" + "a" * 5000, status=400)
