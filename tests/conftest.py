"""Shared fixtures: fakeredis by default, a real redis-server and gunicorn on request."""

import logging
import os

import fakeredis
import pytest
from django_redis import get_redis_connection

from tests.servers import RedisServer
from visitorsite.caches import cache_config


def _cache_settings(location: str = "", **options) -> dict:
    return {"default": cache_config(url=location, **options)}


@pytest.fixture(scope="session", autouse=True)
def _quiet_console():
    """The service's console handler writes nowhere while the tests run. It holds the stderr
    it found when Django set logging up (before pytest's capture under ``manage.py test``) and
    writes from its own thread whenever it gets to it, so its lines fell between pytest's
    (hundreds in a full run). pytest's own handlers get the same records (on these loggers
    too) and show them for a failing test only."""
    from visitorsite import logqueue

    queues = {
        handler
        for name in ("visitorsite", "counter")
        for handler in logging.getLogger(name).handlers
        if isinstance(handler, logqueue.QueueHandler)
    }
    consoles = [console for queue in queues for console in queue.handlers]
    logqueue.flush()
    with open(os.devnull, "w") as sink:
        previous = [console.setStream(sink) for console in consoles]
        yield
        logqueue.flush()
        for console, stream in zip(consoles, previous, strict=True):
            console.setStream(stream)


@pytest.fixture
def client():
    """Django's test client, sending a browser's User-Agent as every real client sends one
    (a request with none is a probe: not counted). Tests of that case send "" themselves."""
    from django.test import Client

    return Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0")


@pytest.fixture(autouse=True)
def fake_store(settings):
    """Every test counts in fakeredis (with Lua) unless it asks for a real Redis."""
    settings.CACHES = _cache_settings(
        "redis://fakeredis.invalid:6379/0",
        pool_kwargs={"connection_class": fakeredis.FakeRedisConnection},
    )
    fake = get_redis_connection()  # kept: the test may point the cache elsewhere
    fake.flushall()
    yield
    fake.flushall()


@pytest.fixture(autouse=True)
def _claims_stay_on_this_machine(settings):
    """A claim's proof is never fetched from elsewhere: a closed loopback port unless a test
    serves proofs itself (tests.servers.ProofSite)."""
    settings.CLAIM_PROOF_URL = "http://127.0.0.1:9/{namespace}/claim.txt"
    settings.CLAIM_PRIVATE_ADDRESSES = True


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One real redis-server for the session, on a free loopback port."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def real_store(settings, fake_store, redis_server):
    """Point the counting cache at the real redis-server, empty before and after the test."""
    settings.CACHES = _cache_settings(redis_server.url)
    client = redis_server.client()
    client.flushall()
    yield redis_server
    if redis_server.answers():
        client.flushall()
    client.close()


@pytest.fixture
def point_store_at(settings, fake_store):
    """Point the counting cache at any Redis URL (for servers a test starts itself)."""

    def point(url: str = "", **topology) -> None:
        settings.CACHES = _cache_settings(url, **topology)

    return point


@pytest.fixture(params=["fakeredis", "redis-server"])
def any_store(request):
    """Run the test on fakeredis and again on a real redis-server."""
    if request.param == "redis-server":
        return request.getfixturevalue("real_store")
    return request.getfixturevalue("fake_store")


@pytest.fixture
def day(monkeypatch):
    """Move the service's clock: ``day.set(datetime)``; starts at a fixed UTC noon."""
    from datetime import UTC, datetime

    from counter import clock

    class Clock:
        current = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

        def set(self, moment: datetime) -> None:
            self.current = moment

    fake = Clock()
    monkeypatch.setattr(clock, "now", lambda: fake.current)
    return fake


@pytest.fixture(scope="session", autouse=True)
def _no_process_left_behind():
    """Every test stops what it started; a leak fails the run (and is cleaned up)."""
    from tests.servers import WebServer

    yield
    leaked = [*RedisServer.running, *WebServer.running]
    for server in leaked:
        server.stop()
    assert not leaked, f"processes left running by tests: {leaked}"
