"""Server-rendered SVG charts: a series of days in, SVG text out (no Redis, no JavaScript).

Daily hits are bars, daily uniques a line over them; with a previous period, its daily hits
are a dashed line aligned day by day (its first day over the period's first). The y axis is
labelled with the maximum and the midpoint (abbreviated), the x axis with the first and last
day. Colours and dashes come from CSS classes, so the page's light and dark themes apply (and
no inline style is needed under the CSP).
"""

from collections.abc import Sequence
from datetime import date
from xml.sax.saxutils import escape

from counter.render.badges import abbreviate

WIDTH, HEIGHT = 720, 240
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 8, 20, 28  # room for the axis labels at phone sizes


def render_chart(
    days: Sequence,
    *,
    title: str = "Daily hits and uniques",
    previous: Sequence | None = None,
    previous_words: str | None = None,
) -> str:
    """``days``: objects with ``day`` (date), ``hits`` and ``uniques``, oldest first.
    ``previous``: the previous period's, as many, drawn as a dashed line of its daily hits
    (``previous_words`` names it in the summary: "previous 7 days")."""
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    previous = list(previous or [])[: len(days)]
    total = sum(d.hits for d in days)
    before = sum(d.hits for d in previous)
    summary = (
        f"{len(days)} days from {_label(days[0].day)} to {_label(days[-1].day)}: "
        f"{total:,} hits, at most {max(d.hits for d in days):,} in a day"
        if days
        else "no days"
    )
    if previous:
        summary += f"; the {previous_words or 'previous period'}: {before:,} hits"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="chart" role="img" aria-label="{escape(title)}: {escape(summary)}">',
        f"<title>{escape(title)}</title><desc>{escape(summary)}</desc>",
    ]
    if not days or total + before == 0:
        parts.append(
            f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            "No visits in this range yet</text></svg>"
        )
        return "".join(parts)
    peak = _nice(
        max(
            max(d.hits for d in days),
            max(d.uniques for d in days),
            max((d.hits for d in previous), default=0),
            1,
        )
    )
    step = plot_w / len(days)
    bar = max(step * 0.8, 0.5)

    def y(value: int) -> float:
        return _TOP + plot_h - value / peak * plot_h

    for fraction in (0, 0.5, 1):
        line_y = _TOP + plot_h - fraction * plot_h
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" '
            f'y1="{line_y:.1f}" y2="{line_y:.1f}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{line_y + 4:.1f}" text-anchor="end">'
            f"{_tick(peak * fraction)}</text>"
        )
    for i, d in enumerate(days):
        if d.hits:
            top = y(d.hits)
            parts.append(
                f'<rect class="hits" x="{_LEFT + i * step + (step - bar) / 2:.2f}" '
                f'y="{top:.2f}" width="{bar:.2f}" height="{_TOP + plot_h - top:.2f}">'
                f"<title>{_label(d.day)}: {d.hits:,} hits, {d.uniques:,} uniques</title></rect>"
            )
    points = " ".join(
        f"{_LEFT + (i + 0.5) * step:.2f},{y(d.uniques):.2f}" for i, d in enumerate(days)
    )
    parts.append(f'<polyline class="uniques" points="{points}"/>')
    if previous:
        points = " ".join(
            f"{_LEFT + (i + 0.5) * step:.2f},{y(d.hits):.2f}" for i, d in enumerate(previous)
        )
        parts.append(
            f'<polyline class="previous" points="{points}"><title>'
            f"{escape(previous_words or 'previous period')}: {_label(previous[0].day)} to "
            f"{_label(previous[-1].day)}, {before:,} hits</title></polyline>"
        )
    base = HEIGHT - 8
    parts.append(
        f'<text class="axis" x="{_LEFT}" y="{base}">{_label(days[0].day)}</text>'
        f'<text class="axis" x="{WIDTH - _RIGHT}" y="{base}" text-anchor="end">'
        f"{_label(days[-1].day)}</text></svg>"
    )
    return "".join(parts)


def _nice(peak: int) -> int:
    """The axis maximum: the smallest 1, 2 or 5 times a power of ten at or above ``peak``."""
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= peak:
                return step * scale
        scale *= 10


def _tick(value: float) -> str:
    return abbreviate(int(value)) if value == int(value) else f"{value:g}"


def _label(day: date) -> str:
    return day.isoformat()
