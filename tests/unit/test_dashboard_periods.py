"""The dashboard's period: the picker, from/to, the comparison and its changes, links that
keep the period, and a bad period said on the page (never shown as if it were asked)."""

import json
import re
from datetime import timedelta

import pytest

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture
def web(client, day):
    """site/home: 1 hit on 03-08, 2 on 03-09, 3 on 03-10 (today)."""
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    today = day.current
    for back, count in ((2, 1), (1, 2), (0, 3)):
        day.set(today - timedelta(days=back))
        for n in range(count):
            client.get("/count/site/home", REMOTE_ADDR=f"203.0.113.{n + 1}")
    day.set(today)
    return client


def _page(web, query: str, status: int = 200) -> str:
    response = web.get(f"/d/site/home?{query}")
    assert response.status_code == status
    return response.content.decode()


def _card(body: str, card: str) -> str:
    return re.search(rf'<dd id="{card}">(.*?)</dd>', body, re.S)[1]


def test_the_picker_offers_the_periods_and_marks_the_chosen_one(web):
    body = _page(web, "")
    assert re.findall(r'<nav class="ranges" aria-label="Period">.*?</nav>', body, re.S)
    for query, label in (
        ("days=1", "Today"),
        ("from=2026-03-09&amp;to=2026-03-09", "Yesterday"),
        ("days=7", "7 days"),
        ("days=30", "30 days"),
        ("days=90", "90 days"),
    ):
        assert f'href="?{query}">{label}</a>' in body or f'href="?{query}" aria-current' in body
    assert 'href="?days=30" aria-current="page">30 days' in body  # the default
    assert '<label for="period-from">From</label>' in body
    assert 'type="date" id="period-from" name="from" value="2026-02-09"' in body
    assert 'min="2025-02-04" max="2026-03-10" required' in body
    assert '<label for="period-compare">Compare with the previous period</label>' in body
    assert "<script>" not in body
    assert "style=" not in body
    assert '/static/dashboard/period.js" defer' in body


def test_yesterday_and_a_custom_range_show_those_days(web):
    body = _page(web, "from=2026-03-09&to=2026-03-09")
    assert 'aria-current="page">Yesterday' in body
    assert "Hits, yesterday" in body
    assert _card(body, "period-hits") == "2"
    assert body.count("<tr><td>") == 1
    assert _card(body, "today").startswith("3 ")  # today stays today

    body = _page(web, "from=2026-03-08&to=2026-03-09")
    assert "Showing 2026-03-08 to 2026-03-09 (2026-03-08 to 2026-03-09, 2 days)" in body
    assert body.count("<tr><td>") == 2
    assert 'aria-current="page"' not in body  # no preset is this range
    assert 'value="2026-03-08"' in body
    assert 'value="2026-03-09"' in body
    assert 'href="/api/v1/counters/site/home.csv?from=2026-03-08&amp;to=2026-03-09"' in body


def test_comparing_shows_each_cards_change_and_links_keep_it(web):
    body = _page(web, "days=1&compare=previous")
    assert _card(body, "period-hits") == '3 <small class="change">+50 % vs previous day</small>'
    assert '<small class="change">+50 % vs previous day</small>' in _card(body, "uniques")
    assert 'href="?days=7&amp;compare=previous">7 days' in body
    assert 'href="?days=1">Stop comparing' in body
    assert 'id="period-compare" name="compare" value="previous" checked' in body
    assert "compared with the previous day (2026-03-09 to 2026-03-09)" in body

    plain = _page(web, "days=7")
    assert 'class="change"' not in plain
    assert 'href="?days=7&amp;compare=previous">Compare with the previous period' in plain
    too_long = _page(web, "days=201")  # its previous 201 days are past the retention (400)
    assert 'class="compare"' not in too_long


def test_a_site_dashboards_rows_show_their_change(web, day):
    def view(page: str, address: str) -> None:
        body = json.dumps({"p": page, "w": "l"})
        web.post("/e/blog.example", data=body, content_type="text/plain", REMOTE_ADDR=address)

    view("/", "203.0.113.1")
    day.set(day.current + timedelta(days=1))
    view("/", "203.0.113.1")
    view("/", "203.0.113.2")
    body = web.get("/d/blog.example/site?days=1&compare=previous").content.decode()
    assert "change vs previous day: </span>+100 %</small>" in body
    assert "breakdown?dimension=referrer&amp;days=1&amp;compare=previous" in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=abc", "days must be a whole number in ASCII digits 0-9, got &#x27;abc&#x27;"),
        ("days=0", "days must be between 1 and 400"),
        ("from=2026-03-05&to=2026-03-01", "from (2026-03-05) is after to (2026-03-01)"),
        ("from=2026-03-01", "from needs to"),
        ("from=2026-02-30&to=2026-03-01", "from must be a date YYYY-MM-DD"),
        ("from=2026-03-01&to=2026-03-11", "to (2026-03-11) is in the future"),
        ("days=300&compare=previous", "compare=previous needs the 300 days before"),
    ],
)
def test_a_bad_period_is_said_on_the_page(web, query, message):
    body = _page(web, query, status=400)
    shown = re.search(r'<p class="error" role="alert" id="period-error">(.*?)</p>', body)[1]
    assert message in shown
    assert shown.endswith("Showing the last 30 days instead.")
    assert body.count("<tr><td>") == 30


def test_a_short_retention_offers_only_the_periods_it_keeps(web, settings):
    settings.COUNTER_RETENTION_DAYS = 7
    body = _page(web, "")
    assert body.count("<tr><td>") == 7  # the default, held to the retention
    assert 'href="?days=7" aria-current="page">7 days' in body
    assert "30 days</a>" not in body
    assert "90 days</a>" not in body
    assert 'class="compare"' not in body  # the previous 7 days are not kept
    assert "days must be between 1 and 7" in _page(web, "days=8", status=400)


def test_the_chart_draws_the_previous_period_and_the_csv_link_compares_too(web):
    body = _page(web, "from=2026-03-10&to=2026-03-10&compare=previous")
    chart = re.search(r"<svg .*?</svg>", body, re.S)[0]
    assert chart.count('<polyline class="previous"') == 1
    assert "previous day: 2026-03-09 to 2026-03-09, 2 hits" in chart
    assert "; the previous day: 2 hits" in chart  # in the chart's accessible name
    caption = re.search(r"<figcaption>(.*?)</figcaption>", body, re.S)[1]
    assert '<span class="key previous"></span> hits of the previous day, per UTC day' in caption
    csv = re.search(r'<a href="([^"]+)" download>', body)[1]
    assert (
        csv
        == "/api/v1/counters/site/home.csv?from=2026-03-10&amp;to=2026-03-10&amp;compare=previous"
    )
    plain = _page(web, "days=3")
    assert 'class="previous"' not in plain
    assert "key previous" not in plain
