"""Embeds in a real browser: a page on another origin uses the badge, the pixel and the script.

Debian's Chromium driven by Playwright (never a downloaded browser). Automation is hidden from
the page (navigator.webdriver is false) and the User-Agent is a desktop Chrome's, because the
script skips automated browsers and the bot filter skips HeadlessChrome: both on purpose.
"""

import functools
import json
import os
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.browsers import CHROME_UA, CHROMIUM, launch_as_a_visitor
from tests.servers import REPO, free_port, http_get

pytestmark = pytest.mark.e2e
LOADS = 3

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


@pytest.fixture(scope="module")
def other_origin(tmp_path_factory, live_service):
    """A static site on another loopback port: a different origin from the service."""
    root = tmp_path_factory.mktemp("site")
    (root / "embed.html").write_text(
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>embed</title>
<link rel="icon" href="data:,"></head><body>
<img id="badge" alt="visitors" src="{live_service.url}/badge/e2e/readme.svg">
<img id="pixel" alt="" width="1" height="1" src="{live_service.url}/i/e2e/mail.gif">
<script src="{live_service.url}/js/v1/site.js" data-namespace="e2e.test" defer></script>
</body></html>"""
    )
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _value(service, path: str) -> int | None:
    status, _, body = http_get(f"{service.url}/get/{path}")
    return int(body.split(":")[1].strip(" }")) if status == 200 else None


def test_badge_pixel_and_script_count_every_load_from_another_origin(live_service, other_origin):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    hosts: set[str] = set()
    with sync_playwright() as playwright:
        browser = launch_as_a_visitor(playwright)
        context = browser.new_context(user_agent=CHROME_UA)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))
        for _ in range(LOADS):
            page.goto(f"{other_origin}/embed.html", wait_until="networkidle")
            assert page.evaluate("navigator.webdriver") is False
        width = page.evaluate("document.getElementById('badge').naturalWidth")
        height = page.evaluate("document.getElementById('badge').naturalHeight")
        output = Path(os.environ.get("TEST_OUTPUT", REPO / "test-output"))
        output.mkdir(exist_ok=True)
        page.screenshot(path=str(output / "embeds.png"))
        context.close()
        browser.close()

    assert errors == []
    assert hosts <= {"127.0.0.1"}, hosts  # no request left this machine
    assert width > 0
    assert height == 20
    # The page's counter has a name keyed by the site's secret: the site's detail names it.
    status, _, body = http_get(f"{live_service.url}/api/v1/counters/e2e.test/site")
    assert status == 200
    [page] = json.loads(body)["pages"]
    assert (page["path"], page["hits"]) == ("/embed.html", LOADS)
    page_key = page["key"]
    assert _value(live_service, "e2e/readme") == LOADS
    assert _value(live_service, "e2e/mail") == LOADS
    assert _value(live_service, "e2e.test/site") == LOADS
    assert _value(live_service, f"e2e.test/{page_key}") == LOADS


def test_chromium_is_debians():
    assert shutil.which("chromium") == CHROMIUM or Path(CHROMIUM).exists()
