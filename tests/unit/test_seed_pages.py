"""The seed's behaviour: / welcomes, /count counts and answers ``Visitor count: N``."""

import time

from counter import store
from counter.names import SEED_COUNTER


def test_welcome_page_keeps_the_seed_greeting_and_shows_the_counter(client):
    response = client.get("/", HTTP_HOST="localhost")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Welcome to my App!" in body
    assert 'href="/count"' in body
    assert "curl http://localhost/count" in body
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_count_increments_and_answers_the_seed_text(client):
    curl = {"HTTP_USER_AGENT": "curl/8.5.0"}  # what a person sends (none: a probe, not counted)
    assert client.get("/count", **curl).content == b"Visitor count: 1"
    response = client.get("/count", **curl)
    assert response.content == b"Visitor count: 2"
    assert response["Content-Type"].startswith("text/plain")
    assert response["Cache-Control"] == "no-store"
    assert store.total(SEED_COUNTER) == 2


def test_count_refuses_post_without_counting(client):
    assert client.post("/count").status_code == 405
    assert store.total(SEED_COUNTER) is None


def test_count_with_redis_unreachable_is_a_fast_503(client, point_store_at):
    from tests.servers import free_port

    point_store_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    started = time.monotonic()
    response = client.get("/count")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.content.startswith(b"Service temporarily unavailable")
    assert b"Traceback" not in response.content
    assert elapsed < 1.0


def test_healthz_answers_without_redis_and_whatever_the_host(client, point_store_at):
    from tests.servers import free_port

    point_store_at(f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_unknown_host_is_refused_on_pages(client):
    assert client.get("/", HTTP_HOST="evil.example").status_code == 400


def test_readyz_says_whether_redis_answers(client, point_store_at):
    from tests.servers import free_port

    ready = client.get("/readyz", HTTP_HOST="10.0.0.7:8000")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    point_store_at(f"redis://127.0.0.1:{free_port()}/0")
    down = client.get("/readyz")
    assert (down.status_code, down.json()) == (503, {"status": "redis unavailable"})
