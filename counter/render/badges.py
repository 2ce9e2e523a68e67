"""SVG badges in shields.io's four styles: numbers and words in, SVG text out (no Redis).

Text widths come from real font metrics: shields.io's own Verdana 11px width table (from
the npm package anafanafo, which shields' badge-maker measures with), committed as
counter/data/verdana-11px.json by tools/verdana_widths.py. So a text measures here exactly
as shields.io measures it.
"""

import json
import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

STYLES = ("flat", "flat-square", "plastic", "for-the-badge")

# shields.io's named colours.
NAMED_COLORS = {
    "brightgreen": "#4c1",
    "green": "#97ca00",
    "yellowgreen": "#a4a61d",
    "yellow": "#dfb317",
    "orange": "#fe7d37",
    "red": "#e05d44",
    "blue": "#007ec6",
    "lightgrey": "#9f9f9f",
    "lightgray": "#9f9f9f",
    "grey": "#555",
    "gray": "#555",
    "blueviolet": "#8a2be2",
    "success": "#4c1",
    "important": "#fe7d37",
    "critical": "#e05d44",
    "informational": "#007ec6",
    "inactive": "#9f9f9f",
}
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
MAX_TEXT = 64


class BadgeOptionError(ValueError):
    """An option a badge cannot be drawn with (answered 400 with the message)."""


def color(value: str) -> str:
    """A named colour or a 3/6-digit hex (with or without #) as ``#rrggbb``/``#rgb``."""
    named = NAMED_COLORS.get(value.lower())
    if named:
        return named
    match = _HEX.fullmatch(value)
    if not match:
        raise BadgeOptionError(
            f"unknown colour {value[:40]!r}: use a hex value or one of {', '.join(NAMED_COLORS)}"
        )
    return f"#{match.group(1).lower()}"


# What XML 1.0 allows in a document: an SVG with anything else is malformed, and browsers
# show an error instead of the badge.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def check_text(text: str) -> str:
    """``text`` when an SVG may carry it, else BadgeOptionError naming the character."""
    bad = _NOT_XML.search(text)
    if bad:
        raise BadgeOptionError(
            f"badge text cannot contain the character U+{ord(bad.group()):04X} (not allowed in XML)"
        )
    return text


_SUFFIXES = ("", "k", "M", "G", "T", "P")


def abbreviate(number: int) -> str:
    """1234 -> 1.2k, 999950 -> 1M, 3400000 -> 3.4M (at most one decimal, no trailing .0)."""
    sign = "-" if number < 0 else ""
    if abs(number) < 1000:
        return f"{sign}{abs(number)}"
    scaled, step = float(abs(number)), 0
    while scaled >= 1000 and step < len(_SUFFIXES) - 1:
        scaled, step = scaled / 1000, step + 1
    rounded = round(scaled, 1)
    if rounded >= 1000 and step < len(_SUFFIXES) - 1:  # 999.95k shows as 1M, not 1000k
        rounded, step = round(rounded / 1000, 1), step + 1
    return f"{sign}{rounded:.1f}".removesuffix(".0") + _SUFFIXES[step]


_WIDTHS_FILE = Path(__file__).resolve().parent.parent / "data" / "verdana-11px.json"


@dataclass(frozen=True)
class _WidthTable:
    """Every code point's width in px, as runs: ``widths[i]`` from ``starts[i]`` on."""

    starts: tuple[int, ...]  # ascending, starts[0] == 0, so every code point has a run
    widths: tuple[float, ...]

    def width(self, char: str) -> float:
        return self.widths[bisect_right(self.starts, ord(char)) - 1]


@lru_cache(maxsize=1)
def _measurer() -> _WidthTable:
    """The width table, read once per process on first use (see the file's "format")."""
    data = json.loads(_WIDTHS_FILE.read_text(encoding="utf-8"))
    default = data["default"] / 100
    starts: list[int] = []
    widths: list[float] = []
    code_point = 0
    for run in data["runs"]:
        if isinstance(run, list):  # [count, width]: count code points of one width
            count, width = run[0], run[1] / 100
        elif run < 0:  # -count: code points the table lacks
            count, width = -run, default
        else:  # one code point
            count, width = 1, run / 100
        if not widths or widths[-1] != width:
            starts.append(code_point)
            widths.append(width)
        code_point += count
    if widths[-1] != default:
        starts.append(code_point)
        widths.append(default)
    return _WidthTable(tuple(starts), tuple(widths))


def text_width(text: str) -> float:
    """Width in pixels of ``text`` in Verdana 11px, summed per code point as shields.io sums.

    A plain running sum in order (not ``sum()``, which compensates rounding on Python 3.12+),
    so the figure is the very float anafanafo computes.
    """
    table = _measurer()
    width = 0.0
    for char in text:
        width += table.width(char)
    return width


@dataclass(frozen=True)
class _Style:
    height: int
    radius: int
    padding: int
    font_size: float
    gradient: tuple[tuple[str, str, str], ...]  # (offset, colour, opacity)
    shadow: bool
    uppercase: bool = False
    letter_spacing: float = 0.0
    bold_scale: float = 1.0


_STYLES = {
    "flat": _Style(20, 3, 5, 11, (("0", "#bbb", ".1"), ("1", "#000", ".1")), True),
    "flat-square": _Style(20, 0, 5, 11, (), False),
    "plastic": _Style(
        18,
        4,
        5,
        11,
        (("0", "#fff", ".7"), (".1", "#aaa", ".1"), (".9", "#000", ".3"), ("1", "#000", ".5")),
        True,
    ),
    # Capitals at 10px with 1.25px letter spacing, bold message: widths scaled from the 11px
    # table (bold Verdana runs about 10 % wider).
    "for-the-badge": _Style(28, 0, 9, 10, (), False, True, 1.25, 1.1),
}


def _side_width(text: str, style: _Style, bold: bool) -> float:
    width = text_width(text) * style.font_size / 11
    if bold:
        width *= style.bold_scale
    return width + style.letter_spacing * len(text)


def render_svg(
    *,
    label: str,
    message: str,
    message_color: str = "#4c1",
    label_color: str = "#555",
    style: str = "flat",
) -> str:
    """A badge ``label | message``; colours already validated by ``color``."""
    if style not in _STYLES:
        raise BadgeOptionError(f"unknown style {style[:40]!r}: use one of {', '.join(STYLES)}")
    if len(label) > MAX_TEXT or len(message) > MAX_TEXT:
        raise BadgeOptionError(f"label and message are at most {MAX_TEXT} characters")
    check_text(label)
    check_text(message)
    s = _STYLES[style]
    if s.uppercase:
        label, message = label.upper(), message.upper()
    label_text = _side_width(label, s, bold=False) if label else 0
    message_text = _side_width(message, s, bold=True)
    left = round(label_text + 2 * s.padding) if label else 0
    right = round(message_text + 2 * s.padding)
    width = left + right
    title = f"{label}: {message}" if label else message
    title_attr = escape(title, {'"': "&quot;"})
    title = escape(title)
    font = 'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" text-rendering="geometricPrecision"'
    baseline = s.height / 2 + s.font_size * 0.35
    weight = ' font-weight="bold"' if s.uppercase else ""
    spacing = f' letter-spacing="{s.letter_spacing}"' if s.letter_spacing else ""

    def text(x: float, content: str, length: float, bold: bool) -> str:
        attrs = f'x="{x:.1f}" textLength="{length:.1f}" lengthAdjust="spacingAndGlyphs"'
        attrs += spacing + (weight if bold else "")
        shadow = ""
        if s.shadow:
            shadow = (
                f'<text {attrs} y="{baseline + 1:.1f}" fill="#010101" fill-opacity=".3">'
                f"{escape(content)}</text>"
            )
        return f'{shadow}<text {attrs} y="{baseline:.1f}" fill="#fff">{escape(content)}</text>'

    gradient = ""
    if s.gradient:
        stops = "".join(
            f'<stop offset="{o}" stop-color="{c}" stop-opacity="{op}"/>' for o, c, op in s.gradient
        )
        gradient = f'<linearGradient id="s" x2="0" y2="100%">{stops}</linearGradient>'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{s.height}" '
        f'role="img" aria-label="{title_attr}">',
        f"<title>{title}</title>",
        gradient,
        f'<clipPath id="r"><rect width="{width}" height="{s.height}" rx="{s.radius}" '
        'fill="#fff"/></clipPath>',
        '<g clip-path="url(#r)">',
        f'<rect width="{left}" height="{s.height}" fill="{label_color}"/>' if label else "",
        f'<rect x="{left}" width="{right}" height="{s.height}" fill="{message_color}"/>',
        f'<rect width="{width}" height="{s.height}" fill="url(#s)"/>' if gradient else "",
        "</g>",
        f'<g fill="#fff" text-anchor="middle" {font} font-size="{s.font_size}">',
        text(left / 2, label, label_text, bold=False) if label else "",
        text(left + right / 2, message, message_text, bold=True),
        "</g></svg>",
    ]
    return "".join(parts)
