"""Tiny inline SVG charts, drawn in Python so the DQ report needs no JavaScript, no library
and no network: it opens offline from a shared drive or an e-mail attachment.

Only what the report needs: horizontal stacked bars (findings by module, completeness) and
line charts (volumes by month, open issues by team over runs). Every mark has a ``<title>``
so hovering shows the exact number, and the SVG has an ``aria-label`` for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def _legend(names: Sequence[str], colours: Sequence[str], x: float, y: float) -> list[str]:
    out, cx = [], x
    for name, colour in zip(names, colours, strict=True):
        out.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{cx + 14:.1f}" y="{y:.1f}" {FONT}>{escape(name)}</text>')
        cx += 24 + 7 * len(name)
    return out


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


def line_chart(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    width: int = 760,
    height: int = 280,
) -> str:
    """Lines over an ordered x axis (months, runs), one per series (event type, team)."""
    names = list(series)
    cols = [PALETTE[i % len(PALETTE)] for i in range(len(names))]
    left, right, top, bottom = 60, 44, 34, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = _nice_max(max((v for s in series.values() for v in s), default=0))
    n = len(x_labels)

    def px(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h - plot_h * v / vmax

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}" class="chart">']
    parts += _legend(names, cols, left, 16)
    for k in range(5):
        v = vmax * k / 4
        parts.append(f'<line x1="{left}" y1="{py(v):.1f}" x2="{left + plot_w}" y2="{py(v):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" {FONT} '
                     f'fill="#555">{_fmt(v)}</text>')
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
