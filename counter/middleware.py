"""Middleware: the liveness probe, and the one place where an unavailable store becomes a 503."""

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render

from counter.store import StoreUnavailable

logger = logging.getLogger("counter")


class HealthzMiddleware:
    """Answer ``/healthz`` (the process is alive) before anything else runs.

    It sits first so that probes reach it whatever Host header they send (container and
    orchestrator probes use the pod or loopback address, which ALLOWED_HOSTS may not list),
    and it makes no Redis call: readiness is a separate question.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            return HttpResponse('{"status": "ok"}\n', content_type="application/json")
        return self.get_response(request)


class StoreUnavailableMiddleware:
    """Answer ``StoreUnavailable`` with a fast 503 and ``Retry-After``, never a traceback."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, StoreUnavailable):
            return None
        logger.warning("store unavailable: %s", exception)
        message = (
            "Service temporarily unavailable: the counter store is not reachable. "
            "Please try again shortly."
        )
        if getattr(request, "wants_json", False):  # the JSON API answers errors in JSON
            response = HttpResponse(
                json.dumps({"error": message}), status=503, content_type="application/json"
            )
            response["Access-Control-Allow-Origin"] = "*"
        elif getattr(request, "wants_html", False):  # a page: a page, not a traceback
            response = render(request, "counter/unavailable.html", status=503)
        else:
            response = HttpResponse(
                message + "\n", status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = str(settings.STORE_RETRY_AFTER)
        response["Cache-Control"] = "no-store"
        return response
