"""A page's counter as the page script names it, for tests that set up pages directly."""

from counter import store
from counter.names import SITE_KEY, Counter, counter_from_parts, page_key


def page_counter(namespace: str, path: str) -> Counter:
    """The counter of one page: ``p.<hash of the path keyed with the site's secret>`` (any
    path, always a valid name; see names.page_key)."""
    site = counter_from_parts(namespace=namespace, key=SITE_KEY)
    return Counter(namespace, page_key(path, store.page_secret(site)))
