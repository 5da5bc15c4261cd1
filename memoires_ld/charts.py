"""Bar charts as SVG, written on the server: no script, no web font, nothing fetched.

Horizontal bars, so that long French labels stay readable. Each chart is a standalone
<svg> (with its namespace, hence also valid XML) carrying a <title> and a <desc> that
say in words what it shows; every bar is a link, announced by its label and its value.
Colours are never the only carrier of meaning: values are written on the bars and the
legend is text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
ROW = 28
BAR = 18
FONT = 13
CHAR = 7.2  # average advance of a character at FONT px, for layout only
INK, MUTED, LINE = "#1d2329", "#5b6670", "#c9d1d8"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    href: str | None = None


@dataclass(frozen=True)
class Series:
    """One kind of segment of a stacked chart, with its colour in the legend."""

    label: str
    color: str


@dataclass(frozen=True)
class Row:
    """One stacked bar: its label and one segment per series (same order)."""

    label: str
    segments: Sequence[Bar]
    href: str | None = None


def bar_chart(
    chart_id: str, title: str, bars: Sequence[Bar], *, unit: str = "", color: str = "#1f5f8b"
) -> str:
    """A chart of one bar per value."""
    rows, series = bar_rows(bars, unit, color)
    return stacked_chart(chart_id, title, rows, series, unit=unit, legend=False)


def bar_rows(bars: Sequence[Bar], unit: str = "", color: str = "#1f5f8b"):
    """The rows and the one series of a simple bar chart (for `table`)."""
    return [Row(b.label, [Bar(b.label, b.value, b.href)], b.href) for b in bars], [
        Series(unit, color)
    ]


def table(rows: Sequence[Row], series: Sequence[Series], *, corner: str = "") -> str:
    """The figures of a chart as an HTML table (for readers who prefer numbers)."""
    head = "".join(f'<th scope="col">{escape(s.label)}</th>' for s in series)
    lines = [f"<table><thead><tr><th>{escape(corner)}</th>{head}</tr></thead><tbody>"]
    for row in rows:
        cells = "".join(f'<td class="n">{s.value}</td>' for s in row.segments)
        lines.append(f'<tr><th scope="row">{escape(row.label)}</th>{cells}</tr>')
    lines.append("</tbody></table>")
    return "".join(lines)


def stacked_chart(
    chart_id: str,
    title: str,
    rows: Sequence[Row],
    series: Sequence[Series],
    *,
    unit: str = "",
    legend: bool = True,
) -> str:
    """A chart of one bar per row, split into one segment per series."""
    label_width = min(260, max((len(r.label) for r in rows), default=4) * CHAR + 16)
    totals = [sum(s.value for s in r.segments) for r in rows]
    value_room = len(str(max(totals, default=0))) * CHAR + 10
    scale = (WIDTH - label_width - value_room) / max(max(totals, default=0), 1)
    top = 8
    legend_height = (len(series) * 20 + 8) if legend else 0
    height = top + len(rows) * ROW + 8 + legend_height
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id={quoteattr(chart_id)} '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(_describe(rows, series, totals, unit))}</desc>',
        f'<line x1="{label_width}" y1="{top - 4}" x2="{label_width}" '
        f'y2="{top + len(rows) * ROW}" stroke="{LINE}"/>',
    ]
    for n, (row, total) in enumerate(zip(rows, totals, strict=True)):
        y = top + n * ROW
        parts.append(_row(row, total, series, y, label_width, scale, unit))
    if legend:
        parts.append(_legend(series, top + len(rows) * ROW + 12, label_width))
    parts.append("</svg>")
    return "\n".join(parts)


def _row(row, total, series, y, x0, scale, unit) -> str:
    middle = y + ROW / 2
    text = _fit(row.label, round((x0 - 16) / CHAR))
    out = [
        f'<g class="row"><text x="{x0 - 8}" y="{middle + FONT / 3:.1f}" text-anchor="end" '
        f'fill="{INK}">{escape(text)}<title>{escape(row.label)}</title></text>'
    ]
    x = x0
    for segment, kind in zip(row.segments, series, strict=True):
        if not segment.value:
            continue
        width = segment.value * scale
        name = f"{row.label} — {kind.label}" if len(series) > 1 else row.label
        said = f"{name} : {segment.value} {unit}".strip()
        rect = (
            f'<rect x="{x:.1f}" y="{middle - BAR / 2:.1f}" width="{width:.1f}" height="{BAR}" '
            f'fill="{kind.color}"><title>{escape(said)}</title></rect>'
        )
        if len(series) > 1 and width >= len(str(segment.value)) * CHAR + 6:
            rect += (
                f'<text x="{x + width / 2:.1f}" y="{middle + FONT / 3:.1f}" text-anchor="middle" '
                f'fill="{_text_on(kind.color)}" font-size="{FONT - 1}">{segment.value}</text>'
            )
        out.append(_link(segment.href, said, rect))
        x += width
    out.append(
        f'<text x="{x + 6:.1f}" y="{middle + FONT / 3:.1f}" fill="{MUTED}">{total}</text></g>'
    )
    return "".join(out)


def _legend(series: Sequence[Series], y: float, x0: float) -> str:
    out = ['<g class="legend">']
    for n, kind in enumerate(series):
        top = y + n * 20
        out.append(
            f'<rect x="{x0:.1f}" y="{top:.1f}" width="14" height="14" fill="{kind.color}"/>'
            f'<text x="{x0 + 20:.1f}" y="{top + 11:.1f}" fill="{INK}">{escape(kind.label)}</text>'
        )
    out.append("</g>")
    return "".join(out)


def _link(href: str | None, label: str, inner: str) -> str:
    if not href:
        return inner
    return f"<a href={quoteattr(href)} aria-label={quoteattr(label)}>{inner}</a>"


def _describe(rows, series, totals, unit) -> str:
    """The chart in words, for whoever does not see it."""
    said = []
    for row, total in zip(rows, totals, strict=True):
        if len(series) > 1:
            detail = ", ".join(
                f"{k.label} {s.value}" for s, k in zip(row.segments, series, strict=True) if s.value
            )
            said.append(f"{row.label} : {total}" + (f" ({detail})" if detail else ""))
        else:
            said.append(f"{row.label} : {total}")
    return "; ".join(said) + (f" {unit}." if unit else ".")


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 1)].rstrip() + "…"


def _text_on(color: str) -> str:
    """Black or white, whichever reads better on `color` (WCAG relative luminance)."""
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)
    return "#000000" if luminance > 0.179 else "#ffffff"
