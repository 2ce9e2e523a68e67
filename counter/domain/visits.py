"""Counting a visit: the one sequence every counting route follows.

Should this request count (HEAD and prefetches only read), who is it (a salted hash, or a
bot), count it, and pay for what it makes. A hit on an existing counter is one round trip.
A hit on a name nobody made writes nothing at first (the hit script answers "new"); the
client's new-counter budget (NEW_COUNTER_RATE_LIMIT, per address) is spent, and only then is
the counter made by the same hit sent again. So nothing is written that no budget paid for,
nothing is taken back, and no hit answered 200 is lost. First hits racing on one new name may
each pay: the budget errs on the strict side, and a racer refused by it is counted after all
when another's paid hit has made the counter meanwhile.
"""

from django.conf import settings
from django.http import HttpRequest

from counter import store
from counter.domain import dimension_values, visitors
from counter.domain.permissions import RateLimited, check_rate
from counter.names import Counter, made_by_page_script, page_key


class MadeByPageScript(Exception):
    """A hit on a ``site`` or ``p.*`` name that no page view made (a 404): those counters are
    made by the page script only, so a stranger cannot make a site's counters first. A rule
    of counting, not of permission: nobody, key or not, makes one with a hit."""

    def __init__(self, counter: Counter):
        super().__init__(
            f"no counter {counter}: 'site' and 'p.*' counters are made by the page script"
        )


def count_hit(
    request: HttpRequest, counter: Counter, *, uniques: bool = False, page_script: bool = False
) -> store.Hit | None:
    """Count this request on ``counter`` when it is a visit: its hit, or a bot's (not
    counted), or None when the request only reads. ``uniques``: the answer carries the unique
    visitor-days. ``page_script``: the request may make a site's counter (CountAPI's
    ``:HOST:``); else a ``site`` or ``p.*`` name nobody made is MadeByPageScript (404)."""
    visitor = _visitor(request, counter.namespace)
    if visitor is None:
        return None
    if visitor.is_bot:
        return store.bot_hit(counter)
    hit = store.hit(
        counter, visitor_id=visitor.id, address=visitor.address, uniques=uniques, create=False
    )
    if hit is not None:
        return hit
    if not page_script and made_by_page_script(counter.key):
        raise MadeByPageScript(counter)
    who = {"visitor_id": visitor.id, "address": visitor.address, "uniques": uniques}
    try:
        pay_for_new_counter(request)
    except RateLimited:
        hit = store.hit(counter, create=False, **who)  # made meanwhile by a paid first hit?
        if hit is None:
            raise
        return hit
    return store.hit(counter, **who)


def count_page_view(
    request: HttpRequest,
    site: Counter,
    path: str,
    *,
    beacon: dimension_values.Beacon | None = None,
) -> tuple[store.Hit, store.Hit, Counter] | None:
    """Count a page view as the page script does: the site's hit (with the dimensions of
    the script's ``beacon``, made for a visitor only: a bot's User-Agent is not parsed) and
    the page's. Returns both hits and the page's counter, or None when the request only
    reads (HEAD, prefetch) or comes from a bot (counted on the site's bot total when the site
    exists).

    A new site is paid for by the client's new-counter budget before anything is written
    (past it: RateLimited, a 429). A new page of an existing site is paid for likewise; past
    the budget, or past PAGES_PER_SITE, the view counts on the site's "other" page, so one
    address cannot fill a site's pages."""
    visitor = _visitor(request, site.namespace)
    if visitor is None:
        return None
    if visitor.is_bot:
        store.bot_hit(site)
        return None
    dimensions = () if beacon is None else _dimensions(request, site, beacon)
    paid = False
    secret = store.page_secret(site, make=False)
    if secret is None:  # no page view made this site: it is new, or made by a claim or :HOST:
        if store.total(site) is None:
            pay_for_new_counter(request)
            paid = True
        secret = store.page_secret(site)
    page = Counter(site.namespace, page_key(path, secret))
    who = {"visitor_id": visitor.id, "address": visitor.address}
    site_hit, page_hit = store.hit_page(
        site, page, path=path, dimensions=dimensions, create=paid, **who
    )
    if site_hit is None:  # its metadata outlived it (a secret made before its first view)
        if not paid:
            pay_for_new_counter(request)
        site_hit, made = store.hit_page(
            site, page, path=path, dimensions=dimensions, page_too=page_hit is None, **who
        )
        page_hit = page_hit or made
    if page_hit is None:
        page_hit = _new_page(request, site, page, path, site_hit, who)
    return site_hit, page_hit, page


def count_event(request: HttpRequest, site: Counter, name: str, *, page: str) -> None:
    """Count the page script's custom event ``name`` (on ``page``, its path) in the site's
    events: a visitor's only (a bot's, or a request that only reads, counts nothing);
    nothing either when the site does not exist (an event makes no counter)."""
    visitor = _visitor(request, site.namespace)
    if visitor is None or visitor.is_bot:
        return
    store.count_event(site, visitor_id=visitor.id, address=visitor.address, name=name, page=page)


def _visitor(request: HttpRequest, namespace: str) -> visitors.Visitor | None:
    """Who this visit is (a salted id, or a bot), or None when the request only reads (HEAD,
    a prefetch): the first step of every count."""
    if not visitors.should_count(request):
        return None
    return visitors.identify(request, namespace=namespace)


def _dimensions(
    request: HttpRequest, site: Counter, beacon: dimension_values.Beacon
) -> tuple[str, ...]:
    return dimension_values.of_view(
        beacon,
        namespace=site.namespace,
        user_agent=visitors.user_agent(request),
        address=visitors.client_ip(request),
    )


def _new_page(
    request: HttpRequest, site: Counter, page: Counter, path: str, site_hit: store.Hit, who
) -> store.Hit:
    """The first view of a page the site does not list yet (its site's hit is counted)."""
    room = not site_hit.page_refused
    if room and _may_make_counter(request) and store.list_page(site, page):
        return store.hit_page(site, page, path=path, site_too=False, **who)[1]
    return store.hit_other(site, **who)


def _may_make_counter(request: HttpRequest) -> bool:
    try:
        pay_for_new_counter(request)
    except RateLimited:
        return False
    return True


def pay_for_new_counter(request: HttpRequest) -> None:
    """Spend one of the client address's NEW_COUNTER_RATE_LIMIT; RateLimited past it."""
    check_rate(request, action="new-counter", rule=settings.NEW_COUNTER_RATE_LIMIT)
