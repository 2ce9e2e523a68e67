"""Badges, shields endpoint, pixel and page script over HTTP (Django's test client)."""

import json
import re
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from counter import store
from counter.names import Counter, normalise_path
from tests.page_names import page_counter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SITE = Counter("site", "home")


@pytest.fixture
def web(client, day):
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    return client


def test_badge_counts_and_is_never_cached(web):
    response = web.get("/badge/site/home.svg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate"
    assert response["Expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert 'aria-label="visitors: 1"' in response.content.decode()
    assert 'aria-label="visitors: 2"' in web.get("/badge/site/home.svg").content.decode()
    assert store.total(SITE) == 2


def test_read_only_badge_does_not_count(web):
    web.get("/badge/site/home.svg")
    response = web.get("/badge/site/home.svg?count=0")
    assert 'aria-label="visitors: 1"' in response.content.decode()
    assert response["Cache-Control"] == "public, max-age=60"
    assert store.total(SITE) == 1


def test_badge_values_base_and_abbreviation(web):
    for ip in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        web.get("/badge/site/home.svg?count=0")
        web.get("/i/site/home.gif", REMOTE_ADDR=ip)

    def label(query: str) -> str:
        svg = web.get(f"/badge/site/home.svg?count=0&{query}").content.decode()
        return svg.split('aria-label="', 1)[1].split('"', 1)[0]

    assert label("value=total") == "visitors: 3"
    assert label("value=uniques") == "visitors: 2"
    assert label("value=today") == "visitors: 3"
    assert label("value=today/total&base=1000") == "visitors: 3 / 1,003"
    assert label("base=123456&abbreviated=1") == "visitors: 123.5k"
    assert label("label=views") == "views: 3"


def test_bot_sees_the_badge_without_counting(web):
    assert (
        'aria-label="visitors: 0"'
        in web.get("/badge/site/home.svg", HTTP_USER_AGENT=GOOGLEBOT).content.decode()
    )
    assert store.total(SITE) is None
    assert list(store.iter_counters()) == []  # a crawler of random names makes no keys
    web.get("/badge/site/home.svg")
    assert (
        'aria-label="visitors: 1"'
        in web.get("/badge/site/home.svg", HTTP_USER_AGENT=GOOGLEBOT).content.decode()
    )
    assert store.stats(SITE, days=1).bots == 1
    assert store.total(SITE) == 1


@pytest.mark.parametrize(
    "query",
    [
        "style=round",
        "color=notacolour",
        "label_color=%23zzz",
        "value=everything",
        "base=abc",
        "base=-5",
        "label=" + "x" * 65,
    ],
)
def test_bad_badge_options_are_400_and_count_nothing(web, query):
    response = web.get(f"/badge/site/home.svg?{query}")
    assert response.status_code == 400
    assert response.content.startswith(b"Bad request:")
    assert store.total(SITE) is None


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.sampled_from(["label", "color", "label_color", "style", "value", "base", "count"]),
        st.text(max_size=70),
    ),
    st.text(max_size=70),
)
def test_badge_options_never_cause_a_500(web, options, name):
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in options.items())
    response = web.get(f"/badge/{quote(name, safe='')}.svg?{query}")
    assert response.status_code in {200, 400}


def test_shields_endpoint_json_is_read_only(web):
    web.get("/badge/site/home.svg")
    response = web.get("/badge/site/home.json?label=hits&color=blue")
    assert json.loads(response.content) == {
        "schemaVersion": 1,
        "label": "hits",
        "message": "1",
        "color": "blue",
    }
    assert response["Access-Control-Allow-Origin"] == "*"
    assert store.total(SITE) == 1


def test_pixel_counts_and_is_a_transparent_gif(web):
    response = web.get("/i/site/home.gif")
    assert response["Content-Type"] == "image/gif"
    gif = response.content
    assert gif.startswith(b"GIF89a")
    assert gif[6:10] == b"\x01\x00\x01\x00"  # 1 x 1
    extension = gif.index(b"\x21\xf9\x04")  # graphic control extension...
    assert gif[extension + 3] & 1  # ...with the transparency flag set
    assert gif.endswith(b";")
    assert response["Cache-Control"].startswith("max-age=0, no-cache, no-store")
    assert store.total(SITE) == 1
    assert web.get("/i/bad%20name.gif").status_code == 400


def test_script_is_small_versioned_and_cached_long(web):
    response = web.get("/js/v1/site.js")
    assert response.status_code == 200
    assert len(response.content) < 2500  # as served: comments and indentation left out
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"sendBeacon" in response.content
    assert b"webdriver" in response.content


def test_beacon_counts_site_and_page_and_keeps_the_path(web):
    for _ in range(3):
        response = web.post(
            "/e/example.com", data=b"/blog/post-1/", content_type="text/plain;charset=UTF-8"
        )
        assert response.status_code == 204
        assert response["Access-Control-Allow-Origin"] == "*"
    web.post("/e/example.com", data=b"/", content_type="text/plain")
    page = page_counter("example.com", "/blog/post-1")
    assert store.total(page) == 3
    assert store.total(Counter("example.com", "site")) == 4
    assert store.info(page).meta["path"] == "/blog/post-1"


def test_beacon_from_a_bot_counts_only_as_a_bot(web):
    bot = {"content_type": "text/plain", "HTTP_USER_AGENT": GOOGLEBOT}
    web.post("/e/example.com", data=b"/", **bot)
    assert list(store.iter_counters()) == []  # no site made by a crawler
    web.post("/e/example.com", data=b"/", content_type="text/plain")
    web.post("/e/example.com", data=b"/", **bot)
    assert store.total(Counter("example.com", "site")) == 1
    assert store.stats(Counter("example.com", "site"), days=1).bots == 1


def test_beacon_refuses_bad_namespaces_long_bodies_and_gets(web):
    assert web.post("/e/bad%20ns", data=b"/", content_type="text/plain").status_code == 400
    long = b"/" + b"a" * 5000  # over the beacon's 3 KiB: refused before it is read
    assert web.post("/e/example.com", data=long, content_type="text/plain").status_code == 413
    assert web.get("/e/example.com").status_code == 405


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        ("/", "/"),
        ("", "/"),
        ("/blog/", "/blog"),
        ("//a///b//", "/a/b"),
        ("blog/x#frag", "/blog/x"),
        ("/q?x=1", "/q?x=1"),  # the script strips queries unless told to keep them
    ],
)
def test_path_normalisation(raw, path):
    assert normalise_path(raw) == path


def test_page_counter_names_are_valid_and_stable():
    first = page_counter("example.com", "/ünïcode/ path")
    assert first == page_counter("example.com", "/ünïcode/ path")
    assert first.key.startswith("p.")
    assert page_counter("example.com", "/other") != first


# Every embed URL the docs show a reader, written as the docs write it.
_DOCS = [Path(__file__).parents[2] / name for name in ("README.md", "docs/EMBEDS.md")]
_EXAMPLE = re.compile(
    r"(?:http://127\.0\.0\.1:8000|https%3A%2F%2FHOST|https://HOST)(/[^\s)\"'<>`]+|%2F[^\s)]+)"
)


def _documented_urls() -> list[str]:
    found = {unquote(m.group(1)) for doc in _DOCS for m in _EXAMPLE.finditer(doc.read_text())}
    return sorted(found)


def test_the_docs_show_embed_examples():
    assert any(url.startswith("/badge/") for url in _documented_urls())


@pytest.mark.parametrize("url", _documented_urls())
def test_every_documented_embed_url_works(web, url):
    if url.startswith("/live/"):  # a stream of a counter that exists: the page script's site
        namespace = url.split("/")[2]
        web.post(f"/e/{namespace}", data="/", content_type="text/plain")
    response = web.get(url)
    assert response.status_code == 200, url
    response.close()
