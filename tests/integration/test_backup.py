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


# A site's per-page pairs ('@<dimension>': a breakdown's page=, referrer=, campaign=) through
# a backup: the site counted by the page script's endpoint, a settled day and today.

SHOP = Counter("shop.example", "site")
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
GB, US = "81.2.69.142", "8.8.8.8"  # addresses the shipped table places in GB and the US
PAGES = ("/", "/pricing", "/blog", "(other)")
REFERRERS = ("news.example", "(none)", "search.example")
CAMPAIGNS = ("newsletter", "spring")


def _send(client, agent: str = "", address: str = GB, **body) -> None:
    response = client.post(
        "/e/shop.example",
        data=json.dumps(body),
        content_type="text/plain",
        REMOTE_ADDR=address,
        **({"HTTP_USER_AGENT": agent} if agent else {}),
    )
    assert response.status_code == 204, response.content


def _shop_traffic(client, day) -> tuple[str, str]:
    """Views and events on several pages, yesterday (settled by today's first view) and
    today (not settled): the two days' fields."""
    yesterday = datetime(2026, 3, 9, 12, tzinfo=UTC)
    day.set(yesterday)
    _send(client, p="/", r="news.example", s="newsletter")
    _send(client, p="/pricing", r="news.example", address=US)
    _send(client, p="/pricing", agent=IPHONE, address=US)  # no referrer: (none)
    _send(client, p="/blog", r="search.example", s="spring")
    _send(client, e="signup", p="/pricing")
    day.set(yesterday + timedelta(days=1))
    _send(client, p="/blog", r="news.example", s="newsletter")  # settles yesterday
    _send(client, p="/blog", r="search.example", agent=IPHONE, address=US)
    _send(client, p="/", r="", s="spring")  # a navigation
    _send(client, e="signup", p="/blog")
    _send(client, e="share", p="/")
    _send(client, e="signup", p="/never-viewed")  # no view today: the page "(other)"
    return "20260309", "20260310"


def _narrowed(fields: tuple[str, ...]) -> dict:
    """Every narrowed breakdown of each day: each page's own values of each dimension, the
    pages of each referrer and campaign; and the site's own breakdowns."""
    answers: dict = {}
    for field in fields:
        on = datetime.strptime(field, "%Y%m%d").date()
        span = {"first": on, "last": on}
        for page in PAGES:
            for dimension in (*store.PAGE_DIMENSIONS, "event"):
                rows = store.page_breakdown(SHOP, dimension, page=page, **span)
                answers[field, "page", page, dimension] = rows
        for referrer in REFERRERS:
            answers[field, "referrer", referrer] = store.page_breakdown(
                SHOP, "page", referrer=referrer, **span
            )
        for campaign in CAMPAIGNS:
            answers[field, "campaign", campaign] = store.page_breakdown(
                SHOP, "page", campaign=campaign, **span
            )
        answers[field, "site"] = store.breakdowns(SHOP, **span)
    return answers


def _shop_backup(tmp_path) -> Path:
    path = tmp_path / "shop.jsonl"
    call_command("export_counters", "--namespace", "shop.example", "--output", str(path))
    return path


def _site_record(path: Path) -> dict:
    records = map(json.loads, path.read_text().splitlines())
    return next(r for r in records if r["key"] == "site")


def _api_rows(client, query: str) -> dict[str, tuple[int, int]]:
    response = client.get(f"/api/v1/counters/shop.example/site/breakdown?{query}")
    assert response.status_code == 200, response.content
    return {row["value"]: (row["hits"], row["visitors"]) for row in response.json()["rows"]}


@pytest.mark.parametrize("replace", [True, False])
def test_a_backup_carries_the_per_page_pairs(real_store, client, day, tmp_path, replace):
    fields = _shop_traffic(client, day)
    before = _narrowed(fields)
    assert before[fields[0], "referrer", "news.example"] == [
        store.Row("/", 1, 1),
        store.Row("/pricing", 1, 1),
    ]
    assert before[fields[1], "page", "/blog", "event"] == [store.Row("signup", 1, 1)]
    api_before = _api_rows(client, "dimension=referrer&page=/blog")
    assert api_before == {"search.example": (2, 2), "news.example": (1, 1)}  # both days
    path = _shop_backup(tmp_path)
    dimensions = _site_record(path)["dimensions"]
    for field in fields:  # the settled day and today alike
        assert {"@referrer", "@campaign", "@event", "@browser"} <= set(dimensions[field])
    assert dimensions[fields[0]]["@referrer"]["/pricing\t(none)"] == [1, 1]
    get_client().flushall()
    args = [str(path), "--replace"] if replace else [str(path)]
    call_command("import_counters", *args, stdout=StringIO())
    assert _narrowed(fields) == before
    assert _api_rows(client, "dimension=referrer&page=/blog") == api_before
    assert _api_rows(client, "dimension=page&referrer=news.example&days=1") == {"/blog": (1, 1)}


def test_a_backup_merged_into_a_site_adds_its_per_page_pairs(real_store, client, day, tmp_path):
    fields = _shop_traffic(client, day)
    before = _narrowed(fields)
    path = _shop_backup(tmp_path)
    call_command("import_counters", str(path), stdout=StringIO())  # into itself: doubled
    after = _narrowed(fields)
    assert after.keys() == before.keys()
    for key, rows in before.items():
        if key[-1] == "site":
            continue
        doubled = [store.Row(r.value, 2 * r.hits, 2 * r.visitors) for r in rows]
        assert after[key] == doubled, key
    prefix = store.dimensions.site_prefix(SHOP)
    for field in fields:  # each '#|' field counts the distinct values, pairs included
        stored = get_client().hgetall(f"{prefix}x:{field}")
        # yesterday settled (its 's|' lines), today live: imported into its 'i|' lines
        lines = b"s|" if b"settled" in stored else b"i|"
        assert int(stored[b"#|@referrer"]) == stored[lines + b"@referrer"].count(b"\n") + 1
        assert int(stored[b"#|referrer"]) == stored[lines + b"referrer"].count(b"\n") + 1
    assert b"settled" in get_client().hgetall(f"{prefix}x:{fields[0]}")


def test_the_per_page_cap_and_its_other_survive_a_merge(
    real_store, client, day, tmp_path, settings
):
    settings.DIMENSION_PAGE_VALUES_PER_DAY = 2
    for i in range(4):
        _send(client, p="/", r=f"site{i}.example")
    path = _shop_backup(tmp_path)
    pairs = _site_record(path)["dimensions"]["20260310"]["@referrer"]
    assert pairs == {"/\tsite0.example": [1, 1], "/\tsite1.example": [1, 1], "(other)": [2, 1]}
    _send(client, p="/", r="site0.example", address=US)  # a live day, merged into
    call_command("import_counters", str(path), stdout=StringIO())
    assert _api_rows(client, "dimension=referrer&page=/") == {
        "site0.example": (3, 3),
        "site1.example": (2, 2),
    }
    prefix = store.dimensions.site_prefix(SHOP)
    stored = get_client().hgetall(f"{prefix}x:20260310")
    assert stored[b"#|@referrer"] == b"2"  # the whole "(other)" is past the cap: not counted
    # a live day stays live: the imported figures in 'i|' lines, the views' own in 'h|'
    assert b"/\tsite0.example\t1\t1" in stored[b"i|@referrer"].split(b"\n")
    assert b"(other)\t2\t1" in stored[b"i|@referrer"].split(b"\n")
    assert stored[b"h|@referrer|/\tsite0.example"] == b"2"
    assert b"settled" not in stored


def test_an_old_backup_without_per_page_pairs_still_imports(real_store, client, day, tmp_path):
    fields = _shop_traffic(client, day)
    before = _narrowed(fields)
    path = _shop_backup(tmp_path)
    record = _site_record(path)
    for by_dimension in record["dimensions"].values():
        for dimension in [d for d in by_dimension if d.startswith("@")]:
            del by_dimension[dimension]
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps(record) + "\n")
    call_command("import_counters", str(old), stdout=StringIO())  # merged: pairs kept
    after = _narrowed(fields)
    for key, rows in before.items():
        if key[-1] != "site":
            assert after[key] == rows, key  # the pairs there, as they were
    for field in fields:
        assert after[field, "site"]["campaign"] == [
            store.Row(r.value, 2 * r.hits, 2 * r.visitors)
            for r in before[field, "site"]["campaign"]
        ]
    get_client().flushall()
    call_command("import_counters", str(old), "--replace", stdout=StringIO())
    again = _narrowed(fields)
    assert all(rows == [] for key, rows in again.items() if key[-1] != "site")
    for field in fields:
        assert again[field, "site"] == before[field, "site"]


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
