"""How visitorsite answers: lean text for the counting endpoints, full headers for documents.

Counting endpoints answer a handful of bytes thousands of times a second; HTML documents are
rare and are where clickjacking, referrer and opener policies mean something. So the policy
headers are set per document (``@document``), not by middleware on every hit.
"""

import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Literal

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse

from counter.names import Counter, is_api_path

# A JavaScript identifier path (a.b.c), never markup or code.
_CALLBACK = re.compile(
    r"[A-Za-z_$][A-Za-z0-9_$]{0,63}(\.[A-Za-z_$][A-Za-z0-9_$]{0,63}){0,3}", re.ASCII
)


def text(body: str, *, status: int = 200) -> HttpResponse:
    """A plain-text answer that no cache keeps (counts change on every request)."""
    # Encoded here, not by HttpResponse: it would find the charset with a regex on every hit.
    content = body.encode()
    response = HttpResponse(content, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    # Without it gunicorn falls back to chunked encoding: more bytes and work on every hit.
    response["Content-Length"] = str(len(content))
    return response


# Everything from this origin, nothing inline, nothing framing us.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def document(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Security headers of an HTML page: not framable, no cross-origin referrer or opener."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        request.is_document = True  # see answer_format: a store outage here is a page
        response = view(request, *args, **kwargs)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    return wrapper


def answer_format(request: HttpRequest) -> Literal["json", "page", "text"]:
    """The language an error is answered in: the one place that decides whether a request
    is a JSON request. Every error answer reads it (error() below, counter/web/errors.py
    for api_view and the middleware).

    - ``"json"``: the path is the JSON API's (counter.names.is_api_path: CountAPI's
      routes and /api/; the gevent worker's own refusals follow the same rule). Decided by
      the path alone, so that it holds before a view is found (a bad Host, a body over the
      route's limit, a 404) as after, and for every api_view view.
    - ``"page"``: an HTML page's view (``@document``) is answering; a store outage there is
      a page (errors the table gives no page for are text).
    - ``"text"``: everything else (counts, badges, the pixel, the page script).
    """
    if is_api_path(request.path_info):
        return "json"
    if getattr(request, "is_document", False):
        return "page"
    return "text"


def json_response(
    request: HttpRequest,
    payload: dict,
    *,
    status: int = 200,
    cors: bool = True,
    counter: Counter | None = None,
    headers: dict | None = None,
) -> HttpResponse:
    """JSON, or JSONP when ``?callback=`` names a function (always 200, status inside)."""
    try:
        callback = request.GET.get("callback")
    except SuspiciousOperation:  # answering that Django refused the query string: no JSONP
        callback = None
    if callback is not None and _CALLBACK.fullmatch(callback):
        body = f"/**/{callback}({json.dumps({**payload, 'status': status})});"
        response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    else:
        if callback is not None:
            payload, status = {"error": "callback must be a JavaScript identifier"}, 400
        response = HttpResponse(json.dumps(payload), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Content-Length"] = str(len(response.content))
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "X-Path, X-Admin-Key, Retry-After"
    if counter is not None:
        response["X-Path"] = f"/{counter.namespace}/{counter.key}"
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def error(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """An error in the request's language: JSON as the API answers (``{"error": ...}``,
    JSONP, and CORS unless the route's view says otherwise: an admin route's answers are
    readable by no other origin, its errors neither) on the API's paths, one line of text
    elsewhere. Never cached."""
    if answer_format(request) == "json":
        match = getattr(request, "resolver_match", None)
        cors = getattr(match.func, "cors", True) if match is not None else True
        return json_response(request, {"error": message}, status=status, cors=cors)
    return text(f"{message}\n", status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400, for what reaches Django's own handling (middleware maps what it sees)."""
    return error(request, 400, "Bad request")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON on the API, plain text elsewhere; never a debug page."""
    return error(request, 404, "Not found")


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a short answer, never a traceback (the log has it)."""
    return error(request, 500, "Internal server error")
