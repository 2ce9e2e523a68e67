"""REDIS_WAIT_REPLICAS: a hit is answered once a replica has it (a real primary and replica).

The WAIT is written in the hit's own round trip, so this is still one round trip per hit; a
replica that does not answer in REDIS_WAIT_TIMEOUT slows hits down but never fails them.
"""

import os
import signal
import subprocess
import sys
import time

import pytest
from prometheus_client import REGISTRY

from counter import metrics, store
from counter.names import Counter
from tests.servers import REPO, RedisServer, ReplicatedPair, base_env, wait_until

pytestmark = pytest.mark.real_redis
PAGE = Counter("ha", "wait")
SITE = Counter("ha", "site")


@pytest.fixture
def replicated(tmp_path, point_store_at, settings):
    pair = ReplicatedPair(tmp_path).start()
    try:
        point_store_at(pair.primary.url)
        settings.REDIS_WAIT_REPLICAS = 1
        settings.REDIS_WAIT_TIMEOUT = 0.2
        yield pair.primary, pair.replica
    finally:
        pair.stop()


def _lagged() -> float:
    metrics.write_samples()  # what the worker's writer does within a second
    return REGISTRY.get_sample_value("visitorsite_replication_lagged_total") or 0.0


def _total_on(server: RedisServer, counter: Counter) -> int:
    client = server.client()
    keys = client.keys(f"*{{{counter.namespace}/{counter.key}}}:n")
    return int(client.get(keys[0])) if keys else 0


def test_every_answered_hit_is_already_on_the_replica(replicated):
    primary, replica = replicated
    store.hit(PAGE, visitor_id="first")  # loads the script (NOSCRIPT's retry sends 2 WAITs)
    primary.client().config_resetstat()
    lagged = _lagged()
    behind = 0
    for i in range(300):
        total = store.hit(PAGE, visitor_id=f"v{i}").total
        behind += _total_on(replica, PAGE) < total
    site, page = store.hit_page(SITE, PAGE, visitor_id="v-page", path="/a")
    assert behind == 0
    assert (_total_on(replica, SITE), _total_on(replica, PAGE)) == (site.total, page.total)
    assert _lagged() == lagged
    # One WAIT behind each hit (the page script's two counters share one).
    assert primary.client().info("commandstats")["cmdstat_wait"]["calls"] == 301


def test_a_stalled_replica_slows_hits_but_never_fails_them(replicated):
    _primary, replica = replicated
    lagged = _lagged()
    os.kill(replica.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        totals = [store.hit(PAGE, visitor_id=f"v{i}").total for i in range(3)]
        elapsed = time.monotonic() - started
    finally:
        os.kill(replica.process.pid, signal.SIGCONT)
    assert totals == [1, 2, 3]  # counted on the primary and answered
    assert _lagged() - lagged == 3  # and each one reported as not yet replicated
    assert elapsed >= 3 * 0.15  # WAIT held each answer for (about) its whole 0.2 s timeout
    wait_until(lambda: _total_on(replica, PAGE) == 3, timeout=10, what="the replica to catch up")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REDIS_WAIT_REPLICAS": "1", "REDIS_CLUSTER_NODES": "127.0.0.1:7000"}, "not Cluster"),
        ({"REDIS_WAIT_REPLICAS": "1", "REDIS_WAIT_TIMEOUT": "0.5"}, "below REDIS_TIMEOUT"),
        ({"REDIS_WAIT_REPLICAS": "one"}, "whole number"),
        ({"REDIS_WAIT_REPLICAS": "-1"}, "0 or more"),
    ],
)
def test_wait_settings_that_cannot_work_are_refused_at_start(tmp_path, env, message):
    environment = base_env(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="visitorsite.settings")
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", "import visitorsite.settings"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr
