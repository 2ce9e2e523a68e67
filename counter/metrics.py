"""Prometheus metrics, correct under gunicorn's several worker processes.

prometheus_client's multiprocess mode: each worker writes its samples to memory-mapped files in
PROMETHEUS_MULTIPROC_DIR (set, emptied and cleaned up by gunicorn.conf.py), and /metrics merges
them. Chosen over django-prometheus, which adds two middlewares and per-view wrappers for the
same result, because every layer costs on the hit path. Without that variable (runserver,
tests) the metrics live in this process.
"""

import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "visitorsite_http_requests", "HTTP requests answered", ["route", "method", "status"]
)
LATENCY = Histogram(
    "visitorsite_http_request_duration_seconds",
    "Time to answer a request, by route",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
HITS = Counter("visitorsite_hits", "Hits counted (human visits)")
BOT_HITS = Counter("visitorsite_bot_hits", "Hits from bots, filtered out")
REDIS_ERRORS = Counter("visitorsite_redis_errors", "Requests that found Redis unavailable")
REPLICATION_LAGGED = Counter(
    "visitorsite_replication_lagged",
    "Hits answered before REDIS_WAIT_REPLICAS replicas had them (WAIT timed out)",
)
RATE_LIMITED = Counter("visitorsite_rate_limited", "Requests refused by a rate limit", ["action"])


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition; behind METRICS_TOKEN (Bearer) when one is set."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            response = HttpResponse("metrics need the token\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
