"""The v1 API's routes of a page script's site: its settings (PATCH: the time zone its days
begin in) and who is on it now."""

from django.http import HttpRequest, HttpResponse

from counter import store
from counter.names import SITE_KEY, Counter
from counter.web.api import v1
from counter.web.api.apiview import (
    BadRequest,
    api_view,
    is_admin,
    param,
    refuse_private,
)
from counter.web.responses import json_response


def site(request: HttpRequest, path: str = "") -> HttpResponse:
    """``/api/v1/counters/<namespace>/site``: PATCH sets the site's settings; any other
    method is the counter's (v1.counter_detail)."""
    if request.method == "PATCH":
        return _patch_site(request, path)
    return v1.counter_detail(request, path)


@api_view(cors=False, countapi=False, patch=True)
def _patch_site(request: HttpRequest, counter: Counter) -> HttpResponse:
    """Set the site's time zone, ``{"timezone": "Europe/Paris"}`` (its admin key or
    ADMIN_TOKEN): its days, and its pages', begin at local midnight from then on (within a
    minute in every worker: store/zones.py). Days counted before keep their dates."""
    name = param(request, "timezone")
    if name is None or not name.strip():
        raise BadRequest('timezone is required: an IANA name, such as "Europe/Paris"')
    is_admin(request, counter, required=True)
    try:
        found = store.set_zone(counter, name.strip())
    except store.UnknownZone as exc:
        raise BadRequest(str(exc)) from None
    if not found:
        return json_response(request, {"error": "Key not found"}, status=404, cors=False)
    payload = {"namespace": counter.namespace, "key": counter.key, "timezone": name.strip()}
    return json_response(request, payload, cors=False, counter=counter)


@api_view(countapi=False)
def now(request: HttpRequest, counter: Counter) -> HttpResponse:
    """Who is on the site now: the distinct visitors of the last five minutes' page views,
    and their pages, most visitors first (private sites: their key, as every read)."""
    if counter.key != SITE_KEY:
        raise BadRequest(f"only a page script's site has visitors now: {counter.namespace}/site")
    refused = refuse_private(request, counter)
    if refused is not None:
        return refused
    if store.total(counter) is None:
        return json_response(request, {"error": "Key not found"}, status=404, counter=counter)
    here = store.here_now(counter)
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "visitors": here.visitors,
        "pages": [{"page": page, "visitors": seen} for page, seen in here.pages],
        "window_seconds": store.NOW_WINDOW_SECONDS,
    }
    return json_response(request, payload, counter=counter)
