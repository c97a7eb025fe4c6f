"""The DQ report's "SALT and ASCOF preview" section: each figure of the run's submission, its
change since the previous submission and how many people are behind the change. Counts only.

Self-contained so the report only calls :func:`measures_section` (the figures are read by
``pipelines.history.read.measures_of_run``).
"""

from __future__ import annotations

from html import escape

import polars as pl

from pipelines.measures import MEASURES

_TITLES = {m.id: m for m in MEASURES}


def _fmt(value, unit: str, denominator) -> str:
    if value is None:
        return "–"
    if denominator is None or unit == "count":
        return f"{int(value):,}"
    if unit == "per 100,000":
        return f"{value:,.1f}"
    return f"{value:.1f}%"


def measures_section(changes: pl.DataFrame | None) -> str:
    """HTML for the section (empty string when the run has no recorded figures)."""
    if changes is None or changes.is_empty():
        return ""
    prev = changes.get_column("prev_sub").drop_nulls()
    since = f"submission {prev[0]}" if len(prev) else "no earlier submission"
    rows = []
    order = {m: i for i, m in enumerate(_TITLES)}
    shown = (
        changes.filter(pl.col("grp").is_in(["18-64", "65+", "Total"]))
        .with_columns(
            pl.col("measure")
            .replace_strict(order, default=len(order), return_dtype=pl.Int32)
            .alias("_o"),
            pl.col("grp")
            .replace_strict({"18-64": 0, "65+": 1, "Total": 2}, return_dtype=pl.Int32)
            .alias("_g"),
        )
        .sort("_o", "measure", "_g")
    )
    for r in shown.iter_rows(named=True):
        m = _TITLES.get(r["measure"])
        unit = m.unit if m else "count"
        if r["denominator"] is None and unit == "per 100,000":
            unit = "count"
        change = r["change"]
        if change is None:
            ch = "new"
        elif unit in ("count",):
            ch = f"{int(change):+,}"
        else:
            ch = f"{change:+.1f}" + ("" if unit == "per 100,000" else " pts")
        fraction = "" if r["denominator"] is None else f"{r['numerator']:,} / {r['denominator']:,}"
        rows.append(
            "<tr>"
            f"<td>{escape(r['measure'])}</td><td>{escape(m.title if m else '')}</td>"
            f"<td>{escape(r['grp'])}</td>"
            f'<td class="n">{_fmt(r["value"], unit, r["denominator"])}</td>'
            f'<td class="n">{escape(fraction)}</td>'
            f'<td class="n">{_fmt(r["prev_value"], unit, r["prev_denominator"])}</td>'
            f'<td class="n">{escape(ch)}</td>'
            f'<td class="n">{r["people_changed"]:,}</td>'
            "</tr>"
        )
    head = (
        '<tr><th>measure</th><th>what</th><th>group</th><th class="n">figure</th>'
        '<th class="n">numerator / denominator</th><th class="n">previous</th>'
        '<th class="n">change</th><th class="n">people behind the change</th></tr>'
    )
    intro = (
        "<p>The national SALT and ASCOF figures as NHS England and DHSC will derive them from "
        f'this submission (docs/measures.md), compared with {escape(since)}. "People behind the '
        "change\" counts everyone who joined or left the numerator or denominator; the analysts' "
        "drill-down files (<code>measures_run&lt;N&gt;/people/</code> beside this report) name "
        "them. ASCOF 2D needs hospital data and is not shown.</p>"
    )
    return (
        f'<section id="measures"><h2>SALT and ASCOF preview</h2>{intro}'
        f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></section>"
    )
