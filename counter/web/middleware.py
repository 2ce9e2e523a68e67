"""Middleware: the liveness probe, the request log, what every request must be before a view
reads it (its Host, its body's length), and the answer to what a view raises (from
counter/web/errors.py's table)."""

import json
import logging
import time

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    DisallowedHost,
    PermissionDenied,
    SuspiciousOperation,
)
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse

from counter import metrics, store
from counter.domain import dimension_values
from counter.store import StoreUnavailable
from counter.web import errors, request_log
from counter.web.responses import error

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
            return _probe(request, 200, "ok")
        if request.path == "/readyz":
            try:
                store.ping()
            except store.StoreUnavailable:
                response = _probe(request, 503, "redis unavailable")
                response["Retry-After"] = str(settings.STORE_RETRY_AFTER)
                return response
            return _probe(request, 200, "ready")
        return self.get_response(request)


def _probe(request: HttpRequest, status: int, state: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"status": state}) + "\n", status=status, content_type="application/json"
    )
    response["Cache-Control"] = "no-store"
    if request.method == "HEAD":  # the probes answer before RequestGuardMiddleware
        _drop_body(response)
    return response


_METHODS = {"GET", "HEAD", "POST", "OPTIONS", "PUT", "PATCH", "DELETE"}
_CLIENT_ERRORS = (SuspiciousOperation, PermissionDenied, BadRequest, Http404)
request_logger = request_log.request_logger


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
            request_log.log_request(method, route, status, round(elapsed * 1000, 2))
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


# Bytes of body each route reads, by URL name (counter/urls.py). A Content-Length above the
# route's limit is answered 413 before anything reads the body. A route not named here reads
# no body, whatever its method (GET-only routes: a POST is their 405), so it needs no limit:
# nothing reads what was sent. DATA_UPLOAD_MAX_MEMORY_SIZE (settings.py) is the largest of
# these, as Django's own last line, checked only once a body is read.
FORM_BODY = 16 * 1024  # the API's parameters, a dashboard form: a few fields
BODY_LIMITS = {
    "beacon": dimension_values.MAX_BODY,
    "new": FORM_BODY,
    "unlock": FORM_BODY,
    "dashboard-timezone": FORM_BODY,
    **dict.fromkeys(
        ("api-hit", "api-get", "api-info", "api-set", "api-update", "api-reset", "api-delete",
         "api-create", "api-stats", "api-v1-counter", "api-v1-admin-key", "api-v1-claim",
         "api-v1-csv", "api-v1-breakdown", "api-v1-site", "api-v1-site-now"),
        FORM_BODY,
    ),
}  # fmt: skip
_HOSTS_KEPT = 256  # Host values known good (ports, wildcards' names): bounded, then forgotten


class RequestGuardMiddleware:
    """What a request must be before any view reads it, and HEAD answers without a body.

    - Its ``Host`` is one ALLOWED_HOSTS names, on every route. Django checks it only when a
      view calls ``request.get_host()``, which the counting routes never do, so they counted
      requests for any Host. Host values already validated are kept (``_Hosts``): an
      allowed request pays a set look-up, and ``get_host()`` (Django's own rules: ports,
      ``.example.com`` wildcards, ``*``) runs for a Host seen the first time, and for every
      refused one.
    - Its body fits its route (BODY_LIMITS): a longer ``Content-Length`` is a 413 and a
      malformed one a 400, before anything reads the body. Django reads a body only as far
      as ``Content-Length`` says, and nothing without one: a body of unknown length (chunked)
      on a route that reads one is a 411, never read.
    - A HEAD answer carries no body (its Content-Length stays that of the GET): WSGI servers
      send what the application yields, and gunicorn logs a body sent on HEAD.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = None
        if request.META.get(_hosts.header) not in _hosts.known:
            response = _hosts.check(request)  # None, or the refusal
        if response is None:
            response = self.get_response(request)
            if response.status_code == 405 and not response.content:
                response = _not_allowed(request, response)
        if request.method == "HEAD":
            _drop_body(response)
        return response

    def process_view(self, request, view, args, kwargs):
        meta = request.META
        length = meta.get("CONTENT_LENGTH")
        if not length:
            if "HTTP_TRANSFER_ENCODING" in meta and BODY_LIMITS.get(_route(request)):
                return error(request, 411, "Length required: send the body with Content-Length")
            return None
        if not (length.isascii() and length.isdigit()):
            return error(request, 400, "Bad request: Content-Length is not a number of bytes")
        limit = BODY_LIMITS.get(_route(request))
        if limit is not None and (len(length) > 15 or int(length) > limit):
            return error(request, 413, f"Request body too large: at most {limit} bytes here")
        return None


def _not_allowed(request: HttpRequest, refused: HttpResponse) -> HttpResponse:
    """Django's 405 (require_http_methods) says nothing but its Allow header: the same, with
    a message in the request's language (JSON on the API, text elsewhere)."""
    allowed = refused.get("Allow", "")
    response = error(request, 405, f"Method not allowed: use {allowed}")
    response["Allow"] = allowed
    return response


class _Hosts:
    """The Host values Django's get_host() accepted, so that the next request naming one pays
    a set look-up (reading settings.ALLOWED_HOSTS through Django's LazySettings alone costs
    ~0.4 us). ``header`` is the one get_host() reads: Host, or X-Forwarded-Host with
    USE_X_FORWARDED_HOST (a proxy such as Traefik sends it on every request). Forgotten when
    a setting get_host() reads changes (tests), and when full: a wildcard or "*" accepts any
    number of names."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self.known: set[str] = set()
        self.header = "HTTP_HOST"  # until the first check reads the setting

    def check(self, request: HttpRequest) -> HttpResponse | None:
        """None when get_host() accepts the request's host, else the 400 answering it."""
        try:
            request.get_host()
        except DisallowedHost:
            return error(request, 400, errors.BAD_HOST)
        header = "HTTP_X_FORWARDED_HOST" if settings.USE_X_FORWARDED_HOST else "HTTP_HOST"
        if header != self.header or len(self.known) >= _HOSTS_KEPT:
            self.known, self.header = set(), header
        host = request.META.get(header)
        if host is not None:  # else get_host() read another header, or SERVER_NAME
            self.known.add(host)
        return None


_hosts = _Hosts()


@receiver(setting_changed)
def _forget_hosts(*, setting: str, **kwargs) -> None:
    if setting in {"ALLOWED_HOSTS", "DEBUG", "USE_X_FORWARDED_HOST"}:
        _hosts.forget()


def _route(request: HttpRequest) -> str | None:
    match = request.resolver_match
    return match.url_name if match is not None else None


def _drop_body(response: HttpResponse) -> None:
    """The answer to HEAD: the GET's headers, Content-Length included, and no body."""
    if response.streaming:
        response.streaming_content = ()  # the stream's close() still runs (Django keeps it)
    elif response.content:
        if not response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        response.content = b""


class StoreUnavailableMiddleware:
    """What a view raises, answered from counter/web/errors.py's table: ``StoreUnavailable`` a
    fast 503 with ``Retry-After``, limits a 409 or 429, a request Django refuses to parse (too
    many fields, a body over DATA_UPLOAD_MAX_MEMORY_SIZE) a 400 or 413; never a traceback, and
    in the request's language (responses.answer_format)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        """The answer to ``exception``, or None for an unexpected one (a 500, logged)."""
        return errors.respond(request, exception)
