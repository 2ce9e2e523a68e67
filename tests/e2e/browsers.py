"""Debian's Chromium for the browser tests, through Playwright (never a downloaded browser)."""

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from tests.servers import REPO

CHROMIUM = "/usr/bin/chromium"
CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def launch_as_a_visitor(playwright, *args: str):
    """Chromium as a visitor's: automation hidden from the page (navigator.webdriver is
    false), because the page script skips automated browsers, on purpose. ``args``: more of
    Chromium's switches (such as --host-resolver-rules, for sites under made-up names)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-blink-features=AutomationControlled",
            *args,
        ],
    )


@contextlib.contextmanager
def watched_page(errors: list[str]) -> Iterator:
    """A page of a fresh Chromium with a desktop Chrome's User-Agent, watched: its console
    errors and script errors go to ``errors`` (a test takes out those it caused on purpose)
    and must be none at the end (CSP violations show up there), and it may reach no host but
    the loopback one."""
    from playwright.sync_api import sync_playwright

    hosts: set[str] = set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(user_agent=CHROME_UA)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))
        yield page
        context.close()
        browser.close()
    assert errors == []
    assert hosts <= {"127.0.0.1"}, hosts


def output_folder() -> Path:
    """Where browser tests leave screenshots for review (TEST_OUTPUT, else test-output/)."""
    output = Path(os.environ.get("TEST_OUTPUT", REPO / "test-output"))
    output.mkdir(exist_ok=True)
    return output
