"""The JSON API: CountAPI's endpoints and semantics (Abacus' admin additions), and v1 reads.

CountAPI clients work by changing only the base URL: the same paths (namespace optional),
status codes, JSON fields, ``X-Path`` header, CORS and JSONP. Differences are listed in
docs/API.md.
"""

import csv
import io
import json
from collections.abc import Callable
from functools import partial, wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError

from counter import metrics, store
from counter.domain import claims, magic, visitors
from counter.domain.creation import CREATE_DEFAULTS, AlreadyExists, create_counter
from counter.domain.params import BadParameter, parse_int, parse_object
from counter.domain.permissions import (
    Access,
    RateLimited,
    access,
    check_rate,
    hash_admin_key,
    is_operator,
    may_see,
    new_admin_key,
    presented_key,
    reveal_page,
    ruling_meta,
)
from counter.domain.visits import count_hit, count_page_view
from counter.names import (
    SITE_KEY,
    Counter,
    InvalidName,
    counter_from_parts,
    counter_from_path,
    governing,
)
from counter.web.responses import json_response

VERSION = "1.0.0"

_BOOLEANS = {"1": True, "true": True, "0": False, "false": False}

# Counters made by a first hit, as CountAPI made them: no reset, updates of 0 to 1.
HIT_DEFAULTS = {"enable_reset": False, "update_lowerbound": 0, "update_upperbound": 1}


class UnsupportedMediaType(Exception):
    """A POST body that is neither a form nor JSON."""


class BadRequest(Exception):
    """A parameter is missing or malformed: answered 400 with the message."""


class WrongKey(Exception):
    """A key was presented and it is not this counter's (nor ADMIN_TOKEN): 403."""


class KeyRequired(Exception):
    """The endpoint needs the admin key and none was presented: 401."""


# CountAPI's own words for a bad name and create's bounds (its client's test suite matches
# them); the v1 API says more.
MALFORMED = "Malformed Namespace/Key"


def api_view(
    *, cors: bool = True, counter_in_path: bool = True, countapi=True, writes: bool = False
):
    """Parse the counter from the path (CountAPI's magic names resolved: ``request.magic``),
    allow GET/POST (and HEAD, OPTIONS), answer every error as JSON. A view that ``writes``
    (CountAPI writes on GET too) refuses HEAD and browser prefetches, which only read. The view gets
    ``(request, counter)`` or ``(request)``. Resolving a magic name writes nothing: a site's
    page secret is made by the page view that pays for the site (visits.count_page_view)."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, path: str = "") -> HttpResponse:
            if request.method == "OPTIONS":
                response = HttpResponse(status=204)
                if cors:
                    response["Access-Control-Allow-Origin"] = "*"
                    response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
                    response["Access-Control-Max-Age"] = "86400"
                return response
            if request.method not in {"GET", "HEAD", "POST"}:
                response = json_response(
                    request, {"error": "method not allowed"}, status=405, cors=cors
                )
                response["Allow"] = "GET, HEAD, POST, OPTIONS"
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
            except (InvalidName, BadRequest) as exc:
                malformed = isinstance(exc, InvalidName) and not isinstance(
                    exc, magic.MagicUnresolved
                )
                message = MALFORMED if countapi and malformed else str(exc)
                return json_response(request, {"error": message}, status=400, cors=cors)
            except UnsupportedMediaType as exc:
                message = f"unsupported body type {str(exc)[:60]!r}: send a form or JSON"
                return json_response(request, {"error": message}, status=415, cors=cors)
            except WrongKey:
                return json_response(request, {"error": "wrong admin key"}, status=403, cors=cors)
            except KeyRequired:
                response = json_response(
                    request,
                    {"error": "an admin key is required (Authorization: Bearer <key>, or ?token=)"},
                    status=401,
                    cors=cors,
                )
                response["WWW-Authenticate"] = 'Bearer realm="visitorsite"'
                return response
            except RateLimited as exc:
                return json_response(
                    request,
                    {"error": str(exc)},
                    status=429,
                    cors=cors,
                    headers={
                        "Retry-After": str(exc.reset),
                        "RateLimit-Limit": str(exc.limit),
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(exc.reset),
                    },
                )

        return wrapper

    return decorate


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _body_params(request: HttpRequest) -> dict:
    """A POST's parameters: a form, or a flat JSON object of them (params.parse_object);
    anything else is a 415 and a body that does not parse a 400, both in JSON (never Django's
    HTML error page). The body is within the route's limit: the middleware refused a longer
    one before it was read."""
    if request.method != "POST" or not request.body:
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


def _param(request: HttpRequest, name: str) -> str | None:
    value = request.GET.get(name)
    return value if value is not None else request.body_params.get(name)


def _int_param(
    request: HttpRequest,
    name: str,
    default: int | None = None,
    *,
    low: int = -store.MAX_TOTAL,
    high: int = store.MAX_TOTAL,
) -> int:
    """An integer parameter in ASCII digits, from ``low`` to ``high`` (by default held to
    store.MAX_TOTAL, as JavaScript can)."""
    raw = _param(request, name)
    if raw is None or raw == "":
        if default is None:
            raise BadRequest(f"{name} is required (an integer)")
        return default
    try:
        return parse_int(raw, name=name, low=low, high=high)
    except BadParameter as exc:
        raise BadRequest(str(exc)) from None


def _bool_param(request: HttpRequest, name: str, default: bool) -> bool:
    raw = _param(request, name)
    if raw is None or raw == "":
        return default
    try:
        return _BOOLEANS[raw.strip().lower()]
    except KeyError:
        raise BadRequest(f"{name} must be 1/0 or true/false, got {raw[:40]!r}") from None


def _options(meta: dict[str, str]) -> dict:
    """A counter's CountAPI options; counters made by a hit have HIT_DEFAULTS."""
    return {
        "enable_reset": meta.get("enable_reset", "0") == "1",
        "update_lowerbound": int(meta.get("update_lowerbound", HIT_DEFAULTS["update_lowerbound"])),
        "update_upperbound": int(meta.get("update_upperbound", HIT_DEFAULTS["update_upperbound"])),
    }


def _is_admin(request: HttpRequest, counter: Counter, *, required: bool = False) -> bool:
    """Whether the caller holds the counter's admin key (or ADMIN_TOKEN). A wrong key raises
    WrongKey; no key raises KeyRequired when ``required``, else the caller is anonymous."""
    found = access(request, ruling_meta(counter))
    if found is Access.DENIED:
        raise WrongKey
    if found is Access.ANONYMOUS and required:
        raise KeyRequired
    return found is Access.ADMIN


def _refuse_private(
    request: HttpRequest, counter: Counter, meta: dict[str, str] | None = None
) -> HttpResponse | None:
    """The 403 for a private counter's figures without its key (``meta``: the counter's own,
    when read already); a wrong key is WrongKey, as on every admin route."""
    refused = may_see(request, ruling_meta(counter, meta))
    if refused is Access.DENIED:
        raise WrongKey
    if refused is None:
        return None
    return json_response(
        request, {"error": "this counter is private: send its admin key"}, status=403
    )


# CountAPI --------------------------------------------------------------------------------


@api_view()
def hit(request: HttpRequest, counter: Counter) -> HttpResponse:
    reveal_page(request, counter)
    target = getattr(request, "magic", None)  # :HOST:, :PATHNAME: resolved
    made = None
    if target is not None and target.page_path is not None:  # a page view
        viewed = count_page_view(request, target.site, target.page_path)
        if viewed is not None:
            _, made, counter = viewed
    else:  # :HOST: alone is the site, which a page view may make
        made = count_hit(request, counter, page_script=target is not None and target.page_script)
    value = made.total if made is not None else store.total(counter) or 0
    return json_response(request, {"value": value}, counter=counter)


@api_view()
def get(request: HttpRequest, counter: Counter) -> HttpResponse:
    reveal_page(request, counter)
    value = store.total(counter)
    return json_response(
        request, {"value": value}, status=200 if value is not None else 404, counter=counter
    )


@api_view(counter_in_path=False, writes=True)
def create(request: HttpRequest) -> HttpResponse:
    namespace = _param(request, "namespace") or None
    return _create(request, namespace, _param(request, "key") or None, v1=False)


def _create(request: HttpRequest, namespace: str | None, key: str | None, *, v1: bool):
    """CountAPI's create (its fields exactly; the admin key, shown once, in X-Admin-Key) or
    the v1 API's (the admin key in the body too)."""
    options = {
        "value": _int_param(request, "value", 0),
        "enable_reset": _bool_param(request, "enable_reset", CREATE_DEFAULTS["enable_reset"]),
        "update_lowerbound": _int_param(
            request, "update_lowerbound", CREATE_DEFAULTS["update_lowerbound"]
        ),
        "update_upperbound": _int_param(
            request, "update_upperbound", CREATE_DEFAULTS["update_upperbound"]
        ),
        "private": _bool_param(request, "private", False),
    }
    headers = check_rate(request, action="create", rule=settings.CREATE_RATE_LIMIT)
    try:
        created = create_counter(namespace=namespace, key=key, **options)
    except InvalidName:
        raise
    except ValueError as exc:  # bounds, a page script's name
        raise BadRequest(str(exc)) from exc
    except AlreadyExists:
        counter = counter_from_parts(namespace=namespace or "default", key=key or "-")
        return json_response(
            request, {"error": "Key already exists"}, status=409, counter=counter, headers=headers
        )
    payload = {
        "namespace": created.counter.namespace,
        "key": created.counter.key,
        "value": created.value,
    }
    if v1:
        payload["admin_key"] = created.admin_key
    headers = {**headers, "X-Admin-Key": created.admin_key}
    return json_response(request, payload, counter=created.counter, headers=headers)


@api_view()
def info(request: HttpRequest, counter: Counter) -> HttpResponse:
    reveal_page(request, counter)
    found = store.info(counter)
    if found.total is None:
        return json_response(request, {"error": "Key not found"}, status=404, counter=counter)
    refused = _refuse_private(request, counter, found.meta)
    if refused is not None:
        return refused
    created = found.meta.get("created")
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "ttl": -1,  # counters never expire here
        "created": int(created) if created else None,
        **_options(found.meta),
        "value": found.total,
    }
    return json_response(request, payload, counter=counter)


@api_view(cors=False, writes=True)
def set_value(request: HttpRequest, counter: Counter) -> HttpResponse:
    reveal_page(request, counter)
    value = _int_param(request, "value")
    found = access(request, ruling_meta(counter))
    if found is Access.DENIED:
        return json_response(request, {"error": "wrong admin key"}, status=403, cors=False)
    status, old = store.set_total(counter, value, require_reset_enabled=found is not Access.ADMIN)
    if status == -1:
        payload, code = {"old_value": None, "value": None}, 404
    elif status == 0:
        payload, code = {"old_value": old, "value": old}, 403
    else:
        payload, code = {"old_value": old, "value": value}, 200
    return json_response(request, payload, status=code, cors=False, counter=counter)


@api_view(cors=False, writes=True)
def update(request: HttpRequest, counter: Counter) -> HttpResponse:
    reveal_page(request, counter)
    amount = _int_param(request, "amount")
    admin = _is_admin(request, counter)
    if not admin:  # a visit by other means: limited like one, and a crawler's changes nothing
        check_rate(request, action="update", rule=settings.HIT_RATE_LIMIT)
        if visitors.is_bot(visitors.user_agent(request)):
            value = store.total(counter)
            status = 200 if value is not None else 404
            return json_response(
                request, {"value": value}, status=status, cors=False, counter=counter
            )
    defaults = (HIT_DEFAULTS["update_lowerbound"], HIT_DEFAULTS["update_upperbound"])
    status, value = store.update(counter, amount, bounds=None if admin else defaults)
    if status == -2:
        raise BadRequest(f"the total would pass the largest count, {store.MAX_TOTAL}")
    payload = {"value": value if status != -1 else None}
    code = {1: 200, 0: 403, -1: 404}[status]
    return json_response(request, payload, status=code, cors=False, counter=counter)


@api_view(cors=False, writes=True)
def reset(request: HttpRequest, counter: Counter) -> HttpResponse:
    _is_admin(request, counter, required=True)
    status, _ = store.set_total(counter, 0, require_reset_enabled=False)
    if status == -1:
        return json_response(request, {"value": None}, status=404, cors=False, counter=counter)
    return json_response(request, {"value": 0}, cors=False, counter=counter)


@api_view(cors=False, writes=True)
def delete(request: HttpRequest, counter: Counter) -> HttpResponse:
    _is_admin(request, counter, required=True)
    if not store.delete(counter):
        return json_response(
            request, {"error": "Key not found"}, status=404, cors=False, counter=counter
        )
    payload = {"status": "deleted", "namespace": counter.namespace, "key": counter.key}
    return json_response(request, payload, cors=False, counter=counter)


@api_view(cors=False, countapi=False, writes=True)
def rotate_admin_key(request: HttpRequest, counter: Counter) -> HttpResponse:
    """A new admin key for the counter (POST, with the current key or ADMIN_TOKEN); the old
    key stops working at once. The new key is shown in this answer only. A page counter has
    no key of its own: its site's is rotated, and the answer names the site."""
    if request.method != "POST":
        return json_response(
            request, {"error": "POST to rotate the admin key"}, status=405, cors=False
        )
    _is_admin(request, counter, required=True)
    counter = governing(counter)  # a page's key is its site's: the one that rules the page
    expected = store.info(counter).meta.get("admin_key_sha256", "")
    admin_key, admin_hash = new_admin_key()
    status = store.replace_admin_key(counter, expected=expected, new=admin_hash)
    if status == -1:
        return json_response(request, {"error": "Key not found"}, status=404, cors=False)
    if status == 0:
        return json_response(
            request, {"error": "the admin key changed meanwhile"}, status=409, cors=False
        )
    payload = {"namespace": counter.namespace, "key": counter.key, "admin_key": admin_key}
    return json_response(request, payload, cors=False, counter=counter)  # no-store, as all


@api_view(cors=False, countapi=False)
def claim(request: HttpRequest, counter: Counter) -> HttpResponse:
    """Take ownership of a site the page script made (docs/API.md, "Who owns a site").

    GET: how, with a fresh admin key to claim with (nothing is stored). POST with that key
    (Authorization: Bearer): the proof is fetched and checked, and the site's admin key
    becomes that key, replacing any other. POST with ADMIN_TOKEN: no proof, a fresh key is
    made and answered. ``private=1/0`` sets the site's privacy at the same time.
    """
    if counter.key != SITE_KEY:
        raise BadRequest(
            f"only a page script's site is claimed (/api/v1/counters/{counter.namespace}/site"
            "/claim); a counter made by create has its admin key already"
        )
    if request.method != "POST":
        admin_key, admin_hash = new_admin_key()
        try:
            url = claims.proof_url(counter.namespace)
        except claims.NotAHost as exc:
            raise BadRequest(str(exc)) from None
        payload = {
            "namespace": counter.namespace,
            "key": counter.key,
            "admin_key": admin_key,
            "proof_url": url,
            "proof": claims.proof_line(admin_hash),
            "next": "publish the proof line at proof_url, then POST to this URL with "
            "Authorization: Bearer <admin_key>",
        }
        return json_response(request, payload, cors=False, counter=counter)
    private = _param(request, "private")
    private = None if private in (None, "") else _bool_param(request, "private", False)
    key = presented_key(request)
    if key is None:
        raise KeyRequired
    headers = check_rate(request, action="claim", rule=settings.CREATE_RATE_LIMIT)
    admin_key = None
    if is_operator(key):  # the operator claims for the owner: a fresh key, answered once
        admin_key, admin_hash = new_admin_key()
    else:
        admin_hash = hash_admin_key(key)
        try:
            claims.check_proof(counter.namespace, admin_hash)
        except claims.NotAHost as exc:  # no host to prove: the operator's only
            raise BadRequest(str(exc)) from None
        except claims.ProofError as exc:
            return json_response(
                request, {"error": f"no proof: {exc}"}, status=403, cors=False, headers=headers
            )
    value = store.claim(counter, admin_key_sha256=admin_hash, private=private)
    payload = {"namespace": counter.namespace, "key": counter.key, "value": value}
    if admin_key is not None:
        payload["admin_key"] = admin_key
    return json_response(request, payload, cors=False, counter=counter, headers=headers)


@api_view(counter_in_path=False)
def stats(request: HttpRequest) -> HttpResponse:
    """CountAPI's fields exactly; ``requests``: what this host's web processes answered."""
    payload = {**store.service_stats(), "requests": metrics.requests_answered()}
    return json_response(request, {**payload, "version": VERSION})


# visitorsite v1 --------------------------------------------------------------------------


@api_view(countapi=False)
def counter_detail(request: HttpRequest, counter: Counter) -> HttpResponse:
    """GET: the counter's figures. POST: create it (CountAPI's create options; the admin
    key in the answer's body, once)."""
    if request.method == "POST":
        return _create(request, counter.namespace, counter.key, v1=True)
    figures = _figures(request, counter)
    if isinstance(figures, HttpResponse):
        return figures
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "total": figures.total,
        "uniques": figures.uniques,
        "unique_visitor_days": figures.unique_visitor_days,
        "today": {"hits": figures.today.hits, "uniques": figures.today.uniques},
        "bots": figures.bots,
        "days": [
            {"date": day.day.isoformat(), "hits": day.hits, "uniques": day.uniques}
            for day in figures.days
        ],
    }
    if counter.key == SITE_KEY:  # the page script's site: its most viewed pages
        payload["pages"] = [page._asdict() for page in store.top_pages(counter)]
    return json_response(request, payload, counter=counter)


def _days(request: HttpRequest, counter: Counter) -> int | HttpResponse:
    """The range a reader asks for, ``?days=`` (30), or the answer that refuses it: a bad
    range (BadRequest), a private counter without its key."""
    reveal_page(request, counter)
    days = _int_param(request, "days", 30, low=1, high=settings.COUNTER_RETENTION_DAYS)
    refused = _refuse_private(request, counter)
    return days if refused is None else refused


def _not_found(request: HttpRequest, counter: Counter) -> HttpResponse:
    return json_response(request, {"error": "Key not found"}, status=404, counter=counter)


def _figures(request: HttpRequest, counter: Counter) -> store.Stats | HttpResponse:
    """The counter's figures over ``?days=``, or the answer that refuses them (_days), or a
    404 for a counter that does not exist."""
    days = _days(request, counter)
    if isinstance(days, HttpResponse):
        return days
    figures = store.stats(counter, days=days)
    if figures.total == 0 and store.total(counter) is None:
        return _not_found(request, counter)
    return figures


@api_view(countapi=False)
def breakdown(request: HttpRequest, counter: Counter) -> HttpResponse:
    """A site's dimension over ``?days=``: each value's hits and visitors, most hits first
    (docs/DIMENSIONS.md). Only a page script's site has dimensions: other counters' rows are
    empty."""
    dimension = _param(request, "dimension")
    if dimension not in store.DIMENSIONS:
        raise BadRequest(f"dimension must be one of {', '.join(store.DIMENSIONS)}")
    limit = _int_param(request, "limit", 100, low=1, high=1000)
    days = _days(request, counter)
    if isinstance(days, HttpResponse):
        return days
    if store.total(counter) is None:
        return _not_found(request, counter)
    rows = store.breakdown(counter, dimension, days=days, limit=limit)
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "dimension": dimension,
        "days": days,
        "rows": [{"value": r.value, "hits": r.hits, "visitors": r.visitors} for r in rows],
    }
    return json_response(request, payload, counter=counter)


@api_view(countapi=False)
def counter_csv(request: HttpRequest, counter: Counter) -> HttpResponse:
    """The daily series as CSV (a header row, then a day a row, oldest first)."""
    figures = _figures(request, counter)
    if isinstance(figures, HttpResponse):
        return figures
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["date", "hits", "uniques"])
    for day in figures.days:
        writer.writerow([day.day.isoformat(), day.hits, day.uniques])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{counter.namespace}-{counter.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def openapi_json(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document of this API."""
    from counter.web.openapi import document

    response = HttpResponse(json.dumps(document(), indent=2), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response
