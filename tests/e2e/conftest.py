"""A running service for end-to-end tests: a real redis-server and gunicorn, per module."""

import pytest

from tests.servers import RedisServer, gunicorn_service


@pytest.fixture(scope="module")
def live_service(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("service")
    redis = RedisServer(workdir / "redis").start()
    # Generous create limit: the contract test creates many counters from one address. And
    # live streams: every dashboard a browser test opens streams its total from 127.0.0.1,
    # and a stream left by the page before may not have been seen closed yet (the cap per
    # client itself is tested in tests/unit/test_live.py).
    web = gunicorn_service(
        workdir, redis.url, CREATE_RATE_LIMIT="10000/h", LIVE_STREAMS_PER_CLIENT="64"
    )
    yield web
    web.stop(sig=15)
    redis.stop()
