"""The page script's counters: a site's page views (the site's hit admits the page, under
PAGES_PER_SITE), the site's secret that names its pages, their move from unkeyed names, a
claim, and the most viewed pages."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import datetime
from typing import NamedTuple

import redis
from django.conf import settings

from counter import clock, metrics
from counter.names import OTHER_PAGE_KEY, SITE_KEY, Counter, page_key
from counter.store import counters, dimensions, scripts, zones
from counter.store.backup import export_counter, import_counter
from counter.store.connection import STORE_ERRORS, current, get_client, kept, run, send_all
from counter.store.counters import HIT, Hit, as_hit, hit_command
from counter.store.keys import counter_key

logger = logging.getLogger("counter.store")

_SITE_SECRET = scripts.load("site_secret.lua")
_CLAIM = scripts.load("claim.lua")
_LIST_PAGE = scripts.load("list_page.lua")

OTHER_PAGE_PATH = "(other pages)"


def hit_page(
    site: Counter,
    page: Counter,
    *,
    visitor_id: str,
    path: str,
    address: str = "",
    dimensions: tuple[str, ...] = (),
    now: datetime | None = None,
    create: bool = True,
    site_too: bool = True,
    page_too: bool = True,
) -> tuple[Hit | None, Hit | None]:
    """Count a page view on the site's counter and the page's: one pipelined round trip (two
    hash tags, so not one script). The site's hit counts the view's ``dimensions``
    (dimension, value pairs) in the site's aggregates; the page's keeps its ``path`` when it
    makes the page.

    Unless ``create`` nothing is made: a site or page that does not exist answers None and
    writes nothing, and the site lists no page that is not listed yet (its hit flags it:
    ``page_unlisted``, or ``page_refused`` when the site has PAGES_PER_SITE pages). The
    caller pays for the new counter, then lists the page (list_page) and makes it, or counts
    the view on the site's "other" page (hit_other). With ``create`` (the site's budget
    paid) the site lists the page while it has room. ``site_too=False`` counts the page only
    (None for the site), ``page_too=False`` the site only.
    """
    zone = zones.zone(site)  # kept in this process: no round trip of its own, most views
    with STORE_ERRORS:
        backend = current()
        hits = []
        if site_too:
            hits.append(
                hit_command(
                    backend.prefix,
                    site,
                    visitor_id,
                    now,
                    page=page,
                    dimensions=dimensions,
                    address=address,
                    create=create,
                    admit=create,
                    zone=zone,
                )
            )
        if page_too:
            hits.append(
                hit_command(
                    backend.prefix,
                    page,
                    visitor_id,
                    now,
                    address=address,
                    create=create,
                    path=path,
                    zone=zone,
                )
            )
        replies = _execute(backend, hits)
    site_hit = as_hit(replies[0]) if site_too else None
    page_hit = as_hit(replies[int(site_too)]) if page_too else None
    metrics.count(metrics.HITS, (site_hit is not None) + (page_hit is not None))
    return site_hit, page_hit


def list_page(site: Counter, page: Counter) -> bool:
    """List a new page among the site's pages if it has room (PAGES_PER_SITE, the "other"
    page counted): True when it is listed now (or was)."""
    keys = (counter_key(site, "pages"),)
    with STORE_ERRORS:
        return bool(run(_LIST_PAGE, keys, (page.key, settings.PAGES_PER_SITE - 1)))


def hit_other(
    site: Counter, *, visitor_id: str, address: str = "", now: datetime | None = None
) -> Hit:
    """Count a view on the site's "other" page (listed among its pages, made if need be): a
    view whose new page the site has no room for, or whose client did not pay for it."""
    other = Counter(site.namespace, OTHER_PAGE_KEY)
    with STORE_ERRORS:
        backend = current()
        keys, args = hit_command(
            backend.prefix,
            other,
            visitor_id,
            now,
            address=address,
            path=OTHER_PAGE_PATH,
            zone=zones.zone(site),
        )
        replies = _execute(
            backend,
            [(keys, args)],
            ("ZINCRBY", counter_key(site, "pages"), 1, other.key),
        )
    metrics.count(metrics.HITS)
    return as_hit(replies[1])


def _execute(backend, hits: list[tuple[tuple, tuple]], first: tuple | None = None) -> list:
    """The command ``first``, then the hit scripts, in one round trip (WAIT behind them when
    configured); their answers. A hit whose script Redis had lost (a restart, SCRIPT FLUSH)
    is sent again as EVAL, that hit alone: the others ran (a flush can come between two hits
    of one view), and ``first`` is no script."""
    wait = [("WAIT", *backend.wait)] if backend.wait else []
    commands = [] if first is None else [first]
    commands += [("EVALSHA", HIT.sha, len(keys), *keys, *args) for keys, args in hits]
    replies = send_all(backend, commands + wait)
    lost = [i for i, r in enumerate(replies) if isinstance(r, redis.exceptions.NoScriptError)]
    if lost:
        again = [("EVAL", HIT.script, *commands[i][2:]) for i in lost]
        answers = send_all(backend, again + wait)
        for i, answer in zip(lost, answers, strict=False):
            replies[i] = answer
        if wait:
            replies[-1] = answers[-1]
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    if backend.wait and replies[-1] < backend.wait[0]:
        metrics.count(metrics.REPLICATION_LAGGED)
    return replies


# A process keeps a site's page secret this long (a site deleted and made again elsewhere
# has a new one: its pages split for at most this long in this process), for this many sites.
_PAGE_SECRET_SECONDS = 300
_PAGE_SECRETS_KEPT = 10_000


def _kept_secrets() -> dict[str, tuple[float, bytes]]:
    """This process' page secrets: namespace -> (until, secret)."""
    return kept("page secrets")


def page_secret(site: Counter, *, make: bool = True) -> bytes | None:
    """The site's secret that keys its page counters' names, made by the first page view
    (kept in the site's metadata, so a backup carries it); with ``make=False`` (a reader's)
    None where the site has none yet. Read from Redis once per site every few minutes, not
    per view. The view that gives a site from before page secrets its secret moves that
    site's pages to their keyed names (rekey_pages)."""
    kept_secrets = _kept_secrets()
    secret_kept = kept_secrets.get(site.namespace)
    if secret_kept is not None and secret_kept[0] > time.monotonic():
        return secret_kept[1]
    with STORE_ERRORS:
        if make:
            keys = (counter_key(site, "m"), counter_key(site, "pages"))
            secret, pages_before = run(_SITE_SECRET, keys, (secrets.token_hex(32),))
        else:
            secret, pages_before = get_client().hget(counter_key(site, "m"), "page_secret"), 0
            if secret is None:
                return None
    secret = bytes.fromhex(secret.decode())
    if pages_before:
        rekey_pages(site, secret)
    if len(kept_secrets) >= _PAGE_SECRETS_KEPT:
        kept_secrets.clear()
    kept_secrets[site.namespace] = (time.monotonic() + _PAGE_SECRET_SECONDS, secret)
    return secret


def rekey_pages(site: Counter, secret: bytes) -> int:
    """Move the site's page counters named by an unkeyed hash (before page secrets) to the
    keyed name of their stored path: merged into the new counter (views counted there
    meanwhile are kept), then the old one deleted. Idempotent; returns the pages moved."""
    with STORE_ERRORS:
        client = get_client()
        ranked = client.zrange(counter_key(site, "pages"), 0, -1, withscores=True)
        olds = [Counter(site.namespace, raw.decode()) for raw, _ in ranked]
        pipe = client.pipeline(transaction=False)
        for old in olds:
            pipe.hget(counter_key(old, "m"), "path")
        paths = pipe.execute()
    moved = 0
    for old, (_, hits), path in zip(olds, ranked, paths, strict=True):
        if path is None or old.key == OTHER_PAGE_KEY:
            continue
        new = Counter(site.namespace, page_key(path.decode("utf-8", "surrogateescape"), secret))
        if new == old:
            continue
        import_counter(new, export_counter(old), replace=False)
        delete(old)
        with STORE_ERRORS:
            pipe = get_client().pipeline(transaction=True)
            pipe.zincrby(counter_key(site, "pages"), hits, new.key)
            pipe.zrem(counter_key(site, "pages"), old.key)
            pipe.execute()
        moved += 1
    if moved:
        logger.info("%s: moved %d page counters to keyed names", site, moved)
    return moved


def claim(site: Counter, *, admin_key_sha256: str, private: bool | None) -> int:
    """Give the site (made now if need be) this admin key, replacing any other; ``private``
    sets its privacy unless None. Returns its total."""
    now_ms = int(clock.now().timestamp() * 1000)
    flag = "" if private is None else str(int(private))
    with STORE_ERRORS:
        keys = (counter_key(site, "n"), counter_key(site, "m"))
        total_ = run(_CLAIM, keys, (now_ms, admin_key_sha256, flag))
    return int(total_)


def listed_pages(site: Counter, paths: list[str]) -> dict[str, str]:
    """Which of ``paths`` the site lists, each with its page counter's key: the pages whose
    own breakdowns the dashboard can narrow to (a page the site has no room for counts on
    "other", and its per-page values with it). One round trip, the secret kept."""
    secret = page_secret(site, make=False) if paths else None
    if secret is None:
        return {}
    keys = {path: page_key(path, secret) for path in paths}
    with STORE_ERRORS:
        pipe = get_client().pipeline(transaction=False)
        for key in keys.values():
            pipe.zscore(counter_key(site, "pages"), key)
        listed = pipe.execute()
    return {
        path: key
        for (path, key), score in zip(keys.items(), listed, strict=True)
        if score is not None
    }


class Page(NamedTuple):
    path: str  # as the page script sent it
    hits: int
    key: str  # its counter's key in the site's namespace


def top_pages(site: Counter, *, limit: int = 10) -> list[Page]:
    """The site's most viewed pages, most viewed first."""
    with STORE_ERRORS:
        client = get_client()
        ranked = client.zrevrange(counter_key(site, "pages"), 0, limit - 1, withscores=True)
        if not ranked:
            return []
        pipe = client.pipeline(transaction=False)
        for key, _ in ranked:
            pipe.hget(counter_key(Counter(site.namespace, key.decode()), "m"), "path")
        paths = pipe.execute()
    return [
        Page((path or key).decode(), int(hits), key.decode())
        for (key, hits), path in zip(ranked, paths, strict=True)
    ]


def delete(counter: Counter, *, now: datetime | None = None) -> bool:
    """counters.delete; a site goes with its pages (those it lists, and its "other" page)
    and its page secret (this process forgets it at once, others within
    _PAGE_SECRET_SECONDS), so that nothing of a private site stays readable without its key.
    """
    if counter.key == SITE_KEY:
        _kept_secrets().pop(counter.namespace, None)
        zones.forget(counter.namespace)
        with STORE_ERRORS:
            listed = get_client().zrange(counter_key(counter, "pages"), 0, -1)
        for raw in {*listed, OTHER_PAGE_KEY.encode()}:
            counters.delete(Counter(counter.namespace, raw.decode()), now=now)
        dimensions.delete(counter, now=now)
    return counters.delete(counter, now=now)


class HereNow(NamedTuple):
    visitors: int  # distinct visitors of the window
    pages: list[tuple[str, int]]  # (path, visitors), most visitors first


def here_now(site: Counter, *, window: int = counters.NOW_WINDOW_SECONDS) -> HereNow:
    """Who is on the site now: the distinct visitors of its page views in the last
    ``window`` seconds (at most NOW_WINDOW_SECONDS), and their pages. Two round trips: the
    pairs, then the pages' paths."""
    since = int((time.time() - window) * 1000)
    with STORE_ERRORS:
        client = get_client()
        pairs = client.zrangebyscore(counter_key(site, "now"), since, "+inf")
    visitors: set[bytes] = set()
    by_page: dict[str, set[bytes]] = {}
    for pair in pairs:
        visitor, _, key = pair.rpartition(b"|")
        visitors.add(visitor)
        by_page.setdefault(key.decode(), set()).add(visitor)
    ranked = sorted(by_page.items(), key=lambda item: (-len(item[1]), item[0]))
    with STORE_ERRORS:
        pipe = client.pipeline(transaction=False)
        for key, _ in ranked:
            pipe.hget(counter_key(Counter(site.namespace, key), "m"), "path")
        paths = pipe.execute() if ranked else []
    pages: dict[str, set[bytes]] = {}
    for (_key, seen), path in zip(ranked, paths, strict=True):
        # A view the site did not list (no room, or not paid for) was counted as "other".
        name = OTHER_PAGE_PATH if path is None else path.decode("utf-8", "surrogateescape")
        pages.setdefault(name, set()).update(seen)
    rows = sorted(((name, len(seen)) for name, seen in pages.items()), key=lambda r: (-r[1], r[0]))
    return HereNow(len(visitors), rows)
