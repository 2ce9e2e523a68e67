"""What every API view shares: ``api_view`` (the counter from the path, the methods, CORS,
every error answered as JSON through counter/web/errors.py's table), how parameters are read
from the query or the body, and whether the caller holds the counter's admin key."""

import json
from collections.abc import Callable
from functools import partial, wraps

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from counter import store
from counter.domain import magic, visitors
from counter.domain.params import BadParameter, parse_int, parse_object
from counter.domain.permissions import Access, access, may_see, ruling_meta
from counter.names import Counter, counter_from_path
from counter.web import errors
from counter.web.errors import (
    BadRequest,
    KeyRequired,
    PrivateCounter,
    UnsupportedMediaType,
    WrongKey,
)
from counter.web.responses import json_response

_BOOLEANS = {"1": True, "true": True, "0": False, "false": False}


def api_view(
    *,
    cors: bool = True,
    counter_in_path: bool = True,
    countapi=True,
    writes: bool = False,
    patch: bool = False,
):
    """Parse the counter from the path (CountAPI's magic names resolved: ``request.magic``),
    allow GET/POST (and HEAD, OPTIONS), answer every error as JSON. A view that ``writes``
    (CountAPI writes on GET too) refuses HEAD and browser prefetches, which only read. The view gets
    ``(request, counter)`` or ``(request)``. Resolving a magic name writes nothing: a site's
    page secret is made by the page view that pays for the site (visits.count_page_view).
    With ``patch`` the view takes PATCH too (its body read as a POST's)."""
    allowed = {"GET", "HEAD", "POST", "PATCH"} if patch else {"GET", "HEAD", "POST"}
    allow = "GET, HEAD, POST, PATCH, OPTIONS" if patch else "GET, HEAD, POST, OPTIONS"

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, path: str = "") -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                if cors:
                    response["Access-Control-Allow-Origin"] = "*"
                    response["Access-Control-Allow-Methods"] = allow.replace("HEAD, ", "")
                    response["Access-Control-Max-Age"] = "86400"
                return response
            if request.method not in allowed:
                response = json_response(
                    request, {"error": "method not allowed"}, status=405, cors=cors
                )
                response["Allow"] = allow
                return response
            if writes and not visitors.should_count(request):  # HEAD, a prefetch
                message = "this endpoint writes: HEAD and prefetches only read; use GET or POST"
                response = json_response(request, {"error": message}, status=405, cors=cors)
                response["Allow"] = "GET, POST, OPTIONS"
                return response
            try:
                # The query first, before anything counts: one Django refuses (too many
                # fields) is the middleware's 400, not a hit answered with an error.
                request.GET.get("callback")
                request.body_params = _body_params(request)
                if not counter_in_path:
                    return view(request)
                if ":" in path:  # never in a valid name: CountAPI's :HOST:, :PATHNAME:
                    page_secret = partial(store.page_secret, make=False)
                    request.magic = magic.resolve(request, path, page_secret)
                    return view(request, request.magic.counter)
                return view(request, counter_from_path(path))
            except errors.API_ERRORS as exc:  # the view's own: answered with its CORS
                return errors.respond(request, exc, cors=cors, countapi=countapi)

        wrapper.cors = cors  # what the middleware's answers on this route say (responses.error)
        return wrapper

    return decorate


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _body_params(request: HttpRequest) -> dict:
    """A POST's parameters: a form, or a flat JSON object of them (params.parse_object);
    anything else is a 415 and a body that does not parse a 400, both in JSON (never Django's
    HTML error page). The body is within the route's limit: the middleware refused a longer
    one before it was read."""
    if request.method not in ("POST", "PATCH") or not request.body:
        return {}
    content_type = request.content_type or ""
    if content_type == "application/json":
        try:
            data = parse_object(request.body.decode())
        except UnicodeDecodeError:
            raise BadRequest("the JSON body is not UTF-8") from None
        except BadParameter as exc:
            raise BadRequest(str(exc)) from None
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
    if content_type == "multipart/form-data":
        # Django's parser keeps the parts it read from a body cut short: refuse it whole.
        boundary = request.content_params.get("boundary", "").encode()
        if not request.body.rstrip().endswith(b"--" + boundary + b"--"):
            raise BadRequest("the multipart body is cut short: it has no closing boundary")
    if content_type in _FORMS:
        try:
            return request.POST.dict()
        except MultiPartParserError as exc:
            raise BadRequest(f"the body could not be read: {exc}") from None
    raise UnsupportedMediaType(content_type)


def param(request: HttpRequest, name: str) -> str | None:
    value = request.GET.get(name)
    return value if value is not None else request.body_params.get(name)


def int_param(
    request: HttpRequest,
    name: str,
    default: int | None = None,
    *,
    low: int = -store.MAX_TOTAL,
    high: int = store.MAX_TOTAL,
) -> int:
    """An integer parameter in ASCII digits, from ``low`` to ``high`` (by default held to
    store.MAX_TOTAL, as JavaScript can)."""
    raw = param(request, name)
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(f"{name} is required (an integer)")
        return default
    try:
        return parse_int(raw, name=name, low=low, high=high)
    except BadParameter as exc:
        raise BadRequest(str(exc)) from None


def bool_param(request: HttpRequest, name: str, default: bool) -> bool:
    raw = param(request, name)
    if raw is None or raw == "":
        return default
    try:
        return _BOOLEANS[raw.strip().lower()]
    except KeyError:
        raise BadRequest(f"{name} must be 1/0 or true/false, got {raw[:40]!r}") from None


def is_admin(request: HttpRequest, counter: Counter, *, required: bool = False) -> bool:
    """Whether the caller holds the counter's admin key (or ADMIN_TOKEN). A wrong key raises
    WrongKey; no key raises KeyRequired when ``required``, else the caller is anonymous."""
    found = access(request, ruling_meta(counter))
    if found is Access.DENIED:
        raise WrongKey
    if found is Access.ANONYMOUS and required:
        raise KeyRequired
    return found is Access.ADMIN


def refuse_private(
    request: HttpRequest, counter: Counter, meta: dict[str, str] | None = None
) -> None:
    """Raise PrivateCounter (a 403) for a private counter's figures without its key
    (``meta``: the counter's own, when read already); a wrong key is WrongKey, as on every
    admin route."""
    refused = may_see(request, ruling_meta(counter, meta))
    if refused is Access.DENIED:
        raise WrongKey
    if refused is not None:
        raise PrivateCounter
