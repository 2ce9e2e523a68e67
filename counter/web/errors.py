"""The one table from an exception to its answer: status, message and extra headers.

Both places that turn exceptions into answers read it: ``api_view`` (counter/web/api/
apiview.py) for the errors of the API's own views, answered with the view's CORS choice,
and ``StoreUnavailableMiddleware`` (counter/web/middleware.py) for what any view raises
(the store, limits, what Django refuses to parse). The answer is in the request's language
(responses.answer_format): JSON on the API's paths, a page where a page was asked for, else
one line of text.

The API's own exceptions live here (not in apiview.py) so that the table can name them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
)
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render

from counter.domain import magic
from counter.domain.dimension_values import BadBeacon
from counter.domain.permissions import HiddenPage, RateLimited
from counter.domain.visits import MadeByPageScript
from counter.names import InvalidName
from counter.render.badges import BadgeOptionError
from counter.store import CounterAtLimit, HitRateLimited, StoreUnavailable
from counter.web.responses import answer_format, json_response, text


class UnsupportedMediaType(Exception):
    """A POST body that is neither a form nor JSON."""


class BadRequest(Exception):
    """A parameter is missing or malformed: answered 400 with the message."""


class WrongKey(Exception):
    """A key was presented and it is not this counter's (nor ADMIN_TOKEN): 403."""


class KeyRequired(Exception):
    """The endpoint needs the admin key and none was presented: 401."""


class PrivateCounter(Exception):
    """A private counter's figures asked for without its key: 403."""


# CountAPI's own words for a bad name and create's bounds (its client's test suite matches
# them); the v1 API says more.
MALFORMED = "Malformed Namespace/Key"
BAD_HOST = "Bad request: the Host header names no site served here."
UNAVAILABLE = (
    "Service temporarily unavailable: the counter store is unreachable or refuses "
    "writes. Please try again shortly."
)


@dataclass(frozen=True)
class Answer:
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)
    page: str | None = None  # the template answering a page's request, if not the text


def _bad_name(exc: Exception, json: bool, countapi: bool) -> Answer:
    if not json:  # a counting route's, an embed's: what is wrong with the name
        return Answer(400, f"Bad request: {exc}")
    # CountAPI's clients match its words for a bad name; a magic name that did not resolve
    # says why.
    malformed = isinstance(exc, InvalidName) and not isinstance(exc, magic.MagicUnresolved)
    return Answer(400, MALFORMED if countapi and malformed else str(exc))


def _rate_limited(exc: RateLimited, json: bool) -> Answer:
    if json:  # the API's budgets (create, new counters), with the RateLimit-* headers
        return Answer(
            429,
            str(exc),
            {
                "Retry-After": str(exc.reset),
                "RateLimit-Limit": str(exc.limit),
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(exc.reset),
            },
        )
    # Elsewhere only a first hit spends a budget: the new-counter one.
    return Answer(429, f"Too many new counters: {exc}.", {"Retry-After": str(exc.reset)})


def _refused_by_django(exc: Exception) -> Answer:
    """What Django refuses while parsing a request (request.GET, request.POST and
    request.body are read lazily, in the view)."""
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Answer(413, f"Request body too large: at most {limit} bytes.")
    if isinstance(exc, TooManyFieldsSent):
        most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return Answer(400, f"Bad request: more than {most} query or form fields.")
    if isinstance(exc, DisallowedHost):
        return Answer(400, BAD_HOST)
    if isinstance(exc, MultiPartParserError):
        return Answer(400, f"Bad request: the form could not be read ({exc}).")
    return Answer(400, "Bad request.")


# Exception class -> its answer, given the exception, whether the answer is JSON and
# whether the view speaks CountAPI's words. The first row that matches answers.
_Answerer = Callable[[Exception, bool, bool], Answer]
TABLE: tuple[tuple[type[Exception] | tuple[type[Exception], ...], _Answerer], ...] = (
    # The API's parameters and keys (raised by api_view and its views).
    ((InvalidName, BadRequest), _bad_name),
    # A badge's options, a page script's view that does not parse.
    (
        (BadgeOptionError, BadBeacon),
        lambda exc, json, countapi: Answer(400, f"Bad request: {exc}"),
    ),
    (
        UnsupportedMediaType,
        lambda exc, json, countapi: Answer(
            415, f"unsupported body type {str(exc)[:60]!r}: send a form or JSON"
        ),
    ),
    (WrongKey, lambda exc, json, countapi: Answer(403, "wrong admin key")),
    (
        PrivateCounter,
        lambda exc, json, countapi: Answer(403, "this counter is private: send its admin key"),
    ),
    (
        KeyRequired,
        lambda exc, json, countapi: Answer(
            401,
            "an admin key is required (Authorization: Bearer <key>, or ?token=)",
            {"WWW-Authenticate": 'Bearer realm="visitorsite"'},
        ),
    ),
    (RateLimited, lambda exc, json, countapi: _rate_limited(exc, json)),
    # Limits inside a hit, and counters nobody may see or make this way.
    (CounterAtLimit, lambda exc, json, countapi: Answer(409, str(exc).capitalize() + ".")),
    (
        HitRateLimited,
        lambda exc, json, countapi: Answer(
            429, str(exc).capitalize() + ".", {"Retry-After": str(exc.retry_after)}
        ),
    ),
    ((MadeByPageScript, HiddenPage), lambda exc, json, countapi: Answer(404, f"Not found: {exc}.")),
    # What Django refuses to parse.
    (
        (SuspiciousOperation, DjangoBadRequest, MultiPartParserError),
        lambda exc, json, countapi: _refused_by_django(exc),
    ),
    # The store: a fast 503, never a hung worker or a traceback.
    (
        StoreUnavailable,
        lambda exc, json, countapi: Answer(
            503,
            UNAVAILABLE,
            {"Retry-After": str(settings.STORE_RETRY_AFTER)},
            page="counter/unavailable.html",
        ),
    ),
)

# What api_view answers itself, with its view's CORS choice; the rest reaches the middleware.
API_ERRORS = (
    InvalidName,
    BadRequest,
    UnsupportedMediaType,
    WrongKey,
    KeyRequired,
    PrivateCounter,
    RateLimited,
)


def answer_for(exception: Exception, *, json: bool, countapi: bool = False) -> Answer | None:
    """The table's answer to ``exception``, or None for one it does not know (a 500)."""
    for classes, answerer in TABLE:
        if isinstance(exception, classes):
            return answerer(exception, json, countapi)
    return None


def respond(
    request: HttpRequest, exception: Exception, *, cors: bool = True, countapi: bool = False
) -> HttpResponse | None:
    """The answer to ``exception`` in the request's language, or None when the table does
    not know it. ``cors``: the API view's choice (JSON only). ``countapi``: the view speaks
    CountAPI's words for a bad name."""
    kind = answer_format(request)
    answer = answer_for(exception, json=kind == "json", countapi=countapi)
    if answer is None:
        return None
    if kind == "json":
        payload = {"error": answer.message}
        return json_response(
            request, payload, status=answer.status, cors=cors, headers=answer.headers
        )
    if kind == "page" and answer.page is not None:
        response = render(request, answer.page, status=answer.status)
        response["Cache-Control"] = "no-store"
    else:
        response = text(f"{answer.message}\n", status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response
