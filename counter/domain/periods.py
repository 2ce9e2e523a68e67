"""The days a read covers: ``days=N`` (the last N days, today included) or ``from=`` and
``to=`` (dates, both included), and ``compare=previous`` (the period of equal length just
before). One parser for the API and the dashboard, so that both refuse the same periods with
the same words; a period is never quietly replaced by another.

"Today" is the caller's (``today``): the service's UTC day unless a site's time zone says
otherwise. A period lies within the retention (no day read has expired) and ends today at the
latest; the previous period of a comparison too, or its figures would be short of days.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings

from counter.domain.params import BadParameter, parse_int

DEFAULT_DAYS = 30
COMPARE_PREVIOUS = "previous"

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadPeriod(BadParameter):
    """A period that cannot be read; the message names the parameter and what is wrong."""


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included
    relative: bool = False  # asked as days=N: a link keeps "the last N days", not the dates

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> "Period":
        """The period of equal length that ends the day before this one starts."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def query(self) -> str:
        """The query string that asks for this period again (a link keeps it)."""
        if self.relative:
            return f"days={self.days}"
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


def last_days(days: int, *, today: date) -> Period:
    """The last ``days`` days, today included."""
    return Period(today - timedelta(days=days - 1), today, relative=True)


def parse_period(
    *,
    days: str | None,
    start: str | None,
    end: str | None,
    today: date,
    retention: int,
    default: int = DEFAULT_DAYS,
) -> Period:
    """The period a reader asks for (the raw ``days``, ``from`` and ``to`` parameters; None
    or "" when absent), or BadPeriod saying what is wrong. Nothing asked: the last
    ``default`` days."""
    days, start, end = days or None, start or None, end or None
    if days is not None and (start is not None or end is not None):
        raise BadPeriod("ask for days, or for from and to, not both")
    if start is None and end is None:
        count = default if days is None else _parse_days(days, retention)
        return last_days(min(count, retention), today=today)
    if start is None or end is None:
        missing, given = ("to", "from") if end is None else ("from", "to")
        raise BadPeriod(f"{given} needs {missing}: a range is from=YYYY-MM-DD&to=YYYY-MM-DD")
    first, last = _parse_date(start, "from"), _parse_date(end, "to")
    if first > last:
        raise BadPeriod(f"from ({first}) is after to ({last})")
    if last > today:
        raise BadPeriod(f"to ({last}) is in the future: today is {today}")
    oldest = oldest_day(today, retention)
    if first < oldest:
        raise BadPeriod(
            f"from ({first}) is before the oldest day kept ({oldest}): a range is "
            f"{retention} days at most and ends today at the latest"
        )
    return Period(first, last)


def parse_compare(raw: str | None) -> bool:
    """Whether ``compare=previous`` is asked; any other value is refused."""
    if raw is None or raw == "":
        return False
    if raw == COMPARE_PREVIOUS:
        return True
    raise BadPeriod(f"compare must be {COMPARE_PREVIOUS!r}, got {raw[:40]!r}")


def check_comparable(period: Period, *, today: date, retention: int) -> Period:
    """The previous period of ``period``, or BadPeriod when it reaches past the retention
    (its figures would be missing days, and the change would be made up)."""
    previous = period.previous()
    oldest = oldest_day(today, retention)
    if previous.first < oldest:
        raise BadPeriod(
            f"compare=previous needs the {period.days} days before {period.first} "
            f"(from {previous.first}), and the oldest day kept is {oldest}"
        )
    return previous


def oldest_day(today: date, retention: int) -> date:
    """The oldest day a read may cover: ``retention`` days, today included."""
    return today - timedelta(days=retention - 1)


def change(current: int, previous: int) -> str:
    """The change from ``previous`` to ``current`` as people read it: "+12 %", "-5 %",
    "±0 %", or "new" when there was nothing before."""
    if previous == 0:
        return "±0 %" if current == 0 else "new"
    percent = round(100 * (current - previous) / previous)
    if percent == 0:
        return "±0 %"
    return f"{percent:+d} %"


def describe(period: Period, *, today: date) -> str:
    """The period in words: "today", "yesterday", "the last 7 days", "2026-03-01 to
    2026-03-05"."""
    if period.relative:
        return "today" if period.days == 1 else f"the last {period.days} days"
    if period.first == period.last:
        if period.last == today:
            return "today"
        if period.last == today - timedelta(days=1):
            return "yesterday"
        return period.first.isoformat()
    return f"{period.first.isoformat()} to {period.last.isoformat()}"


def describe_previous(period: Period) -> str:
    """What a change is against: "previous day", "previous 7 days"."""
    return "previous day" if period.days == 1 else f"previous {period.days} days"


def _parse_days(raw: str, retention: int) -> int:
    try:
        return parse_int(raw, name="days", low=1, high=retention)
    except BadParameter as exc:
        raise BadPeriod(str(exc)) from None


def _parse_date(raw: str, name: str) -> date:
    text = raw.strip()
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise BadPeriod(f"{name} must be a date YYYY-MM-DD, got {raw[:40]!r}")


def from_query(query: Mapping[str, str | None], *, today: date) -> tuple[Period, Period | None]:
    """The period a query asks for (``days``, ``from``, ``to``) and, with
    ``compare=previous``, the previous period; BadPeriod when either cannot be read."""
    retention = settings.COUNTER_RETENTION_DAYS
    period = parse_period(
        days=query.get("days"),
        start=query.get("from"),
        end=query.get("to"),
        today=today,
        retention=retention,
    )
    if not parse_compare(query.get("compare")):
        return period, None
    return period, check_comparable(period, today=today, retention=retention)
