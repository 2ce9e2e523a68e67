"""Prometheus metrics, correct under gunicorn's several worker processes.

prometheus_client's multiprocess mode: each worker writes its samples to memory-mapped files in
PROMETHEUS_MULTIPROC_DIR (set, emptied and cleaned up by gunicorn.conf.py), and /metrics merges
them. Chosen over django-prometheus, which adds two middlewares and per-view wrappers for the
same result, because every layer costs on the hit path. Without that variable (runserver,
tests) the metrics live in this process.

Samples are recorded with ``count`` and ``observe``, which queue them; a daemon thread writes
them to the metric values once a second, and ``/metrics`` writes its own process' queue before
it answers, so a scrape is at most a second behind. In multiprocess mode each write is a lock,
a ``getpid()`` and a pack into the memory-mapped file: the four samples of a hit cost 30k
instructions, 6 % of the request, where queueing them costs a few hundred
(docs/BENCHMARKS.md). A worker that exits writes its queue; one killed outright loses at most
its last second of samples.
"""

import atexit
import hmac
import importlib.metadata
import logging
import math
import os
import threading
import time
from collections import deque
from collections.abc import Iterator

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
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger("counter.metrics")

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


class DataVersions(Collector):
    """The data that goes stale, released as packages (docs/DIMENSIONS.md): the release this
    process runs of each, as ``visitorsite_data_version{data=..., version=...} 1``. A gauge
    made at each scrape, not a metric with a value file: prometheus_client's Info has no
    multiprocess mode, and a package changes only with a restart."""

    PACKAGES = ("ua-parser-builtins", "iptocc", "crawlerdetect", "pycountry")

    def __init__(self) -> None:
        self.versions = {name: _installed_version(name) for name in self.PACKAGES}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "visitorsite_data_version",
            "Release of the User-Agent rules, IP table, crawler list and country names in use",
            labels=["data", "version"],
        )
        for name, version in self.versions.items():
            family.add_metric([name, version], 1)
        yield family


def _installed_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


DATA_VERSIONS = DataVersions()  # once per process
REGISTRY.register(DATA_VERSIONS)

WRITE_INTERVAL = 1.0  # seconds between the writer's passes over the queue

_Sample = Counter | Histogram  # a metric without labels, or a labelled child
_queue: deque[tuple[_Sample, float]] = deque()  # append and popleft are atomic: no lock
_writer: threading.Thread | None = None
_writer_lock = threading.Lock()


def count(metric: Counter, amount: float = 1) -> None:
    """Add ``amount`` to a counter (or a labelled child) within a second."""
    _queue.append((metric, amount))
    if _writer is None:
        _start_writer()


def observe(metric: Histogram, value: float) -> None:
    """Record ``value`` in a histogram (or a labelled child) within a second."""
    _queue.append((metric, value))
    if _writer is None:
        _start_writer()


def write_samples() -> None:
    """Write the queued samples to their metrics: one write per metric and bucket touched."""
    grouped: dict[_Sample, list[float]] = {}
    try:
        while True:
            metric, value = _queue.popleft()
            grouped.setdefault(metric, []).append(value)
    except IndexError:
        pass
    for metric, values in grouped.items():
        try:
            if isinstance(metric, Histogram):
                for value in values:
                    metric.observe(value)
            else:
                metric.inc(math.fsum(values))
        except Exception:  # neither the other metrics nor the writer may stop (the queue grows)
            logger.exception("Could not write %d samples of %r", len(values), metric)


def _start_writer() -> None:
    global _writer
    with _writer_lock:
        if _writer is None:
            _writer = threading.Thread(target=_write_forever, name="metrics-writer", daemon=True)
            _writer.start()


def _write_forever() -> None:
    while True:
        time.sleep(WRITE_INTERVAL)
        write_samples()


def _forget_writer() -> None:
    """In a forked child: the writer thread did not come along; the queue is the parent's."""
    global _writer, _writer_lock
    _writer = None
    _writer_lock = threading.Lock()
    _queue.clear()


os.register_at_fork(after_in_child=_forget_writer)
atexit.register(write_samples)  # a worker's graceful exit (gunicorn's SIGTERM, max_requests)


def _registry() -> CollectorRegistry:
    """Every process' metrics (gunicorn's workers, merged), or this process' own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(DATA_VERSIONS)
        return registry
    return REGISTRY


def requests_answered() -> int:
    """The HTTP requests this host's web processes answered since they started (the
    ``visitorsite_http_requests`` samples, summed): CountAPI's ``requests`` in /stats, at
    no cost to a hit. A second behind at most; other hosts of a deployment not included."""
    write_samples()
    total = 0.0
    for family in _registry().collect():
        if family.name == "visitorsite_http_requests":
            total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return int(total)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text exposition; behind METRICS_TOKEN (Bearer) when one is set."""
    token = settings.METRICS_TOKEN
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            response = HttpResponse("metrics need the token\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    write_samples()
    response = HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
