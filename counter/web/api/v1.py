"""The v1 API's reads (a counter's figures, a site's dimension, the daily CSV) and create
by POST, and the API's OpenAPI document."""

import csv
import io
import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from counter import store
from counter.domain.periods import BadPeriod, Period, from_query
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
    read = _figures(request, counter)
    if isinstance(read, HttpResponse):
        return read
    figures, period, previous = read
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "total": figures.total,
        "uniques": figures.uniques,
        "unique_visitor_days": figures.unique_visitor_days,
        "today": {"hits": figures.today.hits, "uniques": figures.today.uniques},
        "bots": figures.bots,
        "period": _period_json(period),
        "totals": _totals_json(figures.totals),
        "days": [
            {"date": day.day.isoformat(), "hits": day.hits, "uniques": day.uniques}
            for day in figures.days
        ],
    }
    if previous is not None and figures.previous is not None:
        payload["previous_period"] = _period_json(previous)
        payload["previous_totals"] = _totals_json(figures.previous)
    if counter.key == SITE_KEY:  # the page script's site: its most viewed pages
        payload["pages"] = [page._asdict() for page in store.top_pages(counter)]
        payload["timezone"] = store.zone_name(counter)  # its days are this zone's dates
    return json_response(request, payload, counter=counter)


Periods = tuple[Period, Period | None]


def _periods(
    request: HttpRequest, counter: Counter, *, compare: bool = True
) -> Periods | HttpResponse:
    """The period a reader asks for (``?days=``, or ``?from=&to=``; 30 days by default) and
    the previous one with ``?compare=previous`` (unless the route does not ``compare``), or
    the answer that refuses them: a bad period (BadRequest, naming the problem), a private
    counter without its key."""
    reveal_page(request, counter)
    names = ("days", "from", "to", "compare") if compare else ("days", "from", "to")
    query = {name: param(request, name) for name in names}
    try:
        periods = from_query(query, today=store.local_date(counter))
    except BadPeriod as exc:
        raise BadRequest(str(exc)) from None
    refused = refuse_private(request, counter)
    return periods if refused is None else refused


def _period_json(period: Period) -> dict:
    return {"from": period.first.isoformat(), "to": period.last.isoformat(), "days": period.days}


def _totals_json(totals: store.Totals) -> dict:
    return {"hits": totals.hits, "uniques": totals.uniques}


def _not_found(request: HttpRequest, counter: Counter) -> HttpResponse:
    return json_response(request, {"error": "Key not found"}, status=404, counter=counter)


def _figures(
    request: HttpRequest, counter: Counter, *, compare: bool = True
) -> tuple[store.Stats, Period, Period | None] | HttpResponse:
    """The counter's figures over the period asked (_periods), or the answer that refuses
    them, or a 404 for a counter that does not exist."""
    periods = _periods(request, counter, compare=compare)
    if isinstance(periods, HttpResponse):
        return periods
    period, previous = periods
    figures = store.stats(
        counter, first=period.first, last=period.last, compare=previous is not None
    )
    if figures.total == 0 and store.total(counter) is None:
        return _not_found(request, counter)
    return figures, period, previous


@api_view(countapi=False)
def breakdown(request: HttpRequest, counter: Counter) -> HttpResponse:
    """A site's dimension over the period asked (``?days=``, ``?from=&to=``; with
    ``?compare=previous`` the previous period's figures per row): each value's hits and
    visitors, most hits first (docs/DIMENSIONS.md). Only a page script's site has
    dimensions: other counters' rows are empty."""
    dimension = param(request, "dimension")
    if dimension not in store.DIMENSIONS:
        raise BadRequest(f"dimension must be one of {', '.join(store.DIMENSIONS)}")
    limit = int_param(request, "limit", 100, low=1, high=1000)
    periods = _periods(request, counter)
    if isinstance(periods, HttpResponse):
        return periods
    if store.total(counter) is None:
        return _not_found(request, counter)
    period, previous = periods
    compare = previous is not None
    span = {"first": period.first, "last": period.last, "compare": compare, "limit": limit}
    narrow = {name: param(request, name) for name in ("page", "referrer", "campaign")}
    narrow = {name: value for name, value in narrow.items() if value is not None}
    if narrow:  # a page's own values, or the pages of a referrer or campaign
        try:
            rows = store.page_breakdown(counter, dimension, **span, **narrow)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    else:
        rows = store.breakdown(counter, dimension, **span)
    payload = {
        "namespace": counter.namespace,
        "key": counter.key,
        "dimension": dimension,
        "days": period.days,
        "period": _period_json(period),
        **narrow,
        "timezone": store.zone_name(counter),
        "rows": [_row_json(row, compare) for row in rows],
    }
    if previous is not None:
        payload["previous_period"] = _period_json(previous)
    return json_response(request, payload, counter=counter)


def _row_json(row: store.Row, compare: bool) -> dict:
    answer = {"value": row.value, "hits": row.hits, "visitors": row.visitors}
    if compare:
        answer.update(previous_hits=row.previous_hits, previous_visitors=row.previous_visitors)
    return answer


@api_view(countapi=False)
def counter_csv(request: HttpRequest, counter: Counter) -> HttpResponse:
    """The daily series as CSV (a header row, then a day a row, oldest first). With
    ``compare=previous`` each row carries the previous period's day at the same place
    (``previous_day``, ``previous_hits``, ``previous_uniques``): a spreadsheet compares them
    row by row, as the dashboard's chart draws them."""
    read = _figures(request, counter)
    if isinstance(read, HttpResponse):
        return read
    figures = read[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    before = figures.previous_days
    if before is None:
        writer.writerow(["date", "hits", "uniques"])
        for day in figures.days:
            writer.writerow([day.day.isoformat(), day.hits, day.uniques])
    else:
        writer.writerow(
            ["date", "hits", "uniques", "previous_day", "previous_hits", "previous_uniques"]
        )
        for day, then in zip(figures.days, before, strict=True):
            row = (day.day.isoformat(), day.hits, day.uniques)
            writer.writerow([*row, then.day.isoformat(), then.hits, then.uniques])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"{counter.namespace}-{counter.key}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def openapi_json(request: HttpRequest) -> HttpResponse:
    """The OpenAPI document of this API (GET and HEAD: it answered any method)."""
    from counter.web.openapi import document

    response = HttpResponse(json.dumps(document(), indent=2), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response
