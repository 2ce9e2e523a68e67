"""A site's dashboard in a real browser (Debian's Chromium through Playwright): the whole page
follows the live stream (views sent from outside change "Today" at once, then the period's
cards, the chart, the table and the breakdowns to the exact new figures, without a reload),
a private site's owner's page does the same every 30 seconds (no stream: it would need the
admin key), and its owner sets the site's time zone from it."""

import json
import os
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.accessibility import axe_violations
from tests.e2e.browsers import CHROME_UA, CHROMIUM, output_folder, watched_page
from tests.servers import RedisServer, gunicorn_service

pytestmark = pytest.mark.e2e
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
OPERATOR = "operator-token-0123456789"

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is missing (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """The service as shipped, with ADMIN_TOKEN: the key the zone form is given."""
    workdir = tmp_path_factory.mktemp("service")
    redis = RedisServer(workdir / "redis").start()
    web = gunicorn_service(workdir, redis.url, ADMIN_TOKEN=OPERATOR, LIVE_STREAMS_PER_CLIENT="64")
    web.redis = redis
    yield web
    web.stop(sig=15)
    redis.stop()


@pytest.fixture
def page_errors() -> list[str]:
    """The page's console errors: a test takes out those it caused on purpose."""
    return []


@pytest.fixture
def browser_page(service, page_errors):
    with watched_page(page_errors) as page:
        yield page


def _view(service, namespace: str, body: dict, agent: str) -> None:
    request = urllib.request.Request(
        f"{service.url}/e/{namespace}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain", "User-Agent": agent},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204


def _until(page, read, expected, seconds: float = 12.0):
    """Poll ``read()`` until it is ``expected`` (wait_for_function evaluates a string: the
    page's CSP refuses it)."""
    for _ in range(int(seconds * 5)):
        if read() == expected:
            break
        page.wait_for_timeout(200)
    assert read() == expected


FIRST_ROW = "#day-rows tr:first-child"
HACKER_NEWS = "#b-referrer + ol li:first-child"


def _served_with_one_view(page) -> list[str]:
    """The dashboard as served after one view through Hacker News, its table opened as a
    reader leaves it; returns the reads of the page that follow, as they happen."""
    page.click("details:has(#day-rows) summary")
    assert page.inner_text("#today") == "1 (1 unique)"
    assert page.inner_text("#period-hits") == "1"
    assert page.locator(FIRST_ROW).inner_text().split("\t")[1:] == ["1", "1"]
    assert page.locator(f"{HACKER_NEWS} .value").inner_text() == "Hacker News"
    assert page.locator(f"{HACKER_NEWS} .n").inner_text().startswith("1 hit")
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/d/" in r.url else None)
    return requests


def test_cards_chart_table_and_breakdowns_follow_the_live_stream(service, browser_page):
    namespace = "follow.test"
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, CHROME_UA)
    page = browser_page
    page.goto(f"{service.url}/d/{namespace}/site?days=7")
    requests = _served_with_one_view(page)

    # Two views from elsewhere: another visitor (another browser), through Hacker News too.
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, FIREFOX_UA)
    _view(service, namespace, {"p": "/about", "r": "news.ycombinator.com"}, FIREFOX_UA)
    _until(page, lambda: page.inner_text("#today"), "3 (2 unique)")
    _until(page, lambda: page.inner_text("#period-hits"), "3")
    assert page.inner_text("#uniques") == "2"
    assert page.inner_text("#total") == "3"
    assert page.locator(FIRST_ROW).inner_text().split("\t")[1:] == ["3", "2"]
    assert page.locator(f"{HACKER_NEWS} .n").inner_text().startswith("3 hits")
    assert "3 hits" in page.get_attribute("svg.chart", "aria-label")
    assert page.locator("details:has(#day-rows)").get_attribute("open") is not None  # still open
    assert "/about" in page.locator("#top-pages").inner_text()
    assert all(url.endswith("?days=7") for url in requests), requests  # its own query
    assert len(requests) <= 2  # throttled: a read for the change, not one per event
    assert page.title().startswith("follow.test/site: 3 hits")
    assert axe_violations(page) == []
    page.screenshot(path=str(output_folder() / "dashboard-live.png"), full_page=True)

    # A hidden tab reads nothing: "Today" follows the event, the rest waits to be shown.
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: true, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    reads = len(requests)
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, CHROME_UA)
    _until(page, lambda: page.inner_text("#today"), "4 (2 unique)")
    page.wait_for_timeout(6000)  # past the 5 s between reads
    assert len(requests) == reads
    assert page.inner_text("#period-hits") == "3"
    page.evaluate(
        "Object.defineProperty(document, 'hidden', {value: false, configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    _until(page, lambda: page.inner_text("#period-hits"), "4")
    assert page.locator(f"{HACKER_NEWS} .n").inner_text().startswith("4 hits")


def test_the_owner_sets_the_sites_time_zone_from_its_dashboard(service, browser_page, page_errors):
    namespace = "zone.test"
    _view(service, namespace, {"p": "/"}, CHROME_UA)
    _view(service, namespace, {"p": "/"}, FIREFOX_UA)
    page = browser_page
    page.goto(f"{service.url}/d/{namespace}/site")
    assert page.inner_text("figcaption").endswith("per UTC day")
    page.focus("#timezone summary")  # by keyboard: the form is folded away
    page.keyboard.press("Enter")
    assert page.locator("#zone-name").input_value() == "UTC"
    assert axe_violations(page) == []
    page.select_option("#zone-name", "Europe/Paris")
    page.fill("#zone-key", "not the key")
    with page.expect_navigation():
        page.click("#timezone button[type=submit]")
    assert page.locator("#zone-error").inner_text() == "That is not this site's admin key."
    page_errors.remove(
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    )
    assert page.locator("#zone-name").input_value() == "Europe/Paris"  # as chosen
    assert axe_violations(page) == []
    page.fill("#zone-key", OPERATOR)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(f"/d/{namespace}/site?timezone=Europe%2FParis#timezone")
    assert "Europe/Paris" in page.inner_text("#zone-set")
    assert page.inner_text("#timezone summary") == "Time zone: Europe/Paris"
    assert page.inner_text("figcaption").endswith("per day in Europe/Paris")
    assert page.locator("#zone-name").input_value() == "Europe/Paris"
    assert axe_violations(page) == []
    page.locator("#timezone").screenshot(path=str(output_folder() / "dashboard-zone.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    page.locator("#timezone").screenshot(path=str(output_folder() / "dashboard-zone-360.png"))
    # compared with the previous period: its dashed line, keyed in the caption
    page.goto(f"{service.url}/d/{namespace}/site?days=7&compare=previous")
    assert page.locator("svg.chart polyline.previous").count() == 1
    # (its zone: Europe/Paris, or UTC still in a worker that read it within the minute)
    assert "hits of the previous 7 days, per " in page.inner_text("figcaption")
    page.locator("#chart").screenshot(path=str(output_folder() / "dashboard-compare-360.png"))
    assert axe_violations(page) == []
    # The API's setting, the same (read where it is kept: another worker may answer the API
    # with the zone it read before for up to a minute, store/zones.py)
    client = service.redis.client()
    (meta,) = client.keys(f"*c:{{{namespace}/site}}:m")
    assert client.hget(meta, "timezone") == b"Europe/Paris"


def _claim_private(service, namespace: str) -> str:
    """The site made private by the operator (docs/API.md, "Who owns a site"): its fresh key."""
    request = urllib.request.Request(
        f"{service.url}/api/v1/counters/{namespace}/site/claim",
        data=b"private=1",
        headers={
            "Authorization": f"Bearer {OPERATOR}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["admin_key"]


def _set_hidden(page, hidden: bool) -> None:
    page.evaluate(
        f"Object.defineProperty(document, 'hidden', {{value: {str(hidden).lower()},"
        " configurable: true}); document.dispatchEvent(new Event('visibilitychange'))"
    )


def test_the_owners_private_dashboard_reads_itself_again_every_30_seconds(service, browser_page):
    """No stream on a private page (it needs the admin key, which the page never holds): the
    owner's page reads itself again every 30 seconds, its cookie carried by the same-origin
    read. The page's clock is Playwright's: 30 seconds pass at once."""
    namespace = "private-live.test"
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, CHROME_UA)
    key = _claim_private(service, namespace)
    page = browser_page
    page.clock.install()  # before the page's script reads the time
    dashboard = f"{service.url}/d/{namespace}/site?days=7"
    page.goto(dashboard)
    assert page.locator("#cards").count() == 0  # locked
    page.fill("input[name=admin_key]", key)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.goto(dashboard)
    assert page.get_attribute("#total", "data-refresh") == "30"
    assert page.get_attribute("#total", "data-live") is None
    assert key not in page.content()  # the page never holds the admin key
    requests = _served_with_one_view(page)

    # Two views from elsewhere: nothing moves before the 30 seconds are up ...
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, FIREFOX_UA)
    _view(service, namespace, {"p": "/about", "r": "news.ycombinator.com"}, FIREFOX_UA)
    page.clock.fast_forward("00:25")
    page.wait_for_timeout(1000)
    assert requests == []
    assert page.inner_text("#today") == "1 (1 unique)"
    # ... then one read of the page's own URL, and every figure follows, without a reload.
    page.clock.fast_forward("00:06")
    _until(page, lambda: page.inner_text("#period-hits"), "3")
    assert requests == [dashboard]
    assert page.inner_text("#today") == "3 (2 unique)"
    assert page.inner_text("#uniques") == "2"
    assert page.inner_text("#total") == "3"
    assert page.locator(FIRST_ROW).inner_text().split("\t")[1:] == ["3", "2"]
    assert page.locator(f"{HACKER_NEWS} .n").inner_text().startswith("3 hits")
    assert "3 hits" in page.get_attribute("svg.chart", "aria-label")
    assert "/about" in page.locator("#top-pages").inner_text()
    assert page.locator("details:has(#day-rows)").get_attribute("open") is not None
    assert page.title().startswith(f"{namespace}/site: 3 hits")
    assert axe_violations(page) == []
    page.screenshot(path=str(output_folder() / "dashboard-private-live.png"), full_page=True)

    # A hidden tab reads nothing; shown again after its read came due, it reads once.
    _set_hidden(page, True)
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, CHROME_UA)
    page.clock.fast_forward("00:31")
    page.wait_for_timeout(1000)
    assert len(requests) == 1
    assert page.inner_text("#period-hits") == "3"
    _set_hidden(page, False)
    _until(page, lambda: page.inner_text("#period-hits"), "4")
    assert len(requests) == 2
    assert page.locator(f"{HACKER_NEWS} .n").inner_text().startswith("4 hits")

    # The owner's cookie gone (run out): the read answers the locked page, and the figures
    # stay as they were, not wiped.
    page.context.clear_cookies()
    _view(service, namespace, {"p": "/", "r": "news.ycombinator.com"}, CHROME_UA)
    with page.expect_response(lambda r: r.url == dashboard) as answer:
        page.clock.fast_forward("00:31")
    assert "is private" in answer.value.text()
    page.wait_for_timeout(500)
    assert page.inner_text("#period-hits") == "4"
    assert page.inner_text("#today") == "4 (2 unique)"
    assert page.locator(f"{HACKER_NEWS} .n").inner_text().startswith("4 hits")
    assert page.locator(FIRST_ROW).inner_text().split("\t")[1:] == ["4", "2"]
    assert page.title().startswith(f"{namespace}/site: 4 hits")

    # A stranger (no cookie) still gets the locked page, with no figure on it.
    stranger = page.context.browser.new_context(user_agent=CHROME_UA)
    try:
        locked = stranger.new_page()
        locked.goto(dashboard)
        assert "is private" in locked.content()
        assert locked.locator("#cards, #total, #day-rows, #breakdowns").count() == 0
        assert "Hacker News" not in locked.content()
        assert axe_violations(locked) == []
    finally:
        stranger.close()
