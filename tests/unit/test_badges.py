"""Badge rendering is pure: numbers and words in, well-formed SVG out."""

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from counter.render import badges

SVG = "{http://www.w3.org/2000/svg}"


def _width(svg: str) -> int:
    return int(ET.fromstring(svg).get("width"))


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1k"),
        (1234, "1.2k"),
        (1250, "1.2k"),  # round half to even on the tenth, as Python rounds
        (999_949, "999.9k"),
        (999_950, "1M"),
        (3_400_000, "3.4M"),
        (10**9, "1G"),
        (10**12, "1T"),
        (-1500, "-1.5k"),
    ],
)
def test_abbreviation(number, text):
    assert badges.abbreviate(number) == text


def test_width_grows_with_text():
    short = badges.render_svg(label="visitors", message="1")
    longer = badges.render_svg(label="visitors", message="1,234,567")
    assert _width(longer) > _width(short)
    assert badges.text_width("WWWW") > badges.text_width("iiii")  # real metrics, not a count


@pytest.mark.parametrize("style", badges.STYLES)
def test_every_style_is_well_formed_and_accessible(style):
    svg = badges.render_svg(label='a<b>&"c', message="42 & <x>", style=style)
    root = ET.fromstring(svg)
    title = root.find(f"{SVG}title").text
    assert title == root.get("aria-label")
    assert root.get("role") == "img"
    assert "<b>" not in svg


def test_styles_differ_in_shape():
    shapes = {
        style: (
            ET.fromstring(badges.render_svg(label="v", message="1", style=style)).get("height"),
            badges.render_svg(label="v", message="1", style=style).count("linearGradient"),
        )
        for style in badges.STYLES
    }
    assert shapes["flat"] == ("20", 2)
    assert shapes["flat-square"] == ("20", 0)
    assert shapes["plastic"] == ("18", 2)
    assert shapes["for-the-badge"] == ("28", 0)
    svg = badges.render_svg(label="visitors", message="1", style="for-the-badge")
    assert "VISITORS" in svg


def test_colours():
    assert badges.color("brightgreen") == "#4c1"
    assert badges.color("ABCDEF") == "#abcdef"
    assert badges.color("#0f0") == "#0f0"
    for bad in ("nope", "#12345", "javascript:alert(1)", "red;x"):
        with pytest.raises(badges.BadgeOptionError):
            badges.color(bad)


def test_option_validation():
    with pytest.raises(badges.BadgeOptionError, match="style"):
        badges.render_svg(label="a", message="1", style="round")
    with pytest.raises(badges.BadgeOptionError, match="at most"):
        badges.render_svg(label="x" * 65, message="1")


@given(st.text(max_size=64), st.text(min_size=1, max_size=64))
def test_any_text_gives_parseable_svg(label, message):
    # XML 1.0 cannot carry control characters at all; the views only pass printable text.
    clean = [
        "".join(c for c in s if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF)
        for s in (label, message)
    ]
    ET.fromstring(badges.render_svg(label=clean[0], message=clean[1] or "0"))
