"""The pages: the landing page with its create form, and a dashboard per counter.

No external request (styles and the small copy-button script come from this app), no inline
script or style (a strict Content-Security-Policy), the chart rendered on the server as SVG.
Private counters need the owner's cookie, set by entering the admin key. A site's owner sets
its time zone from its dashboard (``set_timezone``). The page follows the live stream by
reading itself again (static/dashboard/live.js): its figure regions keep their ids. A private
counter's page has no stream: its owner's page reads itself again every 30 seconds.
"""

import hashlib
import hmac
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.signing import BadSignature
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_safe

from counter import store
from counter.domain import filters, periods
from counter.domain.creation import AlreadyExists, create_counter
from counter.domain.permissions import (
    RateLimited,
    check_rate,
    is_private,
    opens,
    ruling_meta,
)
from counter.domain.value_labels import shown_rows, value_label
from counter.names import SITE_KEY, Counter, InvalidName, counter_from_path, governing
from counter.render import charts
from counter.web.responses import document

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
        {"created": created, "dashboard": _dashboard_url(created.counter)},
    )
    response["Cache-Control"] = "no-store"  # the admin key is on this page, once
    return response


def _form_error(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    """The landing page again, with the form as it was sent and what went wrong."""
    base = request.build_absolute_uri("/").rstrip("/")
    context = {"base": base, "error": message, "form": request.POST}
    return _page(request, "counter/landing.html", context, status=status)


def _dashboard_url(counter: Counter) -> str:
    return reverse("dashboard", kwargs={"path": f"{counter.namespace}/{counter.key}"})


def _site_dashboard(counter: Counter) -> str | None:
    """A page counter's way back to its site's dashboard (None for any other counter)."""
    site = governing(counter)
    return _dashboard_url(site) if site != counter else None


def _cookie_name(counter: Counter) -> str:
    return "vs_owner_" + hashlib.sha256(str(counter).encode()).hexdigest()[:16]


def _is_owner(request: HttpRequest, counter: Counter, meta: dict) -> bool:
    stored = meta.get("admin_key_sha256", "")
    try:
        value = request.get_signed_cookie(
            _cookie_name(counter), salt="owner", max_age=settings.OWNER_COOKIE_AGE
        )  # the signature's own age: a copied cookie does not outlive its lifetime
    except (KeyError, BadSignature):
        return False
    return bool(stored) and hmac.compare_digest(value, stored)


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
    if is_private(rules) and not _is_owner(request, counter, rules):
        # A form, like Django's LoginView (200): what matters is that no figure is shown.
        return _page(request, "counter/locked.html", {"counter": counter})
    if info.total is None:  # the owner's view of a page that does not exist
        return _page(request, "counter/not_found.html", {"counter": counter}, status=404)
    chosen = _periods(request, counter)
    period, compare = chosen["period"], chosen["previous"] is not None
    span = {"first": period.first, "last": period.last, "compare": compare}
    figures = store.stats(counter, **span)
    site = counter.key == SITE_KEY
    narrowed = _narrowed(request if site else None, counter, span)
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
        "breakdowns": _site_breakdowns(counter, span, figures, narrowed, chosen["period_query"])
        if site
        else _in_context(
            _breakdowns(governing(counter), span, page=page),
            site_visitors=sum(day.uniques for day in figures.days),
        )
        if page
        else None,
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
        **_zone_context(request, counter, rules),
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


# The dashboard's breakdowns: titles, and the rows each shows (the rest as "(other)").
_TITLES = {
    "referrer": "Referrers",
    "campaign": "Campaigns",
    "page": "Pages",
    "event": "Events",
    "browser": "Browsers",
    "os": "Systems",
    "device": "Devices",
    "country": "Countries",
}
_BARS = 10


def _breakdowns(
    site: Counter, span: dict, page: str | None = None, landed: filters.Filter | None = None
) -> list[dict]:
    """Each dimension as a ranked bar list: value, hits, visitors, bar length (percent of
    the first row's hits, drawn as an SVG width: no inline style under the CSP), and with a
    comparison the change against the previous period. With ``page`` (a path of the site),
    that page's own values: its referrers, campaigns, events, browsers... With ``landed`` (a
    referrer or campaign filter), the one list of the pages its visitors landed on."""
    if landed is not None:
        narrow = {landed.dimension: landed.value}
        read = {"page": store.page_breakdown(site, "page", **narrow, **span, limit=_BARS)}
    elif page is None:
        # The days before today kept a minute per process: a year of a busy site's eight
        # dimensions is ~290,000 value-days to add up (half a second), and a public
        # dashboard can be reloaded by anyone. Today's are read every time (live.js).
        read = store.breakdowns(site, **span, limit=_BARS, keep_seconds=60)
    else:
        read = {
            dimension: store.page_breakdown(site, dimension, page=page, **span, limit=_BARS)
            for dimension in (*store.PAGE_DIMENSIONS, "event")
        }
    lists = []
    for dimension, title in _TITLES.items():
        if dimension not in read:  # a page's own: no "Pages"
            continue
        top = max((row.hits for row in read[dimension]), default=0) or 1
        bars = [
            {
                "row": row,
                "percent": round(100 * row.hits / top, 1),
                "change": None
                if row.previous_hits is None
                else periods.change(row.hits, row.previous_hits),
            }
            for row in read[dimension]
        ]
        lists.append({"dimension": dimension, "title": title, "bars": bars})
    return lists


def _in_context(lists: list[dict], *, site_visitors: int) -> list[dict]:
    """Each bar with what a reader needs beside its hits (value_labels.shown_rows: its label,
    visitors, share of the hits; an event's conversion over ``site_visitors``, the site's
    visitor-days in the period), as ``bar["shown"]``: in the row, not in a hover title."""
    for bar_list in lists:
        rows = [bar["row"] for bar in bar_list["bars"]]
        shown = shown_rows(bar_list["dimension"], rows, site_visitors=site_visitors)
        for bar, row in zip(bar_list["bars"], shown, strict=True):
            bar["shown"] = row
    return lists


def _narrowed(request: HttpRequest | None, site: Counter, span: dict) -> dict:
    """The filter a site's dashboard is narrowed to (domain/filters.py), in the template's
    terms: the filter, its words, the query that keeps it, and for a page its own dashboard
    and its visitors (its events' conversion is over them). A bad filter, or a page the site
    does not list, is said on the page (``filter_error``) above the whole site's figures.
    ``request`` None: no filter (a page's or a plain counter's dashboard)."""
    narrowed = {
        "filter": None,
        "filter_error": None,
        "filter_query": "",
        "filter_words": None,
        "filter_page_url": None,
    }
    if request is None:
        return narrowed
    try:
        chosen = filters.from_query(request.GET)
        key = _filtered_page(site, chosen)
    except filters.BadFilter as exc:
        narrowed["filter_error"] = f"{exc}. Showing the whole site instead."
        return narrowed
    if chosen is None:
        return narrowed
    noun = {"page": "page", "referrer": "visitors from", "campaign": "campaign"}[chosen.dimension]
    narrowed.update(
        filter=chosen,
        filter_query=chosen.query(),
        filter_words=f"{noun} {value_label(chosen.dimension, chosen.value)}",
    )
    if key is not None:
        page = Counter(site.namespace, key)
        narrowed["filter_page_url"] = _dashboard_url(page)
        narrowed["filter_page_visitors"] = sum(
            day.uniques for day in store.stats(page, **span).days
        )
    return narrowed


def _filtered_page(site: Counter, chosen: filters.Filter | None) -> str | None:
    """The key of the page a page filter names; BadFilter for one the site does not list
    (no per-page figures of it to show). None for any other filter."""
    if chosen is None or chosen.dimension != "page":
        return None
    key = store.listed_pages(site, [chosen.value]).get(chosen.value)
    if key is None:
        raise filters.BadFilter("this site lists no such page")
    return key


def _site_breakdowns(
    site: Counter, span: dict, figures: store.Stats, narrowed: dict, period_query: str
) -> list[dict]:
    """A site's bar lists, narrowed as asked (_narrowed), each row that can narrow the view
    further a link (``bar["href"]``) that keeps the period (``period_query``)."""
    chosen = narrowed["filter"]
    visitors = sum(day.uniques for day in figures.days)
    if chosen is None:
        lists = _breakdowns(site, span)
    elif chosen.dimension == "page":
        lists = _breakdowns(site, span, page=chosen.value)
        visitors = narrowed["filter_page_visitors"]
    else:
        lists = _breakdowns(site, span, landed=chosen)
    return _linked(site, _in_context(lists, site_visitors=visitors), period_query)


def _linked(site: Counter, lists: list[dict], period_query: str) -> list[dict]:
    """Each row a filter can narrow to gets its link (the period kept): a referrer or a
    campaign (not "(other)"), a page the site lists (the others have no figures of their
    own: their views count on "other"). One round trip for the pages."""
    paths = [
        bar["row"].value for bars in lists if bars["dimension"] == "page" for bar in bars["bars"]
    ]
    listed = store.listed_pages(site, [path for path in paths if filters.can_narrow("page", path)])
    for bar_list in lists:
        dimension = bar_list["dimension"]
        for bar in bar_list["bars"]:
            value = bar["row"].value
            linked = (
                value in listed if dimension == "page" else filters.can_narrow(dimension, value)
            )
            narrow = filters.Filter(dimension, value).query()
            bar["href"] = f"?{period_query}{narrow}" if linked else None
    return lists


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
    response = HttpResponseRedirect(_dashboard_url(counter))
    response.set_signed_cookie(
        _cookie_name(counter),
        stored,
        salt="owner",
        max_age=settings.OWNER_COOKIE_AGE,
        path=_dashboard_url(counter),
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )
    return response


# A site's time zone, set from its dashboard ------------------------------------------------


def _zone_context(request: HttpRequest, counter: Counter, rules: dict) -> dict:
    """The zone the counter's days are dated in (its site's; UTC for any other counter) and,
    on a site's dashboard, its owner's form to change it (``zone_form``): with the owner's
    cookie the form carries a token of this page (no key to type), else it asks for the
    admin key. ``?timezone=<name>`` after the form: the confirmation."""
    zone = store.zone_name(counter)
    if counter.key != SITE_KEY:
        return {"zone": zone, "zone_form": None, "zone_set": None}
    just_set = request.GET.get("timezone")
    if just_set in store.ZONE_NAMES:  # this worker may keep the zone before for a minute
        zone = just_set
    else:
        just_set = None
    stored = rules.get("admin_key_sha256", "")
    owner = bool(stored) and _is_owner(request, counter, rules)
    return {
        "zone": zone,
        "zone_set": just_set,
        "zone_form": _zone_form(counter, zone, _owner_token(counter, stored) if owner else None),
    }


def _zone_form(counter: Counter, chosen: str, token: str | None) -> dict:
    names = store.ZONE_NAMES
    return {
        "action": reverse("dashboard-timezone", kwargs={"path": str(counter)}),
        "zones": names if chosen in names else (chosen, *names),
        "chosen": chosen,
        "token": token,
    }


def _owner_token(counter: Counter, stored: str) -> str:
    """What the owner's page sends back with the form: the owner's cookie alone is no proof
    that the owner sent it (a cookie goes with any request), this token is (no other page
    can read it). Bound to the counter and its admin key (a new key ends it)."""
    return signing.dumps(str(counter), salt=f"timezone:{stored}")


def _holds_token(token: str, counter: Counter, stored: str) -> bool:
    try:
        found = signing.loads(token, salt=f"timezone:{stored}", max_age=settings.OWNER_COOKIE_AGE)
    except BadSignature:
        return False
    return found == str(counter)


@document
@require_http_methods(["POST"])
def set_timezone(request: HttpRequest, path: str) -> HttpResponse:
    """The site dashboard's form: the site's time zone, set as the API's PATCH sets it
    (``store.set_zone``), by its owner: the owner's cookie with the page's token, or the
    admin key (or ADMIN_TOKEN) typed in. Then back to the dashboard, which confirms it; a
    wrong key (403) or an unknown zone (400) is said on a page with the form again."""
    try:
        counter = counter_from_path(path)
    except InvalidName as exc:
        return _page(request, "counter/not_found.html", {"reason": str(exc)}, status=400)
    if counter.key != SITE_KEY:
        reason = f"only a page script's site has a time zone: {counter.namespace}/{SITE_KEY}"
        return _page(request, "counter/not_found.html", {"reason": reason}, status=400)
    rules = ruling_meta(counter)
    stored = rules.get("admin_key_sha256", "")
    name = request.POST.get("timezone", "").strip()
    entered = request.POST.get("admin_key", "").strip()
    token = request.POST.get("owner", "")
    owner = bool(stored and token) and (
        _is_owner(request, counter, rules) and _holds_token(token, counter, stored)
    )
    keyed = bool(entered) and opens(entered, rules)
    if not (owner or keyed):
        message = "That is not this site's admin key." if entered else "The admin key is needed."
        return _zone_error(request, counter, name, message, status=403)
    try:
        found = store.set_zone(counter, name)
    except store.UnknownZone as exc:
        return _zone_error(request, counter, name, f"That is an {exc}.", status=400)
    if not found:
        return _page(request, "counter/not_found.html", {"counter": counter}, status=404)
    query = urlencode({"timezone": name})  # Etc/GMT+5: "+" is not a space
    return HttpResponseRedirect(f"{_dashboard_url(counter)}?{query}#timezone")


def _zone_error(
    request: HttpRequest, counter: Counter, name: str, message: str, *, status: int
) -> HttpResponse:
    """The form again, with what went wrong, and the zone as it was chosen (not the site's:
    a stranger learns nothing of a private site here). The admin key is typed again."""
    chosen = name if name in store.ZONE_NAMES else "UTC"
    context = {
        "counter": counter,
        "error": message,
        "zone_form": _zone_form(counter, chosen, None),
        "dashboard": _dashboard_url(counter),
    }
    response = _page(request, "counter/timezone.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
