"""Middleware: the liveness probe, and the one place where an unavailable store becomes a 503."""

import json
import logging
import time

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse
from django.shortcuts import render

from counter import metrics, store
from counter.api import json_response
from counter.permissions import HiddenPage, MadeByPageScript, RateLimited
from counter.store import CounterAtLimit, HitRateLimited, StoreUnavailable
from visitorsite import logqueue

logger = logging.getLogger("counter")


class HealthzMiddleware:
    """Answer the probes before anything else runs: ``/healthz`` (the process answers; no
    Redis call) and ``/readyz`` (Redis answers within its timeout: 200, else 503).

    They sit first so that probes reach them whatever Host header they send (container and
    orchestrator probes use the pod or loopback address, which ALLOWED_HOSTS may not list) and
    over plain http even when SECURE_SSL_REDIRECT is on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return _probe(200, "ok")
        if request.path == "/readyz":
            try:
                store.ping()
            except store.StoreUnavailable:
                response = _probe(503, "redis unavailable")
                response["Retry-After"] = str(settings.STORE_RETRY_AFTER)
                return response
            return _probe(200, "ready")
        return self.get_response(request)


def _probe(status: int, state: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"status": state}) + "\n", status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    return response


_METHODS = {"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"}
_CLIENT_ERRORS = (SuspiciousOperation, PermissionDenied, BadRequest, Http404)
request_logger = logqueue.request_logger


class RequestLogMiddleware:
    """One log line and one metrics sample per request: method, route (the URL's name, never
    the raw path), status, duration. Never an IP address or a User-Agent."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.log = settings.REQUEST_LOG
        # (route, method, status) -> its two samples. labels() validates and locks on every
        # call; the set of keys is small and fixed (URL names, _METHODS, HTTP statuses).
        self.samples: dict[tuple[str, str, int], tuple] = {}

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = match.url_name if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        status = response.status_code
        samples = self.samples.get((route, method, status))
        if samples is None:
            samples = self.samples[route, method, status] = (
                metrics.REQUESTS.labels(route, method, str(status)),
                metrics.LATENCY.labels(route),
            )
        metrics.count(samples[0])
        metrics.observe(samples[1], elapsed)
        if self.log:
            logqueue.log_request(method, route, status, round(elapsed * 1000, 2))
        return response

    def process_exception(self, request, exception):
        """A view's unexpected exception (a 500): its traceback, with route and method, goes
        to the console at any DEBUG setting (Django's own logger prints only with DEBUG on).
        StoreUnavailable is expected (a 503, answered by StoreUnavailableMiddleware)."""
        if isinstance(exception, (StoreUnavailable, *_CLIENT_ERRORS)):
            return None  # expected, or a 4xx Django answers itself (a bad Host, a 404)
        match = request.resolver_match
        route = match.url_name if match is not None else "unmatched"
        method = request.method if request.method in _METHODS else "other"
        request_logger.error(
            "%s %s failed: %s",
            method,
            route,
            type(exception).__name__,
            exc_info=exception,
            extra={"method": method, "route": route, "status": 500},
        )
        return None


class StoreUnavailableMiddleware:
    """Answer ``StoreUnavailable`` with a fast 503 and ``Retry-After``, never a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, CounterAtLimit):
            return _error(request, 409, str(exception).capitalize() + ".")
        if isinstance(exception, HitRateLimited):
            response = _error(request, 429, str(exception).capitalize() + ".")
            response["Retry-After"] = str(exception.retry_after)
            return response
        if isinstance(exception, (MadeByPageScript, HiddenPage)):
            return _error(request, 404, f"Not found: {exception}.")
        if isinstance(exception, RateLimited):  # new counters by first hits, on any route
            response = _error(request, 429, f"Too many new counters: {exception}.")
            response["Retry-After"] = str(exception.reset)
            return response
        if not isinstance(exception, StoreUnavailable):
            return None
        message = (
            "Service temporarily unavailable: the counter store is unreachable or refuses "
            "writes. Please try again shortly."
        )
        if getattr(request, "wants_html", False):  # a page: a page, not a traceback
            response = render(request, "counter/unavailable.html", status=503)
            response["Cache-Control"] = "no-store"
        else:
            response = _error(request, 503, message)
        response["Retry-After"] = str(settings.STORE_RETRY_AFTER)
        return response


def _error(request, status: int, message: str) -> HttpResponse:
    """An error in the request's language: JSON for the API (``wants_json``), text otherwise."""
    if getattr(request, "wants_json", False):  # as the API answers: JSON, or JSONP (200)
        response = json_response(request, {"error": message}, status=status)
    else:
        response = HttpResponse(
            message + "\n", status=status, content_type="text/plain; charset=utf-8"
        )
    response["Cache-Control"] = "no-store"
    return response
