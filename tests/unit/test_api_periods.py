"""The v1 reads' periods: days=N, from/to, compare=previous, and every bad period a 400
that names the problem (the series, the breakdown, the CSV)."""

import json
from datetime import timedelta

import pytest

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
DETAIL = "/api/v1/counters/site/home"
CSV = "/api/v1/counters/site/home.csv"
BREAKDOWN = "/api/v1/counters/shop.example/site/breakdown?dimension=page"


@pytest.fixture
def api(client, day):
    """site/home: 1 hit on 03-08, 2 on 03-09 (two visitors), 3 on 03-10 (today; three)."""
    client.defaults.update(HTTP_USER_AGENT=BROWSER, HTTP_HOST="localhost")
    today = day.current
    for back, count in ((2, 1), (1, 2), (0, 3)):
        day.set(today - timedelta(days=back))
        for n in range(count):
            client.get("/hit/site/home", REMOTE_ADDR=f"203.0.113.{n + 1}")
    day.set(today)
    return client


def _view(client, page: str, address: str) -> None:
    body = json.dumps({"p": page, "w": "l"})
    sent = client.post("/e/shop.example", data=body, content_type="text/plain", REMOTE_ADDR=address)
    assert sent.status_code == 204


def test_days_reads_the_last_days_with_totals(api):
    body = api.get(DETAIL + "?days=2").json()
    assert body["period"] == {"from": "2026-03-09", "to": "2026-03-10", "days": 2}
    assert body["totals"] == {"hits": 5, "uniques": 5}  # visitor ids are salted per day
    assert [d["date"] for d in body["days"]] == ["2026-03-09", "2026-03-10"]
    assert "previous_totals" not in body
    assert api.get(DETAIL).json()["period"]["days"] == 30  # the default


def test_from_to_reads_those_days_and_today_stays_today(api):
    body = api.get(DETAIL + "?from=2026-03-08&to=2026-03-09").json()
    assert body["period"] == {"from": "2026-03-08", "to": "2026-03-09", "days": 2}
    assert [(d["date"], d["hits"]) for d in body["days"]] == [
        ("2026-03-08", 1),
        ("2026-03-09", 2),
    ]
    assert body["totals"] == {"hits": 3, "uniques": 3}
    assert body["today"] == {"hits": 3, "uniques": 3}  # not the range's last day
    assert api.get(DETAIL + "?from=2026-03-10&to=2026-03-10").json()["totals"]["hits"] == 3


def test_compare_previous_adds_the_previous_periods_totals(api):
    body = api.get(DETAIL + "?days=1&compare=previous").json()
    assert body["totals"] == {"hits": 3, "uniques": 3}
    assert body["previous_period"] == {"from": "2026-03-09", "to": "2026-03-09", "days": 1}
    assert body["previous_totals"] == {"hits": 2, "uniques": 2}
    ranged = api.get(DETAIL + "?from=2026-03-09&to=2026-03-10&compare=previous").json()
    assert ranged["previous_period"] == {"from": "2026-03-07", "to": "2026-03-08", "days": 2}
    assert ranged["previous_totals"] == {"hits": 1, "uniques": 1}


def test_the_csv_takes_the_period(api):
    lines = api.get(CSV + "?from=2026-03-08&to=2026-03-09").content.decode().splitlines()
    assert lines == ["date,hits,uniques", "2026-03-08,1,1", "2026-03-09,2,2"]
    assert len(api.get(CSV + "?days=14").content.decode().splitlines()) == 15


def test_the_breakdown_takes_the_period_and_compares_per_row(api, day):
    _view(api, "/", "203.0.113.1")
    day.set(day.current + timedelta(days=1))
    _view(api, "/", "203.0.113.1")
    _view(api, "/", "203.0.113.2")
    _view(api, "/new", "203.0.113.1")
    body = api.get(BREAKDOWN + "&days=1&compare=previous").json()
    assert body["days"] == 1
    assert body["period"] == {"from": "2026-03-11", "to": "2026-03-11", "days": 1}
    assert body["previous_period"] == {"from": "2026-03-10", "to": "2026-03-10", "days": 1}
    assert body["rows"] == [
        {"value": "/", "hits": 2, "visitors": 2, "previous_hits": 1, "previous_visitors": 1},
        {"value": "/new", "hits": 1, "visitors": 1, "previous_hits": 0, "previous_visitors": 0},
    ]
    yesterday = api.get(BREAKDOWN + "&from=2026-03-10&to=2026-03-10").json()
    assert yesterday["rows"] == [{"value": "/", "hits": 1, "visitors": 1}]


BAD = [
    ("days=abc", "days must be a whole number"),
    ("days=0", "days must be between 1 and 400"),
    ("days=401", "days must be between 1 and 400"),
    ("days=7&from=2026-03-01&to=2026-03-02", "not both"),
    ("from=2026-03-01", "from needs to"),
    ("to=2026-03-01", "to needs from"),
    ("from=2026-03-05&to=2026-03-01", "from (2026-03-05) is after to (2026-03-01)"),
    ("from=2026-13-01&to=2026-03-01", "from must be a date YYYY-MM-DD"),
    ("from=2026-03-01&to=tomorrow", "to must be a date YYYY-MM-DD"),
    ("from=2026-03-01&to=2026-03-11", "to (2026-03-11) is in the future"),
    ("from=2025-01-01&to=2026-03-01", "before the oldest day kept (2025-02-04)"),
]
BAD_COMPARE = [
    ("days=7&compare=yes", "compare must be 'previous'"),
    ("days=201&compare=previous", "compare=previous needs the 201 days before"),
]


@pytest.mark.parametrize(
    ("url", "query", "message"),
    [
        *[(url, *bad) for url in (DETAIL + "?", CSV + "?", BREAKDOWN + "&") for bad in BAD],
        *[(url, *bad) for url in (DETAIL + "?", BREAKDOWN + "&") for bad in BAD_COMPARE],
    ],
)
def test_a_bad_period_is_a_400_naming_the_problem(api, url, query, message):
    _view(api, "/", "203.0.113.1")
    response = api.get(url + query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]


def test_the_csv_compares_as_every_read_does(api):
    # compare=previous is read now (the previous days' columns): its refusals are the reads'
    assert api.get(CSV + "?days=201&compare=previous").status_code == 400
    lines = api.get(CSV + "?days=200&compare=previous").content.decode().splitlines()
    assert lines[0] == "date,hits,uniques,previous_day,previous_hits,previous_uniques"
    assert lines[-1] == "2026-03-10,3,3,2025-08-22,0,0"
    assert len(lines) == 201
