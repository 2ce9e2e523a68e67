"""Every Redis key name of visitorsite: the schema, the hash-tag rule, the prefix.

A counter's keys are ``<prefix>c:{<namespace>/<key>}:<field>``, where the prefix is the
django-redis cache's (``visitorsite:1:``). They share the ``{namespace/key}`` hash tag, so
each script touches one Cluster slot; names are validated (counter/names.py) before they get
here, so a name can never break the tag. Fields:

    n        total hits (string)            never expires
    d        daily hits, field yyyymmdd     trimmed past COUNTER_RETENTION_DAYS
    du       daily uniques, field yyyymmdd  settled days only; trimmed likewise
    uv       visitor-days of settled days   never expires
    u:<day>  that day's HyperLogLog         expires after COUNTER_RETENTION_DAYS
    b        bot hits filtered              never expires (counted on existing counters)
    r        hits per visitor in the rate window (HIT_RATE_LIMIT); expires with the window
    a        hits per address in its rate window (ADDRESS_HIT_RATE_LIMIT); expires likewise
    pages    (site counters) page key -> hits, a sorted set fed by the page script
    now      (site counters) '<visitor id>|<page key>' -> last seen (ms): the last 5 minutes'
             views, at most NOW_PAIRS_KEPT; expires 5 minutes after the last view
    m        metadata (hash)                created (ms), enable_reset, update bounds,
                                            sha256 of the admin key, private; a page's
                                            path; a site's page_secret (keys its pages)
                                            and timezone (IANA; its days begin there)
    x:<day>  (sites) the day's dimensions   h|<dim>|<value> hits, #|<dim> values kept;
                                            once settled: s|<dim> lines of value, hits,
                                            visitors, and settled; i|<dim> such lines, an
                                            import's into a live day (kept when settled,
                                            added by reads); expires after
                                            COUNTER_RETENTION_DAYS
    xu:<day>:<dim>|<value>  a value's visitors (HyperLogLog) until the day is settled
                            (scripts/dimensions.lua; docs/DIMENSIONS.md); a page's own
                            pairs are the dimensions '@<dim>', values '<path>\t<value>'

Daily uniques are the day's PFCOUNT. Counting "PFADD returned 1" instead would undercount
badly: once a day's HLL fills, most new visitors change no register (measured: -18 % at 10k
visitors a day, -68 % at 100k). A day is counted into ``du`` (and added to ``uv``) once, by the
first hit of a later day ("settled"); until then readers PFCOUNT its HLL, so a hit runs no
PFCOUNT (docs/DESIGN-CHANGES.md).

Service-wide keys: ``stats:{service}:<name>`` (one tag: read together on a Cluster),
``salt:<period>``, ``rl:<bucket>`` (rate limits), ``aof-rewritten:<period>``, ``ready``.
"""

from datetime import date, timedelta
from functools import lru_cache

from counter.names import Counter
from counter.store.connection import current


def cache_key(name: str) -> str:
    return current().prefix + name


def counter_key(counter: Counter, field: str) -> str:
    return cache_key(f"c:{{{counter.namespace}/{counter.key}}}:{field}")


def counters_pattern(namespace: str | None) -> tuple[str, str]:
    """The SCAN pattern of every counter's keys (in ``namespace``), and the prefix before
    the tag."""
    prefix = cache_key("c:{")
    return (f"{prefix}{namespace}/*" if namespace else f"{prefix}*"), prefix


@lru_cache(maxsize=16_384)
def counter_keys(prefix: str, counter: Counter) -> tuple[str, ...]:
    """The hit script's fixed keys, the prefix of its daily HyperLogLog keys, its rate windows
    (``r``: hits per visitor, ``a``: per address; each gone after its window), a site's
    pages and who is here now."""
    base = f"{prefix}c:{{{counter.namespace}/{counter.key}}}:"
    return (
        *(base + field for field in ("n", "d", "du", "uv", "m")),
        base + "u:",
        base + "r",
        base + "a",
        base + "pages",
        base + "now",
    )


def day_field(value: date) -> str:
    return value.strftime("%Y%m%d")


@lru_cache(maxsize=4)
def day_fields(today: date, retention: int) -> tuple[str, str]:
    """Today and the oldest day kept, as the hashes' field names."""
    return day_field(today), day_field(today - timedelta(days=retention - 1))


def dimensions_key(site: Counter, day: str) -> str:
    """The site's dimensions of one day (yyyymmdd): a hash (scripts/dimensions.lua)."""
    return counter_key(site, f"x:{day}")


def dimension_visitors_key(site: Counter, day: str, value: str) -> str:
    """The visitors of one value (``<dimension>|<value>``) on a day not settled yet."""
    return counter_key(site, f"xu:{day}:{value}")


def dimensions_ttl(retention: int) -> int:
    """The lifetime of a day's dimensions (and of its HyperLogLogs), in seconds."""
    return (retention + 1) * 86400


def stat_key(name: str) -> str:
    return cache_key(f"stats:{{service}}:{name}")


def salt_key(period: str) -> str:
    return cache_key(f"salt:{period}")


def rate_key(bucket: str) -> str:
    return cache_key(f"rl:{bucket}")


def aof_claim_key(period: str) -> str:
    return cache_key(f"aof-rewritten:{period}")


def ready_key() -> str:
    return cache_key("ready")
