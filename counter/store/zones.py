"""A site's time zone: where its days (and its pages' days) begin.

An owner sets an IANA zone (``set_zone``), kept in the site's metadata as ``timezone``; a
site without one counts UTC days. The hit path must not spend a round trip on it, so each
process keeps a site's zone for ZONE_KEPT_SECONDS (60 s): a change reaches every worker
within that. Only ``site`` and ``p.*`` counters (the page script's) have a zone; any other
counter's days are UTC days and cost no lookup.

Days counted before a change keep the dates they were counted under (UTC, or the zone
before); days counted after it are the new zone's local dates (docs/API.md).
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from counter import clock
from counter.names import Counter, governing, made_by_page_script
from counter.store.connection import STORE_ERRORS, get_client, kept
from counter.store.keys import counter_key

ZONE_KEPT_SECONDS = 60  # a PATCH reaches every worker within this
_ZONES_KEPT = 10_000  # sites whose zone a process keeps (then it forgets them all)
DEFAULT_ZONE = "UTC"
# The IANA zones this server knows (its tz database: the system's, or the tzdata package): the
# names an owner may choose (the API's OpenAPI enum, the dashboard's select). A system's
# database also holds files that are no IANA zone: "localtime" (the server's own zone),
# "Factory", and the posix/ and right/ copies (right/ counts leap seconds).
_NOT_IANA = {"localtime", "Factory", "posixrules"}
ZONE_NAMES = tuple(
    sorted(
        name
        for name in available_timezones()
        if name not in _NOT_IANA and not name.startswith(("posix/", "right/"))
    )
)
_ZONE_SET = frozenset(ZONE_NAMES)


class UnknownZone(ValueError):
    """Not an IANA time zone this server knows."""


def parse_zone(name: str) -> ZoneInfo:
    """The zone named ``name`` (``Europe/Paris``), or UnknownZone naming it."""
    try:
        if name not in _ZONE_SET:  # never a path, nor a file of the database that is no zone
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownZone(f"unknown time zone {name[:64]!r}: use an IANA name") from None


def _kept_zones() -> dict[str, tuple[float, str]]:
    return kept("site zones")  # namespace -> (until, zone name)


def zone_name(counter: Counter) -> str:
    """The zone name of ``counter``'s days: its site's for a page script's counter (kept
    ZONE_KEPT_SECONDS in this process), else UTC."""
    if not made_by_page_script(counter.key):
        return DEFAULT_ZONE
    zones = _kept_zones()
    found = zones.get(counter.namespace)
    if found is not None and found[0] > time.monotonic():
        return found[1]
    with STORE_ERRORS:
        raw = get_client().hget(counter_key(governing(counter), "m"), "timezone")
    name = raw.decode() if raw else DEFAULT_ZONE
    _keep(counter.namespace, name)
    return name


def _keep(namespace: str, name: str) -> None:
    zones = _kept_zones()
    if len(zones) >= _ZONES_KEPT:
        zones.clear()
    zones[namespace] = (time.monotonic() + ZONE_KEPT_SECONDS, name)


def zone(counter: Counter) -> tzinfo:
    return named(zone_name(counter))


def named(name: str) -> tzinfo:
    """The zone a stored name (set_zone validated it) stands for."""
    return UTC if name == DEFAULT_ZONE else ZoneInfo(name)


def local_date(counter: Counter, now: datetime | None = None) -> date:
    """Today (at ``now``) in ``counter``'s zone."""
    return (now or clock.now()).astimezone(zone(counter)).date()


def set_zone(site: Counter, name: str) -> bool:
    """Set the site's zone (validated: UnknownZone); False when the site does not exist.
    This process uses it at once, the others within ZONE_KEPT_SECONDS."""
    parse_zone(name)
    with STORE_ERRORS:
        client = get_client()
        pipe = client.pipeline(transaction=True)
        pipe.exists(counter_key(site, "n"))
        pipe.exists(counter_key(site, "m"))
        exists, has_meta = pipe.execute()
        if not (exists or has_meta):
            return False
        client.hset(counter_key(site, "m"), "timezone", name)
    _keep(site.namespace, name)
    return True


def forget(namespace: str) -> None:
    """This process forgets the site's zone (the site is deleted)."""
    _kept_zones().pop(namespace, None)
