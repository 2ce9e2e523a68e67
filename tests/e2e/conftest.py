"""A running service for end-to-end tests: a real redis-server and gunicorn, per module."""

import pytest

from tests.servers import RedisServer, gunicorn_service


@pytest.fixture(scope="module")
def live_service(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("service")
    redis = RedisServer(workdir / "redis").start()
    # Generous create limit: the contract test creates many counters from one address.
    web = gunicorn_service(workdir, redis.url, CREATE_RATE_LIMIT="10000/h")
    yield web
    web.stop(sig=15)
    redis.stop()
