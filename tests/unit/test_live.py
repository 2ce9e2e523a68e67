"""Live counts over server-sent events: what a stream sends, its limits, its privacy."""

import json

import pytest

from counter import store
from counter.names import Counter

COUNTER = Counter("live.example", "visits")


@pytest.fixture
def web(client, settings):
    settings.LIVE_STREAM_SECONDS = 4.0
    client.defaults.update(HTTP_HOST="localhost")
    return client


def _events(response):
    """The stream's events as (name, data), comments and retry lines skipped."""
    for chunk in response.streaming_content:
        text = chunk.decode()
        if text.startswith("event: "):
            name, data = text.strip().split("\n")
            yield name.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def test_a_stream_sends_the_figures_and_each_change(web):
    web.get("/hit/live.example/visits")
    response = web.get("/live/live.example/visits")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    events = _events(response)
    assert next(events) == ("count", {"value": 1, "today": {"hits": 1, "uniques": 1}})
    web.get("/hit/live.example/visits", REMOTE_ADDR="203.0.113.9")
    assert next(events) == ("count", {"value": 2, "today": {"hits": 2, "uniques": 2}})
    assert list(events) == []  # nothing changed until LIVE_STREAM_SECONDS: the stream ends
    response.close()


def test_streams_are_limited_per_client(web, settings):
    settings.LIVE_STREAMS_PER_CLIENT = 1
    web.get("/hit/live.example/visits")
    first = web.get("/live/live.example/visits")
    assert first.status_code == 200
    refused = web.get("/live/live.example/visits")
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert web.get("/live/live.example/visits", REMOTE_ADDR="203.0.113.7").status_code == 200
    first.close()  # the client went away: its place is free again
    assert web.get("/live/live.example/visits").status_code == 200


def test_a_private_counters_stream_needs_its_key(web):
    created = web.get("/create?namespace=live.example&key=secret&private=1")
    key = created["X-Admin-Key"]
    assert web.get("/live/live.example/secret").status_code == 403
    assert web.get(f"/live/live.example/secret?token={key}").status_code == 200


@pytest.mark.parametrize(("path", "status"), [("live.example/none", 404), ("a b/c", 400)])
def test_no_stream_for_a_missing_or_bad_name(web, path, status):
    assert web.get(f"/live/{path}").status_code == status
    assert list(store.iter_counters()) == []


def test_a_stopping_process_ends_its_streams_at_once_with_a_reconnect_hint(web, monkeypatch):
    import threading
    import time

    from counter.web import live

    monkeypatch.setattr(live, "_ending", threading.Event())  # this test's process "stops"
    web.get("/hit/live.example/visits")
    streams = live._watch.streams
    response = web.get("/live/live.example/visits")
    chunks = iter(response.streaming_content)
    assert next(chunks) == b"retry: 3000\n\n"
    assert next(chunks).startswith(b"event: count\n")
    started = time.monotonic()
    live.end_streams()
    assert [chunk.decode() for chunk in chunks] == [live.GOODBYE]
    assert time.monotonic() - started < 0.5  # not LIVE_STREAM_SECONDS, nor a poll
    assert live.GOODBYE.startswith("retry: 1000\n")
    response.close()
    assert live._watch.streams == streams  # its place given back
