"""What people paste into pages: SVG badges, shields.io endpoint JSON, a pixel, a script.

Paths avoid what common filter lists block (`/count?`, `/counter`, `count.js`, `/hit?`,
`/pixel`, `/beacon`, `/track`, `/collect`, `/analytics`, `stats.js`): badges live under
`/badge/`, the pixel under `/i/`, the script at `/js/v1/site.js` and its endpoint at `/e/`.
"""

import base64
import json
from dataclasses import dataclass
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods, require_safe

from counter import store
from counter.domain import dimension_values, permissions, visits
from counter.domain.params import BadParameter, parse_int
from counter.names import (
    SITE_KEY,
    Counter,
    counter_from_parts,
    counter_from_path,
)
from counter.render import badges
from counter.web.responses import text

# Counting responses must not be cached anywhere, GitHub's camo image proxy included.
_NO_CACHE = {
    "Cache-Control": "max-age=0, no-cache, no-store, must-revalidate",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
    "Pragma": "no-cache",
}
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _compact(source: str) -> bytes:
    """The page script as served: its opening comment cut to its first line (the snippet),
    each line's indentation dropped (docs/EMBEDS.md has the sizes)."""
    head, _, body = source.partition("*/")
    first = head.splitlines()[0]
    lines = (line.strip() for line in body.splitlines())
    return (f"{first} */\n" + "\n".join(line for line in lines if line)).encode()


_SCRIPT = _compact((Path(__file__).parent.parent / "static" / "embed" / "site.js").read_text())
_VALUES = ("total", "uniques", "today", "today/total")
MAX_BASE = 10**15 - 1  # a badge's ?base=, added to its figures: 15 digits at most


def _respond(
    body: bytes | str, content_type: str, headers: dict, status: int = 200
) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type, status=status)
    response["Content-Length"] = str(len(response.content))
    for name, value in headers.items():
        response[name] = value
    return response


def _counter(path: str) -> Counter:
    return counter_from_path(path)


def _visit(request: HttpRequest, counter: Counter, *, uniques: bool = False) -> store.Hit | None:
    """Count the request when it is a human visit; None when it only reads. ``uniques``: the
    hit's answer must carry the unique visitor-days."""
    hit = visits.count_hit(request, counter, uniques=uniques)
    return hit if hit is not None and hit.counted else None


@dataclass(frozen=True)
class BadgeOptions:
    label: str
    value: str
    base: int
    abbreviated: bool
    message_color: str
    label_color: str
    style: str
    counting: bool


def badge_options(request: HttpRequest) -> BadgeOptions:
    """Every badge option, validated before anything is counted."""
    query = request.GET
    value = query.get("value", "total")
    if value not in _VALUES:
        raise badges.BadgeOptionError(f"value must be one of {', '.join(_VALUES)}")
    try:
        base = parse_int(query.get("base", "0"), name="base", low=0, high=MAX_BASE)
    except BadParameter as exc:
        raise badges.BadgeOptionError(str(exc)) from None
    style = query.get("style", "flat")
    if style not in badges.STYLES:
        raise badges.BadgeOptionError(f"style must be one of {', '.join(badges.STYLES)}")
    label = badges.check_text(query.get("label", "visitors"))
    if len(label) > badges.MAX_TEXT:
        raise badges.BadgeOptionError(f"label is at most {badges.MAX_TEXT} characters")
    return BadgeOptions(
        label=label,
        value=value,
        base=base,
        abbreviated=query.get("abbreviated", "0").lower() in {"1", "true", "yes"},
        message_color=badges.color(query.get("color", "brightgreen")),
        label_color=badges.color(query.get("label_color", "grey")),
        style=style,
        counting=query.get("count", "1").lower() not in {"0", "false", "no"},
    )


def _message(options: BadgeOptions, counter: Counter, hit: store.Hit | None) -> str:
    """The badge's number(s), per value, base and abbreviated."""
    if hit is None:  # read-only, bot or prefetch: read the figures
        figures = store.stats(counter, days=1)
        total, uniques, today = figures.total, figures.unique_visitor_days, figures.today.hits
    else:
        total, uniques, today = hit.total, hit.unique_visitor_days, hit.today

    def shown(number: int) -> str:
        return badges.abbreviate(number) if options.abbreviated else f"{number:,}"

    base = options.base
    return {
        "total": lambda: shown(total + base),
        "uniques": lambda: shown(uniques + base),
        "today": lambda: shown(today),
        "today/total": lambda: f"{shown(today)} / {shown(total + base)}",
    }[options.value]()


_PRIVATE = "Forbidden: this counter is private; its badge shows the total only.\n"


def _private_figures(request: HttpRequest, counter: Counter) -> bool:
    """A private counter's badge shows its total (public, as /get is); other figures only
    with its admin key (?token=). One more read, for those badges only."""
    return permissions.may_see(request, permissions.ruling_meta(counter)) is not None


@require_safe
def badge(request: HttpRequest, path: str) -> HttpResponse:
    """``/badge/<ns>/<key>.svg`` counts a visit and draws it; ``?count=0`` only draws."""
    counter = _counter(path)  # a bad name or option: errors.py's 400
    options = badge_options(request)
    permissions.reveal_page(request, counter)
    if options.value != "total" and _private_figures(request, counter):
        return text(_PRIVATE, status=403)
    hit = None
    if options.counting:
        hit = _visit(request, counter, uniques=options.value == "uniques")
    svg = badges.render_svg(
        label=options.label,
        message=_message(options, counter, hit),
        message_color=options.message_color,
        label_color=options.label_color,
        style=options.style,
    )
    headers = dict(_NO_CACHE) if options.counting else {"Cache-Control": "public, max-age=60"}
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return _respond(svg, "image/svg+xml; charset=utf-8", headers)


@require_safe
def shields_endpoint(request: HttpRequest, path: str) -> HttpResponse:
    """shields.io's endpoint-badge JSON (read-only: shields' own fetches are not visits)."""
    counter = _counter(path)  # a bad name or option: errors.py's 400
    options = badge_options(request)
    permissions.reveal_page(request, counter)
    if options.value != "total" and _private_figures(request, counter):
        error = json.dumps({"error": _PRIVATE.strip()})
        return _respond(error, "application/json", {"Cache-Control": "no-store"}, status=403)
    payload = {
        "schemaVersion": 1,
        "label": options.label,
        "message": _message(options, counter, None),
        "color": request.GET.get("color", "brightgreen").lstrip("#"),
    }
    headers = {"Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"}
    return _respond(json.dumps(payload), "application/json", headers)


@require_safe
def pixel(request: HttpRequest, path: str) -> HttpResponse:
    """A 1x1 transparent GIF that counts a visit (for e-mail and pages without scripts)."""
    counter = _counter(path)  # a bad name: errors.py's 400
    permissions.reveal_page(request, counter)
    _visit(request, counter)
    return _respond(_PIXEL, "image/gif", dict(_NO_CACHE))


@require_safe
def script(request: HttpRequest) -> HttpResponse:
    """The page counter script: versioned URL, so it may be cached for a year."""
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "Access-Control-Allow-Origin": "*",
    }
    return _respond(_SCRIPT, "text/javascript; charset=utf-8", headers)


@require_http_methods(["POST", "OPTIONS"])
def beacon(request: HttpRequest, namespace: str) -> HttpResponse:
    """Receives the script's page views and events (text/plain POSTs from any origin): 204."""
    cors = {"Access-Control-Allow-Origin": "*"}
    if request.method == "OPTIONS":
        return _respond(b"", "text/plain", {**cors, "Access-Control-Allow-Methods": "POST"})
    # A bad name or body: errors.py's 400.
    site = counter_from_parts(namespace=namespace, key=SITE_KEY)
    sent = dimension_values.parse_beacon(request.body)
    if sent.event is not None:
        visits.count_event(request, site, sent.event, page=sent.path)
    else:
        visits.count_page_view(request, site, sent.path, beacon=sent)
    response = HttpResponse(status=204)
    for name, value in {**cors, **_NO_CACHE}.items():
        response[name] = value
    return response
