"""What a site's dashboard is narrowed to: ``?page=<path>`` (that page's own breakdowns),
``?referrer=<value>`` or ``?campaign=<value>`` (the pages its visitors landed on). One at a
time, as the store narrows by one per-page pair (store.page_breakdown).

A filter comes from a link the dashboard made, or from anyone's hand: what cannot be a
stored value is refused with words (BadFilter), never looked up, so a hostile query costs
no read and shows no figure it should not.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from counter import store
from counter.domain.dimension_values import NONE
from counter.domain.params import BadParameter
from counter.names import MAX_PAGE_PATH

OTHER = store.dimensions.OTHER  # many values summed: nothing to narrow to
DIMENSIONS = ("page", "referrer", "campaign")
# Characters of a value: a page's path as counted; a referrer's name or a campaign's three
# parts (each at most dimension_values.MAX_VALUE) with their separators fit in 256.
_LONGEST = {"page": MAX_PAGE_PATH, "referrer": 256, "campaign": 256}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # never stored: dimension_values cleans them out


class BadFilter(BadParameter):
    """A filter that cannot be read; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Filter:
    dimension: str  # one of DIMENSIONS
    value: str  # as stored: a path, a referrer's name ("(none)": direct), a campaign

    def query(self) -> str:
        """The query string that asks for this filter again (``&`` first: after a period)."""
        return "&" + urlencode({self.dimension: self.value})


def from_query(query: Mapping[str, str]) -> Filter | None:
    """The filter asked, None for none; BadFilter for two at once, an empty, too long or
    control-character value, or "(other)" (many values, none of them named)."""
    asked = [name for name in DIMENSIONS if name in query]
    if not asked:
        return None
    if len(asked) > 1:
        raise BadFilter(f"one filter at a time, not {' and '.join(asked)}")
    dimension = asked[0]
    value = query[dimension]
    if not value:
        raise BadFilter(f"{dimension}= is empty")
    if len(value) > _LONGEST[dimension]:
        raise BadFilter(f"{dimension}= is longer than {_LONGEST[dimension]} characters")
    if _CONTROL.search(value):
        raise BadFilter(f"{dimension}= holds a control character")
    if value == OTHER:
        raise BadFilter(f'"{OTHER}" sums many {dimension} values: it cannot be narrowed to')
    return Filter(dimension, value)


def can_narrow(dimension: str, value: str) -> bool:
    """Whether a breakdown's row may link to a filter by its value: not "(other)", and only
    a referrer is ever "(none)" (direct: its landings are counted per page)."""
    if dimension not in DIMENSIONS or value == OTHER:
        return False
    return value != NONE or dimension == "referrer"
