"""Dimensions in a real browser: a visitor follows a newsletter link from another origin to a
site with the page script, navigates in the page with pushState and signs up (an event);
every dimension is then read back through the API.

Debian's Chromium driven by Playwright, as in test_embeds_browser.py. The service trusts the
loopback proxy, and the browser sends X-Forwarded-For with a public address, as a reverse
proxy in front of the service would: the country is that address'.
"""

import functools
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.browsers import CHROME_UA, CHROMIUM, launch_as_a_visitor
from tests.servers import RedisServer, free_port, gunicorn_service, http_get

pytestmark = pytest.mark.e2e
VISITOR_ADDRESS = "81.2.69.142"  # in GB, per the shipped table
NAMESPACE = "shop.test"

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("service")
    redis = RedisServer(workdir / "redis").start()
    web = gunicorn_service(workdir, redis.url, TRUSTED_PROXIES="127.0.0.1/32")
    yield web
    web.stop(sig=15)
    redis.stop()


class _Pages(BaseHTTPRequestHandler):
    """Answers every path with one page (a single-page app's server does the same)."""

    def __init__(self, *args, page: bytes, **kwargs):
        self.page = page
        super().__init__(*args, **kwargs)

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.page)))
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args):
        pass


def _serve(host: str, page: str):
    handler = functools.partial(_Pages, page=page.encode())
    server = ThreadingHTTPServer((host, free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


@pytest.fixture(scope="module")
def origins(service):
    """The site (127.0.0.1) and a newsletter's page linking to it (localhost): two origins."""
    site, site_url = _serve(
        "127.0.0.1",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>shop</title>
<link rel="icon" href="data:,"></head><body><h1>Shop</h1>
<script src="{service.url}/js/v1/site.js" data-namespace="{NAMESPACE}" defer></script>
</body></html>""",
    )
    newsletter, newsletter_url = _serve(
        "localhost",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>news</title>
<link rel="icon" href="data:,"></head><body>
<a id="offer" href="{site_url}/?utm_source=newsletter">Our offer</a>
</body></html>""",
    )
    yield site_url, newsletter_url
    site.shutdown()
    newsletter.shutdown()


def _get(service, path: str):
    status, _, body = http_get(f"{service.url}{path}")
    assert status == 200, (path, status, body)
    return json.loads(body)


def _total(service) -> int | None:
    status, _, body = http_get(f"{service.url}/get/{NAMESPACE}/site")
    return json.loads(body)["value"] if status == 200 else None


def _wait_for(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_newsletter_visit_a_navigation_and_a_signup_fill_every_dimension(service, origins):
    from playwright.sync_api import sync_playwright

    site_url, newsletter_url = origins
    errors: list[str] = []
    hosts: set[str] = set()
    with sync_playwright() as playwright:
        browser = launch_as_a_visitor(playwright)
        context = browser.new_context(
            user_agent=CHROME_UA,
            viewport={"width": 1280, "height": 800},
            extra_http_headers={"X-Forwarded-For": VISITOR_ADDRESS},
        )
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))
        page.goto(f"{newsletter_url}/issue-12", wait_until="networkidle")
        page.click("#offer")
        page.wait_for_url(f"{site_url}/?utm_source=newsletter")
        _wait_for(lambda: _total(service) == 1, "the landing's page view")
        page.evaluate("history.pushState({}, '', '/pricing')")
        _wait_for(lambda: _total(service) == 2, "the navigation's page view")
        page.evaluate("history.replaceState({plan: 1}, '', '/pricing')")  # the same path
        page.evaluate("visitorsite.event('signup')")
        breakdown = f"/api/v1/counters/{NAMESPACE}/site/breakdown?dimension="
        _wait_for(lambda: _get(service, breakdown + "event")["rows"], "the event")
        context.close()
        browser.close()

    assert errors == []
    assert hosts <= {"127.0.0.1", "localhost"}, hosts  # no request left this machine
    assert _total(service) == 2  # the landing and the navigation; not the event

    def values(dimension: str) -> dict[str, int]:
        rows = _get(service, breakdown + dimension)["rows"]
        return {row["value"]: row["hits"] for row in rows}

    assert values("referrer") == {"localhost": 1}  # the newsletter's host, not the site's
    assert values("campaign") == {"newsletter": 1}
    assert values("browser") == {"Chrome": 2}
    assert values("os") == {"Linux": 2}
    assert values("device") == {"desktop": 2}
    assert values("country") == {"GB": 2}
    assert values("page") == {"/": 1, "/pricing": 1}
    assert values("event") == {"signup": 1}
    visitors = {row["value"]: row["visitors"] for row in _get(service, breakdown + "page")["rows"]}
    assert visitors == {"/": 1, "/pricing": 1}


MAC_SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)


def test_an_ipad_sending_a_mac_user_agent_counts_as_a_tablet(service):
    """iPadOS Safari asks for desktop pages with a Mac's User-Agent: Playwright's iPad Pro 11
    (its viewport, touch, mobile layout) with that User-Agent, and an iPad's five touch
    points (Chromium's touch emulation reports one unless told)."""
    from playwright.sync_api import sync_playwright

    namespace = "ipad.test"
    site, site_url = _serve(
        "127.0.0.1",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tablet</title>
<link rel="icon" href="data:,"></head><body><h1>Tablet</h1>
<script src="{service.url}/js/v1/site.js" data-namespace="{namespace}" defer></script>
</body></html>""",
    )
    breakdown = f"/api/v1/counters/{namespace}/site/breakdown?dimension=device"
    try:
        with sync_playwright() as playwright:
            ipad = dict(playwright.devices["iPad Pro 11"])
            ipad.pop("default_browser_type")
            browser = launch_as_a_visitor(playwright)
            context = browser.new_context(**{**ipad, "user_agent": MAC_SAFARI})
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
            page.goto(f"{site_url}/")
            assert page.evaluate("navigator.maxTouchPoints") == 5
            _wait_for(lambda: http_get(f"{service.url}/get/{namespace}/site")[0] == 200, "the view")
            context.close()
            browser.close()
    finally:
        site.shutdown()
    rows = _get(service, breakdown)["rows"]
    assert {row["value"]: row["hits"] for row in rows} == {"tablet": 1}
