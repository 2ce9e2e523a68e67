"""Debian's Chromium for the browser tests, through Playwright (never a downloaded browser)."""

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
