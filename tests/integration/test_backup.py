"""export_counters / import_counters: a round trip gives identical stats, bad files nothing.

On a real redis-server only: backups carry each day's raw HyperLogLog, a Redis string that
fakeredis does not reproduce (it keeps HyperLogLogs as sets).
"""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from counter import store
from counter.names import Counter
from counter.store import pages as store_pages
from counter.store.connection import get_client
from tests.page_names import page_counter

pytestmark = pytest.mark.real_redis
START = datetime(2026, 3, 1, 12, tzinfo=UTC)
COUNTERS = [Counter("site", "home"), Counter("site", "site"), Counter("other", "x")]


def _traffic() -> None:
    for day in range(10):
        now = START + timedelta(days=day)
        for visitor in range(20 + day * 5):
            store.hit(COUNTERS[0], visitor_id=f"{day}-{visitor}", now=now)
        store.hit_page(
            COUNTERS[1], page_counter("site", "/a"), visitor_id=f"p{day}", path="/a", now=now
        )
        store.bot_hit(COUNTERS[0])
    store.create(COUNTERS[2], value=500, meta={"created": 1, "enable_reset": 1})


def _snapshot() -> dict:
    now = START + timedelta(days=9)
    return {
        str(counter): (store.stats(counter, days=30, now=now), store.info(counter).meta)
        for counter in [*COUNTERS, page_counter("site", "/a")]
    }


def _export(tmp_path) -> str:
    path = tmp_path / "backup.jsonl"
    call_command("export_counters", "--output", str(path), stdout=StringIO())
    return str(path)


def test_round_trip_gives_identical_stats(real_store, tmp_path):
    _traffic()
    before = _snapshot()
    path = _export(tmp_path)
    lines = Path(path).read_text().splitlines()
    assert len(lines) == 4
    home = next(r for r in map(json.loads, lines) if (r["namespace"], r["key"]) == ("site", "home"))
    stats = before["site/home"][0]
    # The last day is not settled yet (no hit since): the export counts it like stats does.
    assert home["daily_uniques"]["20260310"] == stats.today.uniques > 0
    assert home["unique_visitor_days"] == stats.unique_visitor_days
    assert home["unique_visitor_days"] == sum(home["daily_uniques"].values())
    get_client().flushall()
    out = StringIO()
    call_command("import_counters", path, "--replace", stdout=out)
    assert "imported 4 counters (replace)" in out.getvalue()
    assert _snapshot() == before
    assert [page[:2] for page in store.top_pages(COUNTERS[1])] == [("/a", 10)]


def test_merge_adds_totals_and_unions_uniques(real_store, tmp_path):
    _traffic()
    before = _snapshot()["site/home"][0]
    path = _export(tmp_path)
    call_command("import_counters", path, stdout=StringIO())  # merge into itself
    after = store.stats(COUNTERS[0], days=30, now=START + timedelta(days=9))
    assert after.total == 2 * before.total
    assert after.bots == 2 * before.bots
    assert [d.hits for d in after.days] == [2 * d.hits for d in before.days]
    assert after.uniques == before.uniques  # the same visitors: a union changes nothing
    assert after.unique_visitor_days == before.unique_visitor_days


def test_dry_run_writes_nothing(real_store, tmp_path):
    _traffic()
    path = _export(tmp_path)
    get_client().flushall()
    out = StringIO()
    call_command("import_counters", path, "--dry-run", stdout=out)
    assert "4 counters, valid" in out.getvalue()
    assert get_client().keys("*") == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "not a JSON object"),
        ('{"namespace": "a b", "key": "k"}', "invalid namespace"),
        ('{"namespace": "a", "key": "k", "total": "7"}', "total must be an integer"),
        ('{"namespace": "a", "key": "k", "daily": {"2026-03-01": 1}}', "not a day"),
        ('{"namespace": "a", "key": "k", "daily": {"' + "\u0662" * 8 + '": 1}}', "not a day"),
        ('{"namespace": "a", "key": "k", "daily": {"20260230": 1}}', "not a date"),
        ('{"namespace": "a", "key": "k", "hll": {"20260301": "!!"}}', "not base64"),
        ('{"namespace": "a", "key": "k", "hll": {"20260301": "aGVsbG8="}}', "not a Redis Hyper"),
        ('{"namespace": "a", "key": "k", "extra": 1}', "unknown fields"),
    ],
)
def test_bad_files_name_the_line_and_write_nothing(real_store, tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"namespace": "ok", "key": "first", "total": 5})
    path.write_text(f"{good}\n\n{line}\n")
    with pytest.raises(CommandError, match=rf"line 3: .*{message}.*nothing was imported"):
        call_command("import_counters", str(path), stdout=StringIO())
    assert get_client().keys("*") == []


def test_export_to_stdout_and_by_namespace(real_store):
    _traffic()
    out = StringIO()
    call_command("export_counters", "--namespace", "other", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["namespace"], r["key"], r["total"]) for r in lines] == [("other", "x", 500)]


def test_pages_imported_into_a_site_with_another_secret_move_to_it(real_store, tmp_path):
    _traffic()
    path = _export(tmp_path)
    get_client().flushall()
    store_pages._kept_secrets().clear()
    # The site here had a view first: a secret of its own, which a merge keeps.
    now = START + timedelta(days=9)
    store.hit_page(COUNTERS[1], page_counter("site", "/b"), visitor_id="x", path="/b", now=now)
    call_command("import_counters", path, stdout=StringIO())
    pages = {page.path: page for page in store.top_pages(COUNTERS[1])}
    assert {path: page.hits for path, page in pages.items()} == {"/a": 10, "/b": 1}
    assert pages["/a"].key == page_counter("site", "/a").key
    assert store.total(Counter("site", pages["/a"].key)) == 10
    site_keys = {c.key for c in store.iter_counters(namespace="site")} - {"home", "site"}
    assert site_keys == {pages["/a"].key, pages["/b"].key}


@pytest.mark.parametrize(
    ("dimensions", "message"),
    [
        ({"@page": {"/\tx": [1, 1]}}, "'@page' is not a dimension with per-page pairs"),
        ({"@": {"/\tx": [1, 1]}}, "'@' is not a dimension with per-page pairs"),
        ({"@referrer": {"news.example": [1, 1]}}, "is not a per-page pair"),
        ({"@referrer": {"\tnews.example": [1, 1]}}, "is not a per-page pair"),
        ({"@event": {"/a\nb\tsignup": [1, 1]}}, "is not a per-page pair"),
        ({"@referrer": ["/\tx"]}, "'@referrer' is not a dimension's object"),
        ({"@campaign": {"/\tspring": [1]}}, r"\['/\\tspring'\] must be \[hits, visitors\]"),
        ({"@country": {"/\tGB": [1, -1]}}, "must be 0 or more"),
    ],
)
def test_a_malformed_per_page_pair_is_refused(real_store, tmp_path, dimensions, message):
    path = tmp_path / "bad.jsonl"
    record = {"namespace": "shop.example", "key": "site", "dimensions": {"20260310": dimensions}}
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(CommandError, match=rf"line 1: dimensions\[20260310\].*{message}"):
        call_command("import_counters", str(path), stdout=StringIO())
    assert get_client().keys("*") == []
