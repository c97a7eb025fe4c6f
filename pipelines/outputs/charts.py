"""Tiny inline SVG charts, drawn in Python so the DQ report needs no JavaScript, no library
and no network: it opens offline from a shared drive or an e-mail attachment.

Only what the report needs: horizontal stacked bars (findings by module, completeness), line
charts (volumes by month as small multiples, one scale each) and a date-axis chart (open
issues over time, one series per run kind). Every mark has a ``<title>`` so hovering shows
the exact number, and the SVG has an ``aria-label`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape

PALETTE = ["#1d4f76", "#d9822b", "#2e8540", "#8f3f97", "#b8312f", "#4d7ea8", "#7a6a00",
           "#00838f", "#6d4c41", "#5c6bc0"]
SEVERITY_COLOURS = {"error": "#b8312f", "warning": "#d9a21b"}
FONT = "font-family=\"system-ui, sans-serif\" font-size=\"12\""


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × 10^n)."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _legend(names: Sequence[str], colours: Sequence[str], x: float, y: float,
            width: float = 700) -> list[str]:
    """Legend entries left to right, wrapping onto further rows at ``width`` so no name is
    cut off (see :func:`legend_rows` for the height it takes)."""
    out, cx, cy = [], x, y
    for name, colour in zip(names, colours, strict=True):
        w = 24 + 7 * len(name)
        if cx > x and cx + w > x + width:
            cx, cy = x, cy + LEGEND_ROW
        out.append(f'<rect x="{cx:.1f}" y="{cy - 9:.1f}" width="10" height="10" '
                   f'fill="{colour}"/>')
        out.append(f'<text x="{cx + 14:.1f}" y="{cy:.1f}" {FONT}>{escape(name)}</text>')
        cx += w
    return out


LEGEND_ROW = 16


def legend_rows(names: Sequence[str], width: float = 700) -> int:
    """How many rows :func:`_legend` needs for ``names`` within ``width``."""
    rows, cx = 1, 0.0
    for name in names:
        w = 24 + 7 * len(name)
        if cx > 0 and cx + w > width:
            rows, cx = rows + 1, 0.0
        cx += w
    return rows


def hbar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    colours: dict[str, str] | None = None,
    title: str,
    width: int = 760,
    unit: str = "",
) -> str:
    """Horizontal stacked bars, one per label (e.g. findings per module, errors+warnings)."""
    names = list(series)
    cols = [(colours or {}).get(n, PALETTE[i % len(PALETTE)]) for i, n in enumerate(names)]
    label_w = min(260, 12 + 7 * max((len(s) for s in labels), default=4))
    bar_h, gap, top = 20, 8, 28
    height = top + len(labels) * (bar_h + gap) + 30
    totals = [sum(series[n][i] for n in names) for i in range(len(labels))]
    vmax = _nice_max(max(totals, default=0))
    plot_w = width - label_w - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="chart">']
    parts += _legend(names, cols, label_w, 16)
    for i, label in enumerate(labels):
        y = top + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" {FONT}>'
                     f"{escape(label)}</text>")
        x = float(label_w)
        for n, colour in zip(names, cols, strict=True):
            v = series[n][i]
            w = plot_w * v / vmax
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                             f'fill="{colour}"><title>{escape(label)} – {escape(n)}: '
                             f"{_fmt(v)}{unit}</title></rect>")
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}" {FONT}>{_fmt(totals[i])}{unit}</text>')
    axis_y = top + len(labels) * (bar_h + gap) + 4
    parts.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{label_w + plot_w}" y2="{axis_y}" '
                 'stroke="#888"/>')
    for k in range(5):
        v = vmax * k / 4
        x = label_w + plot_w * k / 4
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle" {FONT} '
                     f'fill="#555">{_fmt(v)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _plot_frame(title: str, width: int, height: int, names: Sequence[str],
                cols: Sequence[str], left: int, right: int, vmax: float,
                py: Callable[[float], float]) -> list[str]:
    """A line chart's opening: the svg element, its legend and five value gridlines."""
    plot_w = width - left - right
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="chart">']
    parts += _legend(names, cols, left, 16, width - left - right)
    for k in range(5):
        v = vmax * k / 4
        parts.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" {FONT} '
                     f'fill="#555">{_fmt(v)}</text>')
    return parts


def line_chart(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    width: int = 760,
    height: int = 280,
    colours: Sequence[str] | None = None,
) -> str:
    """Lines over an ordered x axis (months, periods), one per series (event type, team)."""
    names = list(series)
    cols = list(colours) if colours else [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    left, right, bottom = 60, 44, 46
    top = 18 + LEGEND_ROW * legend_rows(names, width - left - right) if names else 18
    height += top - 34
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = _nice_max(max((v for s in series.values() for v in s), default=0))
    n = len(x_labels)

    def px(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h - plot_h * v / vmax

    parts = _plot_frame(title, width, height, names, cols, left, right, vmax, py)
    step = max(1, -(-n * 72 // plot_w))  # keep labels at least ~72px apart
    for i, label in enumerate(x_labels):
        if i % step == 0 or i == n - 1:
            parts.append(f'<text x="{px(i):.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                         f'{FONT} fill="#555">{escape(label)}</text>')
    for name, colour in zip(names, cols, strict=True):
        values = series[name]
        points = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        for i, v in enumerate(values):
            parts.append(f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3" fill="{colour}">'
                         f"<title>{escape(name)}, {escape(x_labels[i])}: {_fmt(v)}</title>"
                         "</circle>")
    parts.append("</svg>")
    return "".join(parts)


def small_multiples(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    width: int = 370,
    height: int = 190,
) -> str:
    """One small line chart per series, each on its own scale, side by side (two a row):
    requests, assessments and reviews stay readable next to the far larger service counts."""
    charts = []
    for i, (name, values) in enumerate(series.items()):
        svg = line_chart(x_labels, {name: values}, title=f"{title}: {name}", width=width,
                         height=height, colours=[PALETTE[i % len(PALETTE)]])
        charts.append(f'<figure class="multiple"><figcaption>{escape(name)}</figcaption>'
                      f"{svg}</figure>")
    return f'<div class="multiples" role="group" aria-label="{escape(title)}">' \
           f'{"".join(charts)}</div>'


def time_chart(
    series: dict[str, Sequence[tuple[date, float, str]]],
    *,
    title: str,
    width: int = 760,
    height: int = 260,
) -> str:
    """Lines over a date axis, one per series (e.g. one per run kind: quarterly submissions
    placed at their period's end, nightly runs at their date), each point ``(date, value,
    label)``; the label names the point in its tooltip ("2025-26Q4", "2026-01-15")."""
    names = [n for n, pts in series.items() if pts]
    cols = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    left, right, bottom = 60, 44, 46
    top = 18 + LEGEND_ROW * legend_rows(names, width - left - right) if names else 18
    plot_w, plot_h = width - left - right, height - top - bottom
    days = [d for n in names for d, _, _ in series[n]]
    vmax = _nice_max(max((v for n in names for _, v, _ in series[n]), default=0))
    lo = min(days) if days else date.today()
    hi = max(days) if days else lo
    span = max(1, (hi - lo).days)

    def px(d: date) -> float:
        return left + (plot_w * (d - lo).days / span if hi > lo else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h - plot_h * v / vmax

    parts = _plot_frame(title, width, height, names, cols, left, right, vmax, py)
    ticks = sorted(set(days))
    step = max(1, -(-len(ticks) * 80 // plot_w))
    shown = ticks[::step] + ([ticks[-1]] if ticks and ticks[-1] not in ticks[::step] else [])
    last_x = -1e9
    for d in shown:
        if px(d) - last_x < 70:
            continue
        last_x = px(d)
        parts.append(f'<text x="{px(d):.1f}" y="{top + plot_h + 18}" text-anchor="middle" '
                     f'{FONT} fill="#555">{d.isoformat()}</text>')
    for name, colour in zip(names, cols, strict=True):
        pts = sorted(series[name])
        points = " ".join(f"{px(d):.1f},{py(v):.1f}" for d, v, _ in pts)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        for d, v, label in pts:
            parts.append(f'<circle cx="{px(d):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}">'
                         f"<title>{escape(name)}, {escape(label)}: {_fmt(v)}</title></circle>")
    parts.append("</svg>")
    return "".join(parts)
