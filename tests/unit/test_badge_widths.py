"""Badge text measures as shields.io measures it, from the committed Verdana 11px table."""

import json

import pytest

from counter.render import badges

# Expected figures computed once with node 20 and the npm packages anafanafo 2.0.0 /
# char-width-table-consumer 1.0.0 (what shields.io's badge-maker measures with):
#   node -e "console.log(require('anafanafo')(TEXT, {font: '11px Verdana'}))"
# They are JavaScript doubles, summed in order; text_width sums the same way, so they match
# exactly, float noise included.
SHIELDS_WIDTHS = [
    ("visitors", 39.709999999999994),
    ("1", 6.99),
    ("1,234,567", 56.93000000000001),
    ("1.2k", 24.490000000000002),
    ("npm", 24.509999999999998),
    ("passing", 41.75),
    ("WWWW", 43.52),
    ("iiii", 12.08),
    ("Shirley Shirley", 80.41),  # anafanafo's README example
    ("café ☕", 37.63),  # Latin-1 and a symbol the table has
    ("访客", 22),  # CJK: 11 px each
    ("🚀", 10.7),  # not in the table: as wide as "m"
    ("tab\there", 42.54),  # control characters measure 0
    ("\u0080x", 17.21),  # C1 controls are not in the table: "m" wide
    ("\u00ad", 0),  # soft hyphen: 0 in the table
    ("", 0),
]


@pytest.mark.parametrize(("text", "width"), SHIELDS_WIDTHS)
def test_text_measures_as_shields_io_measures_it(text, width):
    assert badges.text_width(text) == width


def test_flat_badge_lays_text_out_with_those_widths():
    svg = badges.render_svg(label="visitors", message="1,234,567")
    assert 'textLength="39.7"' in svg
    assert 'textLength="56.9"' in svg


def test_table_is_read_once_and_says_where_it_comes_from():
    assert badges._measurer() is badges._measurer()
    data = json.loads(badges._WIDTHS_FILE.read_text(encoding="utf-8"))
    assert data["source"]["package"] == "npm anafanafo 2.0.0"
    assert data["source"]["file"] == "package/data/verdana-11px-normal.json"
    assert data["default"] == 1070  # "m", anafanafo's guess for unknown characters
