"""Nothing identifying stays on disk past its period: on the embedded (real) server, a day's
salt and its visitor ids are in the AOF while the day lasts, and in no file of the data
directory once its salt has expired and the rewrite has run."""

from datetime import UTC, datetime

import pytest

from counter import store
from counter.domain import visitors
from counter.embedded import EmbeddedRedis
from counter.names import SEED_COUNTER
from tests.servers import wait_until

pytestmark = pytest.mark.real_redis

AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
ADDRESSES = [f"203.0.113.{n}" for n in range(1, 6)]


@pytest.fixture
def embedded(tmp_path, point_store_at):
    server = EmbeddedRedis(tmp_path / "var")
    server.ensure_running()
    point_store_at(server.url)
    visitors._salts.clear()
    yield server
    for timer in list(visitors._forgetting.values()):
        timer.cancel()
    visitors._forgetting.clear()
    visitors._salts.clear()
    server.stop()


def _on_disk(server: EmbeddedRedis) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(server.data_dir.rglob("*")) if p.is_file())


def _rewrite_done(server: EmbeddedRedis) -> bool:
    info = server.client().info("persistence")
    return not info["aof_rewrite_in_progress"] and not info["aof_rewrite_scheduled"]


def test_a_past_days_salt_and_visitor_ids_leave_every_file(embedded, client, day):
    day.set(datetime(2026, 3, 10, 12, tzinfo=UTC))
    for address in ADDRESSES:
        response = client.get("/count", REMOTE_ADDR=address, HTTP_USER_AGENT=AGENT)
        assert response.status_code == 200
    raw = embedded.client()
    salt_key = next(iter(raw.keys("*salt:d20260310")))
    salt_hex = raw.get(salt_key)
    salt = bytes.fromhex(salt_hex.decode())
    ids = [
        visitors.visitor_id(ip=a, user_agent=AGENT, namespace="default", salt=salt).encode()
        for a in ADDRESSES
    ]
    assert "d20260310" in visitors._forgetting  # the process asked for the rewrite later
    disk = _on_disk(embedded)
    assert salt_hex in disk
    assert all(visitor in disk for visitor in ids)  # what this test looks for is there

    # The next day, once the salt has expired (past the grace): both clocks moved.
    day.set(datetime(2026, 3, 11, 0, 12, tzinfo=UTC))
    raw.pexpire(salt_key, 1)
    for window in raw.keys("*:r"):  # the rate windows (a minute) are long gone by then too
        raw.pexpire(window, 1)
    wait_until(
        lambda: not raw.keys("*salt:d20260310") and not raw.keys("*:r"),
        timeout=5,
        what="the salt and the rate windows to expire",
    )
    assert client.get("/count", REMOTE_ADDR=ADDRESSES[0], HTTP_USER_AGENT=AGENT).status_code == 200

    timer = visitors._forgetting["d20260310"]
    timer.cancel()
    timer.function(*timer.args)  # what the timer runs, now
    assert "d20260310" not in visitors._forgetting
    wait_until(lambda: _rewrite_done(embedded), timeout=10, what="the rewrite")
    wait_until(
        lambda: salt_hex not in _on_disk(embedded), timeout=10, what="the old AOF files to go"
    )
    disk = _on_disk(embedded)
    assert salt not in disk
    assert [visitor for visitor in ids if visitor in disk] == []
    # The counts stay: the day's history and its unique visitors (an HLL's registers).
    stats = store.stats(SEED_COUNTER, days=2)
    assert stats.total == 6
    assert [(d.hits, d.uniques) for d in stats.days] == [(5, 5), (1, 1)]
    # One process does it: the others find the period claimed.
    assert store.rewrite_aof_after("d20260310", claim_seconds=60) == "claimed"


def test_no_rewrite_while_the_salt_lives(embedded, client, day):
    day.set(datetime(2026, 3, 10, 12, tzinfo=UTC))
    client.get("/count", REMOTE_ADDR=ADDRESSES[0], HTTP_USER_AGENT=AGENT)
    forks = embedded.client().info("stats")["total_forks"]
    assert store.rewrite_aof_after("d20260310", claim_seconds=60) == "salt alive"
    assert embedded.client().info("stats")["total_forks"] == forks
