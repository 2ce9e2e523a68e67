"""A site's dashboard's breakdowns: each dimension a ranked bar list (referrers, pages,
browsers, countries...), each row with its label, visitors and share, and the filter a click
narrows the dashboard to (domain/filters.py), each row that can narrow it a link. A page's
dashboard shows its own lists. Read from the store's daily aggregates, one read a list."""

from django.http import HttpRequest

from counter import store
from counter.domain import filters, periods
from counter.domain.value_labels import shown_rows, value_label
from counter.names import SITE_KEY, Counter, governing
from counter.web.owners import dashboard_url


def bar_lists(
    counter: Counter,
    span: dict,
    figures: store.Stats,
    narrowed: dict,
    period_query: str,
    *,
    page: str | None,
) -> list[dict] | None:
    """The dashboard's bar lists: a site's, narrowed as asked (``narrowed``, its rows links
    that keep ``period_query``); a page's of a site (``page``, its path), that page's own
    values; None for any other counter."""
    if counter.key == SITE_KEY:
        return _site_breakdowns(counter, span, figures, narrowed, period_query)
    if not page:  # not a page of a site (or one imported without its path)
        return None
    return _in_context(
        _breakdowns(governing(counter), span, page=page),
        site_visitors=sum(day.uniques for day in figures.days),
    )


# The breakdowns: titles, and the rows each shows (the rest as "(other)").
TITLES = {
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
    for dimension, title in TITLES.items():
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


def narrowed_to(request: HttpRequest | None, site: Counter, span: dict) -> dict:
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
        narrowed["filter_page_url"] = dashboard_url(page)
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
    """A site's bar lists, narrowed as asked (``narrowed_to``), each row that can narrow the view
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
