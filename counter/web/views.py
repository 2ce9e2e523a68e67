"""The seed's text counters: ``/count`` and ``/count/<namespace>/<key>`` (the welcome page is
dashboard.landing)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from counter import store
from counter.domain import permissions, visits
from counter.names import SEED_COUNTER, Counter, counter_from_path
from counter.web.responses import text


def count_visit(request: HttpRequest, counter: Counter) -> int:
    """Count this request on ``counter`` when it is a visit; return the total to show."""
    hit = visits.count_hit(request, counter)
    return hit.total if hit is not None else store.total(counter) or 0


@require_safe
def count(request: HttpRequest, path: str | None = None) -> HttpResponse:
    """``/count`` (the seed's counter), ``/count/<key>``, ``/count/<namespace>/<key>``."""
    if path is None:
        counter = SEED_COUNTER
    else:
        counter = counter_from_path(path)  # a bad name: errors.py's 400
        permissions.reveal_page(request, counter)
    return text(f"Visitor count: {count_visit(request, counter)}")
