"""CountAPI's endpoints and semantics (Abacus' admin additions): hit, get, create, info,
set, update, reset, delete, stats.

CountAPI clients work by changing only the base URL: the same paths (namespace optional),
status codes, JSON fields, ``X-Path`` header, CORS and JSONP. Differences are listed in
docs/API.md.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from counter import metrics, store
from counter.domain import visitors
from counter.domain.creation import CREATE_DEFAULTS, AlreadyExists, create_counter
from counter.domain.permissions import (
    Access,
    access,
    check_rate,
    reveal_page,
    ruling_meta,
)
from counter.domain.visits import count_hit, count_page_view
from counter.names import (
    Counter,
    InvalidName,
    counter_from_parts,
)
from counter.web.api.apiview import (
    api_view,
    bool_param,
    int_param,
    is_admin,
    param,
    refuse_private,
)
from counter.web.errors import BadRequest, WrongKey
from counter.web.responses import json_response

VERSION = "1.0.0"

# Counters made by a first hit, as CountAPI made them: no reset, updates of 0 to 1.
HIT_DEFAULTS = {"enable_reset": False, "update_lowerbound": 0, "update_upperbound": 1}


def _options(meta: dict[str, str]) -> dict:
    """A counter's CountAPI options; counters made by a hit have HIT_DEFAULTS."""
    return {
        "enable_reset": meta.get("enable_reset", "0") == "1",
        "update_lowerbound": int(meta.get("update_lowerbound", HIT_DEFAULTS["update_lowerbound"])),
        "update_upperbound": int(meta.get("update_upperbound", HIT_DEFAULTS["update_upperbound"])),
    }


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
    namespace = param(request, "namespace") or None
    return create_and_answer(request, namespace, param(request, "key") or None, v1=False)


def create_and_answer(request: HttpRequest, namespace: str | None, key: str | None, *, v1: bool):
    """CountAPI's create (its fields exactly; the admin key, shown once, in X-Admin-Key) or
    the v1 API's (the admin key in the body too)."""
    options = {
        "value": int_param(request, "value", 0),
        "enable_reset": bool_param(request, "enable_reset", CREATE_DEFAULTS["enable_reset"]),
        "update_lowerbound": int_param(
            request, "update_lowerbound", CREATE_DEFAULTS["update_lowerbound"]
        ),
        "update_upperbound": int_param(
            request, "update_upperbound", CREATE_DEFAULTS["update_upperbound"]
        ),
        "private": bool_param(request, "private", False),
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
    refuse_private(request, counter, found.meta)
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
    value = int_param(request, "value")
    found = access(request, ruling_meta(counter))
    if found is Access.DENIED:
        raise WrongKey
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
    amount = int_param(request, "amount")
    admin = is_admin(request, counter)
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
    is_admin(request, counter, required=True)
    status, _ = store.set_total(counter, 0, require_reset_enabled=False)
    if status == -1:
        return json_response(request, {"value": None}, status=404, cors=False, counter=counter)
    return json_response(request, {"value": 0}, cors=False, counter=counter)


@api_view(cors=False, writes=True)
def delete(request: HttpRequest, counter: Counter) -> HttpResponse:
    is_admin(request, counter, required=True)
    if not store.delete(counter):
        return json_response(
            request, {"error": "Key not found"}, status=404, cors=False, counter=counter
        )
    payload = {"status": "deleted", "namespace": counter.namespace, "key": counter.key}
    return json_response(request, payload, cors=False, counter=counter)


@api_view(counter_in_path=False)
def stats(request: HttpRequest) -> HttpResponse:
    """CountAPI's fields exactly; ``requests``: what this host's web processes answered."""
    payload = {**store.service_stats(), "requests": metrics.requests_answered()}
    return json_response(request, {**payload, "version": VERSION})
