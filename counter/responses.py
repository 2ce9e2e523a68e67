"""How visitorsite answers: lean text for the counting endpoints, full headers for documents.

Counting endpoints answer a handful of bytes thousands of times a second; HTML documents are
rare and are where clickjacking, referrer and opener policies mean something. So the policy
headers are set per document (``@document``), not by middleware on every hit.
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse, JsonResponse

# Paths whose errors are JSON: the JSON API's surface.
_JSON_PREFIXES = ("/api/", "/hit/", "/get/", "/info/", "/set/", "/update/", "/reset/",
                  "/delete/", "/create", "/stats")  # fmt: skip


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
        request.wants_html = True  # errors on this path, a store outage included, are pages
        response = view(request, *args, **kwargs)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    return wrapper


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    if request.path.startswith(_JSON_PREFIXES):
        return JsonResponse({"error": message}, status=status)
    return text(f"{message}\n", status=status)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: JSON on the API, plain text elsewhere; never a debug page."""
    return _error(request, "Not found", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: a short answer, never a traceback (the log has it)."""
    return _error(request, "Internal server error", 500)
