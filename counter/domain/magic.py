"""CountAPI's magic names: ``:HOST:`` and ``:PATHNAME:`` in a counter's path, replaced with
the calling page's host and path, taken from the request's ``Origin``, then ``Referer``.

    /hit/:HOST:              the host's site counter  (<host>/site)
    /hit/:HOST:/:PATHNAME:   a page counter of that site, named as the page script names it
    /hit/:HOST:/downloads    an ordinary counter in the host's namespace

A page named this way is the page script's own counter (keyed name, governed by the site),
so the site's dashboard shows it with its path. Only paths with a ``:`` come here: a valid
name has none, so the hit path pays one ``in`` test.
"""

from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.http import HttpRequest

from counter.names import (
    DEFAULT_NAMESPACE,
    SITE_KEY,
    Counter,
    InvalidName,
    counter_from_parts,
    normalise_path,
    page_key,
)

HOST = ":HOST:"
PATHNAME = ":PATHNAME:"
# The page of a site that has no page secret yet (no page view made it): a name no secret
# makes (not hex), so it is found nowhere.
NO_PAGE = "p.none"


class MagicUnresolved(InvalidName):
    """A magic name without the header it is resolved from (a 400)."""


@dataclass(frozen=True)
class Target:
    counter: Counter
    page_path: str | None = None  # a page of the page script's: its path
    page_script: bool = False  # the site or a page: made the way the page script makes them

    @property
    def site(self) -> Counter:
        return Counter(self.counter.namespace, SITE_KEY)


def _url(request: HttpRequest, header: str) -> SplitResult:
    """The header's URL, split; MagicUnresolved (a 400) when it is not one (urlsplit raises
    ValueError on a broken IPv6 literal such as ``http://[``)."""
    value = request.META.get("HTTP_" + header.upper(), "").strip()
    try:
        return urlsplit(value)
    except ValueError:
        raise MagicUnresolved(
            f"the {header} header is not a URL, so {HOST} and {PATHNAME} cannot be resolved"
        ) from None


def _page_url(request: HttpRequest) -> tuple[str, str]:
    """(host, path) of the calling page: the host from Origin, else Referer; the path from
    Referer. MagicUnresolved when neither header names a page."""
    origin = _url(request, "Origin")
    referer = _url(request, "Referer")
    host = origin.hostname if origin.scheme in ("http", "https") else None
    if host is None and referer.scheme in ("http", "https"):
        host = referer.hostname
    if not host:
        raise MagicUnresolved(
            f"{HOST} and {PATHNAME} are the calling page's host and path: send an Origin "
            "or Referer header naming the page"
        )
    path = referer.path if referer.hostname == host else "/"
    return host.rstrip("."), normalise_path(path)


def resolve(request: HttpRequest, path: str, page_secret) -> Target:
    """The counter a CountAPI path with magic names means. ``page_secret(site, make=...)``
    gives the site's page secret (made only when ``request`` may count)."""
    namespace, slash, key = path.partition("/")
    if not slash:  # a key alone, in the default namespace; :HOST: alone is the site
        namespace, key = (HOST, SITE_KEY) if path == HOST else (DEFAULT_NAMESPACE, path)
    host, page_path = _page_url(request)
    namespace = host if namespace == HOST else namespace
    if key == PATHNAME:
        site = counter_from_parts(namespace=namespace, key=SITE_KEY)
        secret = page_secret(site)
        if secret is None:  # a site no page view made yet: no page of it exists
            return Target(Counter(namespace, NO_PAGE), page_path, page_script=True)
        return Target(Counter(namespace, page_key(page_path, secret)), page_path, True)
    counter = counter_from_parts(namespace=namespace, key=host if key == HOST else key)
    return Target(counter, page_script=counter.key == SITE_KEY)
