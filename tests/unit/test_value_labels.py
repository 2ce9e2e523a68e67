"""What the dashboard shows for a dimension's values: labels, shares, events' conversion."""

from counter.domain.value_labels import country_label, percent, shown_rows, value_label
from counter.store import Row


def test_no_referrer_reads_direct_and_other_values_stay_as_stored():
    assert value_label("referrer", "(none)") == "Direct"
    assert value_label("referrer", "Hacker News") == "Hacker News"
    assert value_label("campaign", "(none)") == "(none)"  # only the referrer's means direct
    assert value_label("device", "tablet") == "tablet"


def test_countries_are_named_with_their_code():
    assert country_label("FR") == "France (FR)"
    assert country_label("KR") == "South Korea (KR)"  # the common name where ISO has one
    assert value_label("country", "GB") == "United Kingdom (GB)"
    assert country_label("(unknown)") == "(unknown)"
    assert country_label("ZZ") == "ZZ"  # not in ISO 3166-1: as stored


def test_rows_carry_their_share_of_the_hits():
    rows = [Row("(none)", 6, 4), Row("Hacker News", 3, 3), Row("(other)", 1, 1)]
    shown = shown_rows("referrer", rows)
    assert [row.label for row in shown] == ["Direct", "Hacker News", "(other)"]
    assert [row.value for row in shown] == ["(none)", "Hacker News", "(other)"]
    assert [row.share for row in shown] == [60.0, 30.0, 10.0]
    assert [row.visitors for row in shown] == [4, 3, 1]
    assert all(row.conversion is None for row in shown)
    assert shown_rows("referrer", []) == []


def test_an_events_conversion_is_its_visitors_over_the_sites():
    shown = shown_rows("event", [Row("signup", 5, 2), Row("buy", 1, 1)], site_visitors=8)
    assert [row.conversion for row in shown] == [25.0, 12.5]
    assert shown_rows("event", [Row("signup", 1, 1)], site_visitors=0)[0].conversion == 0.0
    assert percent(1, 3) == 33.3
