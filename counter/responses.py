"""How visitorsite answers: lean text for the counting endpoints, full headers for documents.

Counting endpoints answer a handful of bytes thousands of times a second; HTML documents are
rare and are where clickjacking, referrer and opener policies mean something. So the policy
headers are set per document (``@document``), not by middleware on every hit.
"""

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponse


def text(body: str, *, status: int = 200) -> HttpResponse:
    """A plain-text answer that no cache keeps (counts change on every request)."""
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    # Without it gunicorn falls back to chunked encoding: more bytes and work on every hit.
    response["Content-Length"] = str(len(response.content))
    return response


def document(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Security headers of an HTML page: not framable, no cross-origin referrer or opener."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response

    return wrapper
