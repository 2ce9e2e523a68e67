"""The operator's page in a real browser: its figures, sorting, 360 px, and axe-core."""

import pytest

from tests.e2e.accessibility import axe_violations
from tests.e2e.browsers import CHROME_UA, CHROMIUM
from tests.servers import RedisServer, gunicorn_service, http_get

pytestmark = pytest.mark.e2e
TOKEN = "operator-browser-token-0123"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is missing (apt-get install chromium)")
    workdir = tmp_path_factory.mktemp("service")
    redis = RedisServer(workdir / "redis").start()
    web = gunicorn_service(workdir, redis.url, ADMIN_TOKEN=TOKEN)
    yield web
    web.stop(sig=15)
    redis.stop()


def test_the_operator_page_lists_sorts_and_passes_axe(service):
    from playwright.sync_api import sync_playwright

    for _ in range(3):
        assert http_get(f"{service.url}/hit/busy.example/home")[0] == 200
    assert http_get(f"{service.url}/hit/a-very-long-namespace-for-a-narrow-screen/key")[0] == 200
    assert http_get(f"{service.url}/operator")[0] == 404
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(user_agent=CHROME_UA)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{service.url}/operator?token={TOKEN}")
        names = page.locator("table.operator tbody td:first-child a").all_inner_texts()
        assert names[0] == "busy.example/home"
        assert page.inner_text("#sum-total") == "4"
        page.click("text=by name")
        names = page.locator("table.operator tbody td:first-child a").all_inner_texts()
        assert names == sorted(names)
        assert axe_violations(page) == []
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.click("text=busy.example/home")
        assert page.inner_text("#total") == "3"
        context.close()
        browser.close()
    assert errors == []
