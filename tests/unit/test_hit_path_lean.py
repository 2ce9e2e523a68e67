"""What the hit path leaves out on purpose (docs/BENCHMARKS.md) stays left out."""

import os
import subprocess
import sys

from tests.servers import REPO

_PROBE = """
import django
from django.core import signals
from django.db import close_old_connections, reset_queries
django.setup()
def receivers(signal):
    return {ref() for _, ref, *_ in signal.receivers}
print(reset_queries in receivers(signals.request_started),
      close_old_connections in receivers(signals.request_started),
      close_old_connections in receivers(signals.request_finished))
"""


def test_no_database_housekeeping_runs_per_request_without_a_database():
    # A fresh process: Django's test client reconnects these receivers after each request.
    from counter.apps import has_database

    assert not has_database()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "visitorsite.settings"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.stdout.split() == ["False", "False", "False"], result.stderr


def test_count_is_answered_without_clickjacking_or_slash_middleware(client):
    response = client.get("/count")
    assert response.status_code == 200
    for header in ("X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"):
        assert header not in response  # a text count is not a document
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware stays


def test_count_has_a_content_length_so_servers_need_not_chunk(client):
    response = client.get("/count")
    assert response["Content-Length"] == str(len(response.content)) == "16"
