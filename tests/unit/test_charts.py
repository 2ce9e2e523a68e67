"""The dashboard chart is pure: a series of days in, well-formed SVG out."""

import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
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


def test_the_previous_period_is_a_dashed_line_aligned_day_by_day():
    now = _series([(5, 3), (10, 4), (0, 0)])
    before = [Day(d.day - timedelta(days=3), 0, 0) for d in now]
    before = [
        replace(d, hits=h, uniques=u)
        for d, (h, u) in zip(before, [(20, 9), (0, 0), (5, 2)], strict=True)
    ]
    root = ET.fromstring(render_chart(now, previous=before, previous_words="previous 3 days"))
    line = root.find(f"{SVG}polyline[@class='previous']")
    xs = [float(point.split(",")[0]) for point in line.get("points").split()]
    uniques = root.find(f"{SVG}polyline[@class='uniques']").get("points").split()
    assert xs == [float(point.split(",")[0]) for point in uniques]  # the same days' places
    ys = [float(point.split(",")[1]) for point in line.get("points").split()]
    assert ys[0] < ys[2] < ys[1]  # 20 above 5 above 0: the axis reaches the previous peak
    axis = [text.text for text in root.findall(f"{SVG}text[@class='axis']")]
    assert axis[:3] == ["0", "10", "20"]  # the axis maximum: the previous period's peak
    assert "2025-12-29 to 2025-12-31, 25 hits" in line.find(f"{SVG}title").text
    assert "; the previous 3 days: 25 hits" in root.get("aria-label")
    assert "style" not in render_chart(now, previous=before)  # the dashes are the CSS's


def test_a_quiet_period_after_a_busy_one_still_draws_the_previous():
    now = _series([(0, 0), (0, 0)])
    before = [Day(d.day - timedelta(days=2), 4, 2) for d in now]
    root = ET.fromstring(render_chart(now, previous=before))
    assert root.find(f"{SVG}polyline[@class='previous']") is not None
    assert root.find(f"{SVG}text[@class='empty']") is None
    assert ET.fromstring(render_chart(now)).find(f"{SVG}text[@class='empty']") is not None
