"""The pages: the landing page with its create form, and a dashboard per counter.

No external request (styles and the small copy-button script come from this app), no inline
script or style (a strict Content-Security-Policy), the chart rendered on the server as SVG.
Private counters need the owner's cookie (web/owners.py), set by entering the admin key. A
site's dashboard shows its breakdowns (web/breakdowns.py) and its owner's time zone form
(web/zone_form.py). The page follows the live stream by reading itself again
(static/dashboard/live.js): its figure regions keep their ids. A private counter's page has
no stream: its owner's page reads itself again every 30 seconds.
"""

from datetime import date, timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_safe

from counter import store
from counter.domain import periods
from counter.domain.creation import AlreadyExists, create_counter
from counter.domain.permissions import (
    RateLimited,
    check_rate,
    is_private,
    opens,
    ruling_meta,
)
from counter.names import SITE_KEY, Counter, InvalidName, counter_from_path, governing
from counter.render import charts
from counter.web import breakdowns
from counter.web.owners import dashboard_url, is_owner, remember
from counter.web.responses import document
from counter.web.zone_form import zone_context

# A private counter's page has no live stream (it needs the admin key, which the page never
# holds): live.js reads its owner's page again this often instead, with the owner's cookie.
PRIVATE_REFRESH_SECONDS = 30

# The period picker's choices besides a custom from/to: (label, days), None for yesterday.
PRESETS = (("Today", 1), ("Yesterday", None), ("7 days", 7), ("30 days", 30), ("90 days", 90))


def _picker(period: periods.Period, compared: bool, today: date) -> list[dict]:
    """The picker's links, each keeping the comparison; the chosen one marked current."""
    retention = settings.COUNTER_RETENTION_DAYS
    compare = "&compare=previous" if compared else ""
    choices = []
    for label, days in PRESETS:
        if (days or 2) > retention:  # yesterday is the second day kept
            continue
        if days is None:
            yesterday = today - timedelta(days=1)
            choice = periods.Period(yesterday, yesterday)
        else:
            choice = periods.last_days(days, today=today)
        current = (choice.first, choice.last) == (period.first, period.last)
        choices.append({"label": label, "query": choice.query() + compare, "current": current})
    return choices


def _periods(request: HttpRequest, counter: Counter) -> dict:
    """The period asked (``days``, ``from``/``to``, ``compare``), in the template's terms,
    in the counter's days (its site's time zone). A bad one is said on the page
    (``period_error``) above the default period's figures: never shown as if it were what
    was asked."""
    today = store.local_date(counter)
    retention = settings.COUNTER_RETENTION_DAYS
    error = None
    try:
        period, previous = periods.from_query(request.GET, today=today)
    except periods.BadPeriod as exc:
        days = min(periods.DEFAULT_DAYS, retention)
        error = f"{exc}. Showing the last {days} days instead."
        period, previous = periods.last_days(days, today=today), None
    compared = previous is not None
    toggle = period.query() + ("" if compared else "&compare=previous")
    if not compared and period.previous().first < periods.oldest_day(today, retention):
        toggle = None  # the previous period is past the retention: nothing to compare with
    return {
        "period": period,
        "previous": previous,
        "period_error": error,
        "period_words": periods.describe(period, today=today),
        "previous_words": periods.describe_previous(period) if compared else None,
        "period_query": period.query() + ("&compare=previous" if compared else ""),
        "picker": _picker(period, compared, today),
        "compare_toggle": toggle,
        "oldest_day": periods.oldest_day(today, retention),
        "today": today,
    }


def _page(request: HttpRequest, template: str, context: dict, status: int = 200):
    return render(request, template, context, status=status)


@document
@require_safe
def landing(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/").rstrip("/")  # validates Host
    return _page(
        request,
        "counter/landing.html",
        {"base": base, "count_url": base + reverse("count"), "form": request.GET},
    )


@document
@require_http_methods(["POST"])
def create(request: HttpRequest) -> HttpResponse:
    """The landing page's form: the same creation code as the API's /create.

    No CSRF token: the form can do nothing the public, cross-origin /create API cannot, and a
    token would need a cookie on every visitor of the landing page.
    """
    form = request.POST
    try:  # one budget with the API's /create: the same bucket for the client's address
        check_rate(request, action="create", rule=settings.CREATE_RATE_LIMIT)
    except RateLimited as exc:
        response = _form_error(request, f"Too many new counters: {exc}.", status=429)
        response["Retry-After"] = str(exc.reset)
        return response
    try:
        created = create_counter(
            namespace=form.get("namespace") or None,
            key=form.get("key") or None,
            private=form.get("private") == "on",
        )
    except (ValueError, AlreadyExists) as exc:
        message = f"A counter {exc} exists already." if isinstance(exc, AlreadyExists) else exc
        return _form_error(request, str(message), status=400)
    response = _page(
        request,
        "counter/created.html",
        {"created": created, "dashboard": dashboard_url(created.counter)},
    )
    response["Cache-Control"] = "no-store"  # the admin key is on this page, once
    return response


def _form_error(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """The landing page again, with the form as it was sent and what went wrong."""
    base = request.build_absolute_uri("/").rstrip("/")
    context = {"base": base, "error": message, "form": request.POST}
    return _page(request, "counter/landing.html", context, status=status)


def _site_dashboard(counter: Counter) -> str | None:
    """A page counter's way back to its site's dashboard (None for any other counter)."""
    site = governing(counter)
    return dashboard_url(site) if site != counter else None


@document
@require_safe
def dashboard(request: HttpRequest, path: str) -> HttpResponse:
    try:
        counter = counter_from_path(path)
    except InvalidName as exc:
        return _page(request, "counter/not_found.html", {"reason": str(exc)}, status=400)
    info = store.info(counter)
    rules = ruling_meta(counter, info.meta)  # a page counter is its site's
    # A private site's pages are locked whether they exist or not: a stranger cannot probe
    # which paths it has. Another missing counter is not found.
    locked = is_private(rules) and governing(counter) != counter
    if info.total is None and not locked:
        return _page(request, "counter/not_found.html", {"counter": counter}, status=404)
    if is_private(rules) and not is_owner(request, counter, rules):
        # A form, like Django's LoginView (200): what matters is that no figure is shown.
        return _page(request, "counter/locked.html", {"counter": counter})
    if info.total is None:  # the owner's view of a page that does not exist
        return _page(request, "counter/not_found.html", {"counter": counter}, status=404)
    chosen = _periods(request, counter)
    period, compare = chosen["period"], chosen["previous"] is not None
    span = {"first": period.first, "last": period.last, "compare": compare}
    figures = store.stats(counter, **span)
    site = counter.key == SITE_KEY
    narrowed = breakdowns.narrowed_to(request if site else None, counter, span)
    # A page of a site (made by the page script): its path names its own breakdowns.
    page = info.meta.get("path") if governing(counter) != counter else None
    base = request.build_absolute_uri("/").rstrip("/")
    context = {
        **chosen,
        "counter": counter,
        "figures": figures,
        "changes": _changes(figures) if compare else None,
        "days": period.days,
        "chart": mark_safe(  # noqa: S308  (escaped inside)
            charts.render_chart(
                figures.days,
                previous=figures.previous_days,
                previous_words=chosen["previous_words"],
            )
        ),
        "rows": list(reversed(figures.days)),
        "top_pages": store.top_pages(counter) if site else None,
        "here_now": store.here_now(counter) if site else None,
        "now_window_minutes": store.NOW_WINDOW_SECONDS // 60,
        "now_url": reverse("api-v1-site-now", kwargs={"path": str(counter)}),
        "breakdowns": breakdowns.bar_lists(
            counter, span, figures, narrowed, chosen["period_query"], page=page
        ),
        **narrowed,
        "bar_cap": settings.DIMENSION_VALUES_PER_DAY,
        "path": info.meta.get("path"),
        "is_site": site,
        "site_dashboard": _site_dashboard(counter),
        "private": is_private(rules),
        "base": base,
        "salt_rotation": settings.VISITOR_SALT_ROTATION,
        "csv_url": reverse("api-v1-csv", kwargs={"path": str(counter)})
        + f"?{chosen['period_query']}",  # with compare=previous: the previous days' columns
        "live_url": reverse("live", kwargs={"path": str(counter)}),
        "refresh_seconds": PRIVATE_REFRESH_SECONDS,
        **zone_context(request, counter, rules),
    }
    status = 400 if chosen["period_error"] or narrowed["filter_error"] else 200
    response = _page(request, "counter/dashboard.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _changes(figures: store.Stats) -> dict[str, str]:
    """The cards' changes against the previous period: "+12 %", "new"..."""
    now, before = figures.totals, figures.previous
    return {
        "hits": periods.change(now.hits, before.hits),
        "uniques": periods.change(now.uniques, before.uniques),
    }


@document
@require_http_methods(["POST"])
def unlock(request: HttpRequest, path: str) -> HttpResponse:
    """The owner enters the admin key; a signed, HttpOnly, SameSite=Strict cookie remembers it
    for this counter's dashboard only. Visitors of counted pages never get a cookie."""
    try:
        counter = counter_from_path(path)
    except InvalidName as exc:
        return _page(request, "counter/not_found.html", {"reason": str(exc)}, status=400)
    rules = ruling_meta(counter)
    stored = rules.get("admin_key_sha256", "")
    entered = request.POST.get("admin_key", "").strip()
    # ADMIN_TOKEN opens any dashboard too: the operator page links to private ones
    if not stored or not opens(entered, rules):
        return _page(
            request,
            "counter/locked.html",
            {"counter": counter, "error": "That is not this counter's admin key."},
        )
    response = HttpResponseRedirect(dashboard_url(counter))
    remember(request, response, counter, stored)
    return response
