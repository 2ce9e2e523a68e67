"""Counter names: the one place that decides what a namespace or key may be.

A name reaches Redis only after it passed here. The alphabet has no ``{``, ``}``, ``:`` or
whitespace, so a name can never break a key's Cluster hash tag or its field layout.
"""

import hashlib
import re
from typing import NamedTuple

# CountAPI's rule (and Abacus'): 3 to 64 characters.
NAME_PATTERN = r"[A-Za-z0-9_.-]{3,64}"
_NAME = re.compile(NAME_PATTERN)
# Names of 1 or 2 characters, which versions before 2026-12 accepted: reachable by the
# management commands (export_counters, import_counters, reset_count) only.
_LEGACY_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


# The JSON API's paths (CountAPI's routes and /api/): their errors are JSON, whoever answers
# them (counter.web.responses.answer_format for the app, the gevent worker's own refusals in
# visitorsite/gunicorn_workers.py, which must not import Django). Decided by the path alone.
API_PATH_PREFIXES = ("/api/", "/hit/", "/get/", "/info/", "/set/", "/update/", "/reset/",
                     "/delete/", "/create", "/stats")  # fmt: skip


def is_api_path(path: str) -> bool:
    """Whether ``path`` (a request's path, without its query) is the JSON API's."""
    return path.startswith(API_PATH_PREFIXES)


class InvalidName(ValueError):
    """A namespace or key outside ``^[A-Za-z0-9_.-]{3,64}$``, or made of dots only."""


class Counter(NamedTuple):
    namespace: str
    key: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.key}"


def _shown(value: object) -> str:
    """A name as an error message quotes it: cut at 80 characters (it may be a stranger's)."""
    return value if isinstance(value, str) and len(value) <= 80 else f"{str(value)[:80]}..."


def _check(kind: str, value: str, legacy: bool) -> str:
    # Not dots only: "." and ".." are resolved away in a URL by browsers and proxies.
    pattern = _LEGACY_NAME if legacy else _NAME
    if not isinstance(value, str) or not pattern.fullmatch(value) or not value.strip("."):
        shown = _shown(value)
        raise InvalidName(
            f"invalid {kind} {shown!r}: use {1 if legacy else 3} to 64 characters from "
            "A-Z a-z 0-9 _ . -, not only dots"
        )
    return value


def counter_from_parts(*, namespace: str, key: str, legacy: bool = False) -> Counter:
    """The validated counter for a namespace and a key; ``legacy`` also takes the names of
    1 or 2 characters that earlier versions stored (for the management commands)."""
    return Counter(_check("namespace", namespace, legacy), _check("key", key, legacy))


def counter_from_path(path: str, *, legacy: bool = False) -> Counter:
    """Parse ``namespace/key`` (or a bare ``key`` in the ``default`` namespace)."""
    namespace, slash, key = path.partition("/")
    if not slash:
        return counter_from_parts(namespace=DEFAULT_NAMESPACE, key=path, legacy=legacy)
    if "/" in key:  # the name is wrong as a whole, not its key: say so
        raise InvalidName(
            f"invalid counter name {_shown(path)!r}: {path.count('/') + 1} parts, use "
            "namespace/key or a key alone"
        )
    return counter_from_parts(namespace=namespace, key=key, legacy=legacy)


# The page script's counters in a namespace: the site's (``site``) and one per page
# (``p.<hash of the path>``), whose owner and privacy are the site's.
SITE_KEY = "site"
PAGE_PREFIX = "p."
# Past PAGES_PER_SITE distinct pages, a site's new paths are counted on this one page.
OTHER_PAGE_KEY = "p.other"


MAX_PAGE_PATH = 512  # characters of a page's path kept


def normalise_path(raw: str) -> str:
    """A page's path as counted: one leading slash, no doubled or trailing slashes, no
    fragment, at most MAX_PAGE_PATH characters."""
    path = raw.strip().split("#", 1)[0][:MAX_PAGE_PATH]
    path = re.sub(r"/{2,}", "/", "/" + path.lstrip("/"))
    return path.rstrip("/") or "/"


def made_by_page_script(key: str) -> bool:
    """``site`` and ``p.*``: made only by the page script's views (never by create or a hit
    on the name), owned only through a claim (docs/API.md, "Who owns a site")."""
    return key == SITE_KEY or key.startswith(PAGE_PREFIX)


def page_key(path: str, secret: bytes) -> str:
    """A page's counter key: ``p.`` and a BLAKE2b of its path keyed with the site's secret,
    so that nobody without the secret can test whether a guessed path was viewed."""
    digest = hashlib.blake2b(path.encode("utf-8", "surrogateescape"), digest_size=8, key=secret)
    return PAGE_PREFIX + digest.hexdigest()


def governing(counter: Counter) -> Counter:
    """The counter whose admin key and options decide who may see ``counter``."""
    if counter.key.startswith(PAGE_PREFIX):
        return Counter(counter.namespace, SITE_KEY)
    return counter


DEFAULT_NAMESPACE = "default"
# The seed's single counter.
SEED_COUNTER = Counter(DEFAULT_NAMESPACE, "visitor_count")
