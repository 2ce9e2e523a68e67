"""The v1 API's reads (a counter's figures, a site's dimension, the daily CSV) and create
by POST, and the API's OpenAPI document."""

import csv
import io
import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from counter import store
from counter.domain.permissions import (
    reveal_page,
)
from counter.names import (
    SITE_KEY,
    Counter,
)
from counter.web.api.apiview import (
    api_view,
    int_param,
    param,
    refuse_private,
)
from counter.web.api.countapi import create_and_answer
from counter.web.errors import BadRequest
from counter.web.responses import json_response


@api_view(countapi=False)
def counter_detail(request: HttpRequest, counter: Counter) -> HttpResponse:
    """GET: the counter's figures. POST: create it (CountAPI's create options; the admin
    key in the answer's body, once)."""
    if request.method == "POST":
        return create_and_answer(request, counter.namespace, counter.key, v1=True)
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
        payload["timezone"] = store.zone_name(counter)  # its days are this zone's dates
    return json_response(request, payload, counter=counter)


def _days(request: HttpRequest, counter: Counter) -> int:
    """The range a reader asks for, ``?days=`` (30); raises what refuses it: a bad range
    (BadRequest), a private counter without its key (PrivateCounter)."""
    reveal_page(request, counter)
    days = int_param(request, "days", 30, low=1, high=settings.COUNTER_RETENTION_DAYS)
    refuse_private(request, counter)
    return days


def _not_found(request: HttpRequest, counter: Counter) -> HttpResponse:
    return json_response(request, {"error": "Key not found"}, status=404, counter=counter)


def _figures(request: HttpRequest, counter: Counter) -> store.Stats | HttpResponse:
    """The counter's figures over ``?days=`` (_days raises what refuses them), or a 404 for
    a counter that does not exist."""
    days = _days(request, counter)
    figures = store.stats(counter, days=days)
    if figures.total == 0 and store.total(counter) is None:
        return _not_found(request, counter)
    return figures


@api_view(countapi=False)
def breakdown(request: HttpRequest, counter: Counter) -> HttpResponse:
    """A site's dimension over ``?days=``: each value's hits and visitors, most hits first
    (docs/DIMENSIONS.md). Only a page script's site has dimensions: other counters' rows are
    empty."""
    dimension = param(request, "dimension")
    if dimension not in store.DIMENSIONS:
        raise BadRequest(f"dimension must be one of {', '.join(store.DIMENSIONS)}")
    limit = int_param(request, "limit", 100, low=1, high=1000)
    days = _days(request, counter)
    if store.total(counter) is None:
        return _not_found(request, counter)
    narrow = {name: param(request, name) for name in ("page", "referrer", "campaign")}
    narrow = {name: value for name, value in narrow.items() if value is not None}
    if narrow:  # a page's own values, or the pages of a referrer or campaign
        try:
            rows = store.page_breakdown(counter, dimension, days=days, limit=limit, **narrow)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    else:
        rows = store.breakdown(counter, dimension, days=days, limit=limit)
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "dimension": dimension,
        "days": days,
        **narrow,
        "timezone": store.zone_name(counter),
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
