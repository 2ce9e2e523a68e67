"""How the dashboard shows a dimension's values and the share of each: what a reader sees, not
what is stored. The store and the API keep the raw values ("(none)", "FR"); only the page's
labels change.

Country names come from pycountry (ISO 3166-1, a maintained package: `make lock UPGRADE=data`
takes its newest release with the other data packages, docs/DIMENSIONS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from counter.domain.dimension_values import NONE


@dataclass(frozen=True, slots=True)
class ShownRow:
    value: str  # the stored value (the API's)
    label: str  # what the dashboard shows
    hits: int
    visitors: int
    share: float  # percent of the dimension's hits in the period
    conversion: float | None = None  # events: visitors over the site's, percent


@lru_cache(maxsize=512)
def country_label(code: str) -> str:
    """ "France (FR)"; a code ISO 3166-1 does not list (or "(unknown)") as it is."""
    import pycountry  # imported at the first dashboard, not by every web process at start

    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return f"{name} ({code})"


def value_label(dimension: str, value: str) -> str:
    """The value as the dashboard shows it."""
    if dimension == "referrer" and value == NONE:
        return "Direct"
    if dimension == "country":
        return country_label(value)
    return value


def percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent, one decimal; 0 of nothing is 0."""
    return round(100 * part / whole, 1) if whole else 0.0


def shown_rows(dimension: str, rows: list, *, site_visitors: int | None = None) -> list[ShownRow]:
    """A breakdown's rows (store.Row: value, hits, visitors) as the dashboard lists them. The
    rows are all of the period's hits ("(other)" sums the rest), so their sum is the whole.
    ``site_visitors``: the site's visitor-days in the period, the events' denominator (the
    rows' visitors are visitor-days too: the same unit)."""
    whole = sum(row.hits for row in rows)
    events = dimension == "event" and site_visitors is not None
    return [
        ShownRow(
            value=row.value,
            label=value_label(dimension, row.value),
            hits=row.hits,
            visitors=row.visitors,
            share=percent(row.hits, whole),
            conversion=min(percent(row.visitors, site_visitors), 100.0) if events else None,
        )
        for row in rows
    ]
