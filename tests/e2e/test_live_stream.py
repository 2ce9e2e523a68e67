"""A live count through gunicorn (gevent workers, as shipped): a hit's new total arrives on
an open server-sent-events stream within a few seconds."""

import http.client
import json
import time

from tests.servers import http_get

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Firefox/133.0"}


def _next_count(lines, deadline: float) -> dict:
    for line in lines:
        if line.startswith(b"data: "):
            return json.loads(line.removeprefix(b"data: "))
        assert time.monotonic() < deadline, "no event in time"
    raise AssertionError("the stream ended")


def test_a_hit_arrives_on_the_live_stream(live_service):
    assert http_get(f"{live_service.url}/hit/live.example/visits", headers=BROWSER)[0] == 200
    connection = http.client.HTTPConnection("127.0.0.1", live_service.port, timeout=10)
    try:
        connection.request("GET", "/live/live.example/visits", headers=BROWSER)
        response = connection.getresponse()
        assert response.status == 200
        assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
        lines = iter(response.fp.readline, b"")
        assert _next_count(lines, time.monotonic() + 5)["value"] == 1
        started = time.monotonic()
        http_get(f"{live_service.url}/hit/live.example/visits", headers=BROWSER)
        assert _next_count(lines, started + 5)["value"] == 2
        assert time.monotonic() - started < 3  # within a second or two
    finally:
        connection.close()
