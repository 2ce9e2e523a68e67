"""The dashboard in a real browser (Debian's Chromium through Playwright)."""

import os
from pathlib import Path

import pytest

from tests.e2e.accessibility import axe_violations
from tests.e2e.browsers import CHROME_UA, CHROMIUM, output_folder, watched_page
from tests.servers import http_get

pytestmark = pytest.mark.e2e
if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip("Debian's chromium is missing (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def browser_page(live_service):
    with watched_page([]) as page:
        yield page


def test_create_hit_and_read_the_dashboard(live_service, browser_page):
    page = browser_page
    page.goto(f"{live_service.url}/")
    assert page.title().startswith("visitorsite")
    page.fill("input[name=namespace]", "browser.test")
    page.fill("input[name=key]", "home")
    page.click("button[type=submit]")
    assert "Save this now" in page.content()
    page.click("text=Open the dashboard")
    for _ in range(5):
        assert http_get(f"{live_service.url}/hit/browser.test/home")[0] == 200
    page.reload()
    assert page.inner_text("#total") == "5"
    # The total is live: a hit elsewhere shows within a second or two, without a reload.
    assert http_get(f"{live_service.url}/hit/browser.test/home")[0] == 200
    for _ in range(25):  # 5 s (wait_for_function evaluates a string: the page's CSP refuses it)
        if page.inner_text("#total") == "6":
            break
        page.wait_for_timeout(200)
    assert page.inner_text("#total") == "6"
    assert page.locator("svg.chart rect.hits").count() == 1
    page.click("text=90 days")
    assert page.url.endswith("?days=90")
    assert page.locator("details tbody tr").count() == 90
    assert page.locator("#script").count() == 0  # a plain counter: no page-script snippet
    assert axe_violations(page) == []
    page.screenshot(path=str(output_folder() / "dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    # The chart's labels stay readable (its 720-unit viewBox shrinks them with it) ...
    label_px = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('svg.chart text')).fontSize)"
        " * document.querySelector('svg.chart').getBoundingClientRect().width / 720"
    )
    assert label_px >= 9, label_px
    # ... and the embed snippets show whole, not clipped to a line.
    clipped = page.evaluate(
        "[...document.querySelectorAll('.snippets textarea')]"
        ".filter(box => box.scrollHeight > box.clientHeight + 1).length"
    )
    assert clipped == 0
    page.screenshot(path=str(output_folder() / "dashboard-360.png"), full_page=True)


def test_private_dashboard_without_and_with_the_key(live_service, browser_page):
    page = browser_page
    page.goto(f"{live_service.url}/")
    page.fill("input[name=namespace]", "browser.test")
    page.fill("input[name=key]", "secret")
    page.check("input[name=private]")
    page.click("button[type=submit]")
    key = page.inner_text("#admin-key")
    page.goto(f"{live_service.url}/d/browser.test/secret")
    assert page.locator("#total").count() == 0
    assert "is private" in page.content()
    page.fill("input[name=admin_key]", "wrong")
    page.click("button[type=submit]")
    assert "That is not this counter" in page.content()
    page.fill("input[name=admin_key]", key)
    page.click("button[type=submit]")
    assert page.inner_text("#total") == "0"


def test_the_landing_page_lists_the_dashboards_this_browser_created(live_service, browser_page):
    page = browser_page
    page.goto(f"{live_service.url}/")
    assert page.locator("#mine").is_hidden()  # nothing created here yet
    for key in ("one", "two"):
        page.goto(f"{live_service.url}/")
        page.fill("input[name=namespace]", "mine.test")
        page.fill("input[name=key]", key)
        page.click("button[type=submit]")
        assert "Save this now" in page.content()
    assert axe_violations(page) == []  # the "created" page, with its link kept
    stored = page.evaluate("localStorage.getItem('visitorsite:dashboards')")
    assert page.inner_text("#admin-key") not in stored  # links only, never the key
    page.goto(f"{live_service.url}/")
    assert page.locator("#mine li a").all_inner_texts() == ["mine.test/two", "mine.test/one"]
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []
    page.click("#mine li a >> nth=1")
    assert page.url.endswith("/d/mine.test/one")
    page.goto(f"{live_service.url}/")
    page.click("#mine button")
    assert page.locator("#mine").is_hidden()
    page.reload()
    assert page.locator("#mine").is_hidden()


def _view(service, body: dict, agent: str) -> None:
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{service.url}/e/bars.test",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "text/plain", "User-Agent": agent},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 204


def test_a_sites_breakdowns_are_ranked_bar_lists_readable_at_360_px(live_service, browser_page):
    iphone = (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
    )
    long_path = "/blog/" + "a-very-long-article-name-" * 4
    for n in range(6):
        referrer = "news.ycombinator.com" if n % 2 else f"blog-{n}.example"
        _view(live_service, {"p": "/", "r": referrer, "s": "newsletter", "w": "l"}, CHROME_UA)
    _view(live_service, {"p": long_path, "r": "", "w": "s"}, iphone)
    _view(live_service, {"e": "signup", "p": "/"}, CHROME_UA)

    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_service.url}/d/bars.test/site?days=7")
    sections = page.locator(".breakdowns section")
    assert sections.count() == 8
    referrers = page.locator("#b-referrer + ol li .value").all_inner_texts()
    assert referrers[0] == "Hacker News"  # 3 views: the longest bar, first
    widths = page.locator("#b-referrer + ol li rect").evaluate_all(
        "rects => rects.map(r => r.width.baseVal.value)"
    )
    assert widths[0] == 100
    assert all(w < 100 for w in widths[1:])
    assert "signup" in page.locator("#b-event + ol").inner_text()
    assert "mobile" in page.locator("#b-device + ol").inner_text()
    hacker_news = page.locator("#b-referrer + ol li").first.inner_text()
    assert hacker_news.endswith("3 hits\n1 visitor · 50%")  # in the row: touch, keyboard too
    assert "% converted" in page.locator("#b-event + ol").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=str(output_folder() / "dashboard-site.png"), full_page=True)
    page.set_viewport_size({"width": 360, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    font_px = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.bars li')).fontSize)"
    )
    assert font_px >= 12
    page.screenshot(path=str(output_folder() / "dashboard-site-360.png"), full_page=True)
    # A page's dashboard: titled by its path, with the way back to its site's
    page.click("ol.pages a >> nth=0")
    assert page.title().startswith("/ on bars.test")
    assert page.locator("h1").inner_text() == "/"
    assert page.locator("#script").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert axe_violations(page) == []
    page.click("text=the site's dashboard")
    assert page.url.endswith("/d/bars.test/site")


def test_the_period_picker_by_keyboard_and_at_360_px(live_service, browser_page):
    from datetime import UTC, datetime, timedelta

    for _ in range(3):
        assert http_get(f"{live_service.url}/hit/periods.test/home")[0] == 200
    today = datetime.now(UTC).date()
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"{live_service.url}/d/periods.test/home")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    page.screenshot(path=str(output_folder() / "dashboard-period-360.png"), full_page=True)

    first = (today - timedelta(days=2)).isoformat()
    page.fill("#period-from", first)  # the date input, as a person's picker leaves it
    page.dispatch_event("#period-from", "change")
    assert page.get_attribute("#period-to", "min") == first  # period.js: to >= from
    page.focus("#period-compare")
    page.keyboard.press("Space")
    page.focus("form.period button")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert f"from={first}&to={today.isoformat()}&compare=previous" in page.url
    assert page.locator("#period-hits").inner_text().startswith("3")
    assert "vs previous 3 days" in page.locator("#period-hits .change").inner_text()
    assert page.locator("details tbody tr").count() == 3

    # Links, not clicks: each page's live stream counts against the client's streams.
    assert page.get_attribute("text=7 days", "href") == "?days=7&compare=previous"
    stop = f"?from={first}&to={today.isoformat()}"
    assert page.get_attribute("text=Stop comparing", "href") == stop
