"""The operator's page (/operator): every site and counter with its total and today's
figures, sortable, each linked to its dashboard. Only with ADMIN_TOKEN set, and given as the
API takes it (``Authorization: Bearer`` or ``?token=``); anything else is a 404, as if the
page did not exist. Bounded: the first OPERATOR_COUNTERS counters SCAN finds (page counters
left out: each site's dashboard lists its pages); the page says when there are more.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from counter import store
from counter.domain.permissions import is_operator, presented_key
from counter.web.responses import document

OPERATOR_COUNTERS = 1000
SORTS = {
    "today": lambda row: (-row.today, -row.total, str(row.counter)),
    "total": lambda row: (-row.total, -row.today, str(row.counter)),
    "name": lambda row: str(row.counter),
}


@document
@require_safe
def overview(request: HttpRequest) -> HttpResponse:
    key = presented_key(request)
    if key is None or not is_operator(key):
        raise Http404("no such page")
    sort = request.GET.get("sort", "today")
    if sort not in SORTS:
        sort = "today"
    rows, more = store.counters_overview(limit=OPERATOR_COUNTERS)
    rows.sort(key=SORTS[sort])
    context = {
        "rows": rows,
        "more": more,
        "cap": OPERATOR_COUNTERS,
        "sort": sort,
        "sorts": list(SORTS),
        # the sort links carry the token only where it came in the query (not a header's)
        "token": request.GET.get("token", ""),
        "totals": {
            "total": sum(row.total for row in rows),
            "today": sum(row.today for row in rows),
            "today_uniques": sum(row.today_uniques for row in rows),
        },
    }
    response = render(request, "counter/operator.html", context)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"  # the token may be in this page's address
    return response
