"""Periods: parsing days=N and from/to, the previous period, and every way a period is
refused (the same words in the API's 400 and on the dashboard)."""

from datetime import date

import pytest

from counter.domain.periods import (
    BadPeriod,
    Period,
    change,
    check_comparable,
    describe,
    describe_previous,
    parse_compare,
    parse_period,
)

TODAY = date(2026, 3, 10)


def _parse(days=None, start=None, end=None, retention=400):
    return parse_period(days=days, start=start, end=end, today=TODAY, retention=retention)


def test_days_are_the_last_days_today_included():
    assert _parse("7") == Period(date(2026, 3, 4), TODAY, relative=True)
    assert _parse("1") == Period(TODAY, TODAY, relative=True)
    assert _parse("14").days == 14
    assert _parse("400").days == 400
    assert _parse().days == 30  # nothing asked
    assert _parse("", "", "").days == 30  # empty form fields are not asked
    assert _parse(retention=7).days == 7  # a retention shorter than the default


def test_from_to_includes_both_days():
    period = _parse(start="2026-03-01", end="2026-03-10")
    assert (period.first, period.last, period.days) == (date(2026, 3, 1), TODAY, 10)
    assert period.query() == "from=2026-03-01&to=2026-03-10"
    assert _parse("7").query() == "days=7"
    assert _parse(start="2026-03-10", end="2026-03-10").days == 1
    assert _parse(start=" 2026-02-01", end="2026-02-28 ").days == 28
    assert _parse(start="2025-02-04", end="2025-02-04", retention=400).days == 1  # oldest kept


@pytest.mark.parametrize(
    ("days", "start", "end", "message"),
    [
        ("abc", None, None, "days must be a whole number"),
        ("0", None, None, "days must be between 1 and 400"),
        ("-3", None, None, "days must be between 1 and 400"),
        ("401", None, None, "days must be between 1 and 400"),
        ("1.5", None, None, "days must be a whole number"),
        ("\uff11", None, None, "days must be a whole number"),  # a fullwidth 1
        ("7", "2026-03-01", "2026-03-02", "not both"),
        (None, "2026-03-01", None, "from needs to"),
        (None, None, "2026-03-01", "to needs from"),
        (None, "2026-03-05", "2026-03-01", "from (2026-03-05) is after to (2026-03-01)"),
        (None, "2026-02-30", "2026-03-01", "from must be a date YYYY-MM-DD, got '2026-02-30'"),
        (None, "20260301", "2026-03-02", "from must be a date YYYY-MM-DD"),
        (None, "2026-03-01", "yesterday", "to must be a date YYYY-MM-DD, got 'yesterday'"),
        (None, "2026-03-01", "2026-03-11", "to (2026-03-11) is in the future: today is"),
        (None, "2025-02-03", "2026-03-01", "before the oldest day kept (2025-02-04)"),
    ],
)
def test_a_bad_period_is_refused_with_its_reason(days, start, end, message):
    with pytest.raises(BadPeriod, match=message.replace("(", r"\(").replace(")", r"\)")):
        _parse(days, start, end)


def test_the_previous_period_is_as_long_and_ends_the_day_before():
    assert _parse("7").previous() == Period(date(2026, 2, 25), date(2026, 3, 3))
    assert _parse("1").previous() == Period(date(2026, 3, 9), date(2026, 3, 9))
    ranged = _parse(start="2026-03-01", end="2026-03-05")
    assert ranged.previous() == Period(date(2026, 2, 24), date(2026, 2, 28))
    assert check_comparable(_parse("200"), today=TODAY, retention=400).days == 200
    with pytest.raises(BadPeriod, match="compare=previous needs the 201 days before"):
        check_comparable(_parse("201"), today=TODAY, retention=400)


def test_compare_is_previous_or_nothing():
    assert parse_compare(None) is False
    assert parse_compare("") is False
    assert parse_compare("previous") is True
    with pytest.raises(BadPeriod, match="compare must be 'previous', got 'last-year'"):
        parse_compare("last-year")


def test_change_and_words():
    assert change(112, 100) == "+12 %"
    assert change(95, 100) == "-5 %"
    assert change(1000, 1001) == "±0 %"
    assert change(0, 0) == "±0 %"
    assert change(3, 0) == "new"
    assert change(0, 4) == "-100 %"
    assert describe(_parse("1"), today=TODAY) == "today"
    assert describe(_parse("7"), today=TODAY) == "the last 7 days"
    assert describe(_parse(start="2026-03-09", end="2026-03-09"), today=TODAY) == "yesterday"
    assert describe(_parse(start="2026-03-01", end="2026-03-02"), today=TODAY) == (
        "2026-03-01 to 2026-03-02"
    )
    assert describe_previous(_parse("1")) == "previous day"
    assert describe_previous(_parse("7")) == "previous 7 days"
