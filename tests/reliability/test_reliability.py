"""The reliability scenarios of `make reliability`, at test size: each must pass.

Real redis-server and gunicorn on loopback: concurrency, a killed worker, a killed Redis
(fsync always and everysec), Redis unreachable, Redis slow, hostile input, privacy.
"""

import pytest

from bench import crowds, hostile, reliability

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("scenario", "kwargs"),
    [
        (reliability.concurrency, {"clients": 16, "hits": 30, "counters": 1}),
        (reliability.concurrency, {"clients": 16, "hits": 30, "counters": 100}),
        (reliability.worker_kill, {"clients": 16, "seconds": 2.0}),
        (reliability.redis_kill, {"fsync": "always", "clients": 16, "seconds": 2.0}),
        (reliability.redis_kill, {"fsync": "everysec", "clients": 16, "seconds": 2.0}),
        (reliability.redis_unreachable, {"clients": 16, "seconds": 2.0}),
        (reliability.slow_redis, {"clients": 8}),
        (reliability.hostile_input, {"rounds": 40}),
        (reliability.privacy, {"hits": 30}),
        (reliability.beacon_flood, {"posts": 300, "cap": 50}),
        (reliability.out_of_memory, {"maxmemory": "4mb"}),
        (reliability.private_probes, {}),
        (hostile.new_names, {"requests": 720}),
        (hostile.first_hits_race, {"clients": 20}),
        (hostile.rotating_agents, {"hits": 700}),
        (crowds.stalled_crowd, {"deadline": 3.0}),
    ],
    ids=[
        "one-counter", "100-counters", "worker-kill", "redis-kill-always",
        "redis-kill-everysec", "redis-unreachable", "slow-redis", "hostile-input", "privacy",
        "beacon-flood", "out-of-memory", "private-probes", "new-names", "first-hits-race",
        "rotating-agents", "stalled-crowd-shipped-cap",
    ],
)  # fmt: skip
def test_scenario(scenario, kwargs, tmp_path):
    row = scenario(tmp_path, **kwargs)
    assert row.passed, reliability.table([row])
    assert row.lost == 0 or "everysec" in row.scenario
