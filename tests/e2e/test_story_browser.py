"""The whole story in a real browser: an owner claims a site and sets its time zone; visitors
on four devices come to it from two other sites, directly and from a campaign, move about it
(a single-page app's navigation, a link) and do things (events), all through the real page
script in Chromium; then the owner reads the site's dashboard in Chromium and clicks through
it: a referrer, back, a page, the comparison, a custom period.

Every figure expected is worked out here from the visits this test makes (VISITORS), never
copied from an answer. Beacons are waited for by polling the API, never by sleeping. The
made-up hosts (story.test, news.test, blog.test) are one local web server, reached through
Chromium's --host-resolver-rules; the page script and the dashboard are the live service's.
"""

import functools
import json
import os
import re
import threading
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.accessibility import axe_violations
from tests.e2e.browsers import CHROME_UA, CHROMIUM, launch_as_a_visitor
from tests.servers import ProofSite, RedisServer, free_port, gunicorn_service, http_get

pytestmark = pytest.mark.e2e
NAMESPACE = "story.test"
MAC_SAFARI = (  # iPadOS Safari asks for desktop pages with a Mac's User-Agent
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
DIRECT = "Direct"  # the dashboard's label of a landing without a referrer

if not Path(CHROMIUM).exists() and not os.environ.get("CI"):
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True
    )


@dataclass(frozen=True)
class Visitor:
    device: str  # the device class the dashboard should say: what this visitor emulates
    emulate: str | None  # a Playwright device (its User-Agent, viewport, touch), or desktop
    landing: str  # the path (and query) the visitor lands on
    came_from: str | None = None  # the host whose link the visitor follows; None: typed in
    then: tuple[tuple[str, str], ...] = ()  # ("spa", path): pushState; ("link", path): a click
    events: tuple[str, ...] = ()  # visitorsite.event(name), on the last page
    agent: str | None = None  # a User-Agent instead of the device's
    touch_points: int = 0  # the touch points the browser reports (an iPad's five)


VISITORS = (
    Visitor("desktop", None, "/", came_from="news.test", then=(("spa", "/pricing"),),
            events=("signup",), agent=CHROME_UA),
    Visitor("mobile", "iPhone 13",
            "/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring"),
    Visitor("tablet", "iPad Pro 11", "/", came_from="blog.test", then=(("link", "/pricing"),),
            events=("signup",), agent=MAC_SAFARI, touch_points=5),
    Visitor("mobile", "Pixel 7", "/docs", events=("download",)),
)  # fmt: skip


@dataclass(frozen=True)
class View:
    visitor: int
    path: str
    referrer: str | None  # a landing's: the host it came from, or DIRECT; None after it
    campaign: str | None
    device: str


def _campaign(query: str) -> str | None:
    """The landing URL's utm parts as the service joins them (docs/DIMENSIONS.md)."""
    asked = parse_qs(query)
    parts = [asked.get(f"utm_{name}", [""])[0] for name in ("source", "medium", "campaign")]
    return " / ".join(part for part in parts if part) or None


def _views() -> list[View]:
    views = []
    for n, visitor in enumerate(VISITORS):
        path, _, query = visitor.landing.partition("?")
        referrer = visitor.came_from or DIRECT
        views.append(View(n, path, referrer, _campaign(query), visitor.device))
        views += [View(n, to, None, None, visitor.device) for _, to in visitor.then]
    return views


def _events() -> list[tuple[int, str, str]]:
    """(visitor, page, name): each event is sent from the visitor's last page."""
    return [
        (n, ([visitor.landing.partition("?")[0]] + [to for _, to in visitor.then])[-1], name)
        for n, visitor in enumerate(VISITORS)
        for name in visitor.events
    ]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _percent(part: int, whole: int) -> str:
    """As the dashboard writes a share: one decimal, none when it is whole."""
    return f"{round(100 * part / whole, 1):g}%"


def _expected(pairs: list[tuple[str, int]], *, converted_over: int | None = None) -> dict:
    """Rows as the dashboard shows them, from (value, visitor) pairs, one per hit."""
    hits: dict[str, int] = defaultdict(int)
    visitors: dict[str, set[int]] = defaultdict(set)
    for value, visitor in pairs:
        hits[value] += 1
        visitors[value].add(visitor)
    whole = sum(hits.values())
    rows = {}
    for value, n in hits.items():
        seen = len(visitors[value])
        context = f"{_plural(seen, 'visitor')} · {_percent(n, whole)}"
        if converted_over is not None:
            context += f" · {_percent(seen, converted_over)} converted"
        rows[value] = (_plural(n, "hit"), context)
    return rows


def _shown(page, dimension: str) -> dict:
    """A bar list as the browser shows it: label -> (hits, visitors and shares)."""
    rows = page.locator(f"#b-{dimension} + ol li").evaluate_all(
        """items => items.map(li => [li.querySelector('.value').innerText,
             li.querySelector('.n').innerText, li.querySelector('.context').innerText])"""
    )
    return {label: (hits, context) for label, hits, context in rows}


class _Sites(BaseHTTPRequestHandler):
    """story.test: the site, with the page script, on every path (a single-page app's server
    does the same), links to its pages; any other host: an article linking to the site."""

    def __init__(self, *args, script: str, **kwargs):
        self.script = script
        super().__init__(*args, **kwargs)

    def do_GET(self):
        host = self.headers.get("Host", "")
        if host.startswith(NAMESPACE + ":"):
            links = "".join(f'<a href="{path}">{path}</a> ' for path in ("/", "/pricing", "/docs"))
            body = f"<h1>Story</h1><nav>{links}</nav>{self.script}"
        else:
            to = parse_qs(urlsplit(self.path).query)["to"][0]
            body = f'<h1>Article</h1><a id="go" href="http://{NAMESPACE}:{host.split(":")[1]}{to}">Go</a>'
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
            f'<link rel="icon" href="data:,"></head><body>{body}</body></html>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proof():
    with ProofSite() as site:
        yield site


@pytest.fixture(scope="module")
def service(tmp_path_factory, proof):
    workdir = tmp_path_factory.mktemp("service")
    redis = RedisServer(workdir / "redis").start()
    web = gunicorn_service(
        workdir,
        redis.url,
        CLAIM_PROOF_URL=f"http://127.0.0.1:{proof.port}/{{namespace}}/claim.txt",
        LIVE_STREAMS_PER_CLIENT="64",
    )
    yield web
    web.stop(sig=15)
    redis.stop()


@pytest.fixture(scope="module")
def sites(service):
    """The port of story.test, news.test and blog.test (one server, told apart by Host)."""
    script = f'<script src="{service.url}/js/v1/site.js" data-namespace="{NAMESPACE}" defer>'
    handler = functools.partial(_Sites, script=script + "</script>")
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _send(service, method: str, path: str, body: dict | None = None, key: str = "") -> dict:
    request = urllib.request.Request(
        f"{service.url}{path}",
        data=json.dumps(body or {}).encode(),
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def _get(service, path: str) -> dict:
    status, _, body = http_get(f"{service.url}{path}")
    assert status == 200, (path, status, body)
    return json.loads(body)


def _wait_for(read, expected, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (seen := read()) != expected:
        assert time.monotonic() < deadline, f"{what}: {seen!r}, not {expected!r}"
        time.sleep(0.05)


def _far_zone(now: datetime) -> str:
    """A zone whose date is not UTC's now, so that a day under the wrong date shows: far
    east (UTC+14) from 10:00 UTC, far west (UTC-11) before."""
    return "Pacific/Kiritimati" if now.hour >= 10 else "Pacific/Pago_Pago"


def _claim_and_set_zone(service, proof) -> str:
    """The owner claims the site (the proof published on its host) and sets its time zone
    with the admin key: the site is made before any view, its days the zone's from the first."""
    offer = _get(service, f"/api/v1/counters/{NAMESPACE}/site/claim")
    proof.files[f"/{NAMESPACE}/claim.txt"] = offer["proof"] + "\n"
    key = offer["admin_key"]
    claimed = _send(service, "POST", f"/api/v1/counters/{NAMESPACE}/site/claim", key=key)
    assert claimed["value"] == 0
    zone = _far_zone(datetime.now(UTC))
    answer = _send(service, "PATCH", f"/api/v1/counters/{NAMESPACE}/site", {"timezone": zone}, key)
    assert answer["timezone"] == zone
    return zone


def _visit(playwright, browser, visitor: Visitor, port: int, service, counted: dict) -> None:
    """One visitor's visit, each view and event waited for on the API."""
    options = {}
    if visitor.emulate:
        options = dict(playwright.devices[visitor.emulate])
        options.pop("default_browser_type")
    if visitor.agent:
        options["user_agent"] = visitor.agent
    context = browser.new_context(**options)
    page = context.new_page()
    if visitor.touch_points:  # Chromium's touch emulation reports one point unless told
        cdp = context.new_cdp_session(page)
        cdp.send(
            "Emulation.setTouchEmulationEnabled",
            {"enabled": True, "maxTouchPoints": visitor.touch_points},
        )
    site = f"http://{NAMESPACE}:{port}"
    totals = f"/api/v1/counters/{NAMESPACE}/site?days=1"

    def viewed():
        counted["views"] += 1
        _wait_for(lambda: _get(service, totals)["total"], counted["views"], "the page views")

    if visitor.came_from:
        page.goto(f"http://{visitor.came_from}:{port}/article?to={quote(visitor.landing)}")
        page.click("#go")
    else:
        page.goto(site + visitor.landing)
    viewed()
    for how, path in visitor.then:
        if how == "spa":
            page.evaluate("path => history.pushState({}, '', path)", path)
        else:
            page.click(f'nav a[href="{path}"]')
        viewed()
    events = f"/api/v1/counters/{NAMESPACE}/site/breakdown?dimension=event&days=1"
    for name in visitor.events:
        page.evaluate("name => visitorsite.event(name)", name)
        counted["events"] += 1
        _wait_for(
            lambda: sum(row["hits"] for row in _get(service, events)["rows"]),
            counted["events"],
            "the events",
        )
    context.close()


def _no_violations(page, state: str) -> None:
    violations = axe_violations(page)
    assert violations == [], (state, violations)


def test_a_site_from_its_claim_to_its_dashboard_clicked_through(service, proof, sites):
    from playwright.sync_api import sync_playwright

    zone = _claim_and_set_zone(service, proof)
    views, events = _views(), _events()
    visitors = len(VISITORS)
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = launch_as_a_visitor(playwright, "--host-resolver-rules=MAP *.test 127.0.0.1")
        counted = {"views": 0, "events": 0}
        for visitor in VISITORS:
            _visit(playwright, browser, visitor, sites, service, counted)

        # The days are the site's: today's views under the zone's date, not UTC's.
        today = datetime.now(ZoneInfo(zone)).date()
        assert today != datetime.now(UTC).date()
        series = _get(service, f"/api/v1/counters/{NAMESPACE}/site?days=2")
        assert series["timezone"] == zone
        assert series["days"] == [
            {"date": (today - timedelta(days=1)).isoformat(), "hits": 0, "uniques": 0},
            {"date": today.isoformat(), "hits": len(views), "uniques": visitors},
        ]

        context = browser.new_context(user_agent=CHROME_UA, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        dashboard = f"{service.url}/d/{NAMESPACE}/site"
        page.goto(dashboard)
        _check_the_whole_site(page, views, events, today)
        assert f"per day in {zone}" in page.inner_text("figcaption")
        _no_violations(page, "the site's dashboard")
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
        page.set_viewport_size({"width": 1280, "height": 900})

        # A referrer: the pages its visitors landed on
        page.locator("#b-referrer + ol").get_by_role("link", name=DIRECT, exact=True).click()
        page.wait_for_url(re.compile(r"referrer=%28none%29"))
        assert "Filtered to visitors from Direct" in page.inner_text("#filter")
        assert "visitors from Direct" in page.title()
        landed = [(v.path, v.visitor) for v in views if v.referrer == DIRECT]
        assert _shown(page, "page") == _expected(landed)
        assert page.locator(".breakdowns section").count() == 1
        _no_violations(page, "filtered to a referrer")
        page.click("#remove-filter")
        page.wait_for_url(dashboard + "?days=30")
        assert page.locator("#filter").count() == 0
        assert _shown(page, "referrer") == _expected(
            [(v.referrer, v.visitor) for v in views if v.referrer]
        )

        # A page: that page's own breakdowns
        page.locator("#b-page + ol").get_by_role("link", name="/pricing", exact=True).click()
        page.wait_for_url(re.compile(r"page=%2Fpricing"))
        _check_the_page(page, views, events, "/pricing")
        own = page.get_attribute("#filter a >> text=this page's own dashboard", "href")
        assert re.fullmatch(rf"/d/{re.escape(NAMESPACE)}/p\.[0-9a-f]+", own)
        assert page.get_attribute("ol.pages a:has(code:text-is('/pricing'))", "href") == own
        _no_violations(page, "filtered to a page")

        # The comparison: every figure's change against the previous 30 days (none: "new")
        page.click("a.compare")
        page.wait_for_url(re.compile(r"compare=previous"))
        assert "page=%2Fpricing" in page.url  # the filter kept
        assert "new vs previous 30 days" in page.inner_text("#period-hits")
        assert "new vs previous 30 days" in page.inner_text("#uniques")
        changes = page.locator("#b-referrer + ol .change").all_inner_texts()
        on_pricing = {view.referrer for view in views if view.path == "/pricing" and view.referrer}
        assert len(changes) == len(on_pricing)  # a marker on each row
        assert all(change.endswith("new") for change in changes)
        _no_violations(page, "compared")

        # A custom period: yesterday and today, in the site's days
        page.fill("#period-from", (today - timedelta(days=1)).isoformat())
        page.fill("#period-to", today.isoformat())
        with page.expect_navigation():
            page.click("form.period button")
        asked = f"from={(today - timedelta(days=1)).isoformat()}&to={today.isoformat()}"
        assert asked in page.url
        assert "page=%2Fpricing" in page.url
        assert page.inner_text("#period-hits").startswith(f"{len(views)} ")
        days = page.locator("details tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
        yesterday = (today - timedelta(days=1)).isoformat()
        assert days == [[today.isoformat(), str(len(views)), str(visitors)], [yesterday, "0", "0"]]
        _check_the_page(page, views, events, "/pricing", compared=True)
        _no_violations(page, "a custom period")
        page.set_viewport_size({"width": 360, "height": 740})
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        context.close()
        browser.close()
    assert errors == []


def _check_the_whole_site(page, views: list[View], events: list, today) -> None:
    visitors = len({view.visitor for view in views})
    assert page.inner_text("#total") == str(len(views))
    assert page.inner_text("#period-hits") == str(len(views))
    assert page.inner_text("#uniques") == str(visitors)
    assert page.inner_text("#today") == f"{len(views)} ({visitors} unique)"
    first_day = page.locator("details tbody tr").first.locator("td").all_text_contents()
    assert first_day == [today.isoformat(), str(len(views)), str(visitors)]
    assert _shown(page, "referrer") == _expected(
        [(v.referrer, v.visitor) for v in views if v.referrer]
    )
    assert _shown(page, "device") == _expected([(v.device, v.visitor) for v in views])
    assert "tablet" in _shown(page, "device")  # the iPad behind a Mac's User-Agent
    assert _shown(page, "campaign") == _expected(
        [(v.campaign, v.visitor) for v in views if v.campaign]
    )
    assert _shown(page, "page") == _expected([(v.path, v.visitor) for v in views])
    assert _shown(page, "event") == _expected(
        [(name, visitor) for visitor, _, name in events], converted_over=visitors
    )


def _check_the_page(page, views: list[View], events: list, path: str, compared=False) -> None:
    """A page's own breakdowns (hits without the comparison's change markers)."""
    on_page = [view for view in views if view.path == path]
    assert f"filtered to page {path}" in page.inner_text("h1")
    assert f"page {path}" in page.title()
    assert page.locator("#b-page").count() == 0

    def shown(dimension):
        rows = _shown(page, dimension)
        if compared:  # "3 hits change vs previous 30 days: new" -> "3 hits"
            rows = {
                k: (re.sub(r"\s*change vs.*", "", hits, flags=re.S), c)
                for k, (hits, c) in rows.items()
            }
        return rows

    assert shown("referrer") == _expected([(v.referrer, v.visitor) for v in on_page if v.referrer])
    assert shown("device") == _expected([(v.device, v.visitor) for v in on_page])
    assert shown("campaign") == _expected([(v.campaign, v.visitor) for v in on_page if v.campaign])
    page_visitors = len({view.visitor for view in on_page})
    assert shown("event") == _expected(
        [(name, visitor) for visitor, where, name in events if where == path],
        converted_over=page_visitors,
    )
