"""The dashboard chart is pure: a series of days in, well-formed SVG out."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta

from counter.render.charts import render_chart

SVG = "{http://www.w3.org/2000/svg}"


@dataclass
class Day:
    day: date
    hits: int
    uniques: int


def _series(values: list[tuple[int, int]]) -> list[Day]:
    start = date(2026, 1, 1)
    return [Day(start + timedelta(days=i), h, u) for i, (h, u) in enumerate(values)]


def test_empty_series_says_so():
    for days in ([], _series([(0, 0)] * 30)):
        root = ET.fromstring(render_chart(days))
        assert "No visits" in root.find(f"{SVG}text").text
        assert root.findall(f"{SVG}rect") == []


def test_one_day():
    root = ET.fromstring(render_chart(_series([(5, 3)])))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 1
    assert "5 hits, 3 uniques" in bars[0].find(f"{SVG}title").text
    assert root.get("role") == "img"
    assert "5 hits" in root.get("aria-label")


def test_a_year_of_days_fits_the_width():
    days = _series([(i % 50 + 1, i % 20) for i in range(365)])
    root = ET.fromstring(render_chart(days))
    bars = root.findall(f"{SVG}rect")
    assert len(bars) == 365
    width = int(root.get("viewBox").split()[2])
    assert all(0 <= float(b.get("x")) < width for b in bars)
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 365


def test_axis_maximum_is_a_round_number_and_labels_are_exact():
    labels = [t.text for t in ET.fromstring(render_chart(_series([(5, 1)]))).iter(f"{SVG}text")]
    assert labels[:3] == ["0", "2.5", "5"]
    labels = [t.text for t in ET.fromstring(render_chart(_series([(7, 1)]))).iter(f"{SVG}text")]
    assert labels[:3] == ["0", "5", "10"]


def test_bars_scale_with_hits():
    bars = ET.fromstring(render_chart(_series([(10, 1), (20, 1)]))).findall(f"{SVG}rect")
    assert float(bars[1].get("height")) == 2 * float(bars[0].get("height"))


def test_huge_values_are_abbreviated_on_the_axis():
    svg = render_chart(_series([(10**12, 10**9), (5 * 10**11, 1)]))
    root = ET.fromstring(svg)
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "1T" in labels
    assert "500G" in labels  # the midpoint of a 1T axis
    assert "1,000,000,000,000 hits" in svg
