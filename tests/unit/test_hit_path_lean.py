"""What the hit path leaves out on purpose (docs/BENCHMARKS.md) stays left out."""

import os
import subprocess
import sys

from django.conf import settings

from tests.servers import REPO

_PROBE = """
import django
from django.core import signals
from django.core.cache import close_caches
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
django.setup()
def receivers(signal):
    return {ref() for _, ref, *_ in signal.receivers}
print(reset_queries in receivers(signals.request_started),
      close_old_connections in receivers(signals.request_started),
      close_old_connections in receivers(signals.request_finished),
      close_caches in receivers(signals.request_finished),
      reset_urlconf in receivers(signals.request_finished),
      len(signals.request_finished.receivers))
"""


def test_no_database_or_cache_housekeeping_runs_per_request():
    # A fresh process: Django's test client reconnects these receivers after each request.
    from counter.apps import caches_close_nothing, has_database

    assert not has_database()
    assert caches_close_nothing()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "visitorsite.settings"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, env=env, capture_output=True, text=True
    )
    # Django's URLconf reset stays: disconnecting it bought nothing measurable.
    assert result.stdout.split() == ["False"] * 4 + ["True", "1"], result.stderr


def _with_options(options: dict) -> dict:
    return {"default": {**settings.CACHES["default"], "OPTIONS": options}}


def test_caches_are_closed_per_request_when_closing_does_something(settings):
    from counter.apps import caches_close_nothing

    settings.CACHES = _with_options({"CLOSE_CONNECTION": True})
    assert not caches_close_nothing()
    settings.CACHES = _with_options({})
    settings.DJANGO_REDIS_CLOSE_CONNECTION = True
    assert not caches_close_nothing()
    settings.DJANGO_REDIS_CLOSE_CONNECTION = False
    assert caches_close_nothing()
    settings.CACHES = {
        **settings.CACHES,
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    assert not caches_close_nothing()


def test_count_is_answered_without_clickjacking_or_slash_middleware(client):
    response = client.get("/count")
    assert response.status_code == 200
    for header in ("X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"):
        assert header not in response  # a text count is not a document
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware stays


def test_count_has_a_content_length_so_servers_need_not_chunk(client):
    response = client.get("/count")
    assert response["Content-Length"] == str(len(response.content)) == "16"
