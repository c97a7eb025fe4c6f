"""The waiting list over time: nightly runs record the waiting-now figures (W1-W5, counts and
days by team and age group: no person) in history; the pack and the DQ report read them back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from pipelines.period import Period

WAITING = ("W1", "W2", "W3", "W4", "W5")


def waiting_rows(pack: Any) -> pl.DataFrame:
    """The W figures of a pack by team and age group, as ``waiting_now`` stores them."""
    from pipelines.cqc.stats import summarise

    parts = []
    for fid in WAITING:
        if fid in pack.items:
            s = summarise(fid, pack.items[fid], ["team_id", "team_name", "age_group"])
            parts.append(s.select(
                pl.lit(pack.as_at).alias("as_at"), "figure",
                pl.col("team_id").cast(pl.String), "team_name", "age_group", "count",
                "median_days", "p90_days", "max_days",
            ))
    return pl.concat(parts) if parts else pl.DataFrame()


def waiting_now(cfg: Any, as_at: date) -> pl.DataFrame:
    """Read the extract and work out W1-W5 at ``as_at`` (what a nightly run records)."""
    from pipelines.cqc.pack import from_config

    pack = from_config(cfg, Period.containing(as_at), as_at, only=list(WAITING))
    return waiting_rows(pack)


def read_trend(cfg: Any, grain: str = "week") -> pl.DataFrame | None:
    """The recorded waiting list over time, or None when there is no history yet."""
    from pipelines.history import History

    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        return None
    with History.open(path) as h:
        return h.waiting_trend(grain)


def report_section(trend: pl.DataFrame | None) -> str:
    """The DQ report's small, self-contained "Waiting lists" section: the waiting-now figures
    over time (a line per figure) and by team at the latest point. Counts only."""
    from html import escape

    from pipelines.cqc.figures import definitions
    from pipelines.outputs.charts import line_chart

    head = '<section id="waiting"><h2>Waiting lists (CQC pack W1-W5)</h2>'
    if trend is None or not trend.height:
        return (head + "<p>No waiting-list history yet: each nightly run records who is "
                "waiting (see docs/cqc.md).</p></section>")
    titles = {f: definitions()["figures"][f]["title"] for f in WAITING}
    totals = trend.group_by("point", "figure").agg(pl.col("count").sum()).sort("point")
    points = sorted(set(totals["point"]))
    series = {}
    for fid in WAITING:
        got = dict(totals.filter(pl.col("figure") == fid).select("point", "count").rows())
        series[f"{fid} {titles[fid]}"] = [float(got.get(p, 0)) for p in points]
    chart = line_chart([p.isoformat() for p in points], series,
                       title="People / items waiting, last nightly run of each week")
    latest = trend.filter(pl.col("point") == points[-1])
    wide = latest.pivot(on="figure", index="team", values="count", aggregate_function="sum")
    cols = [f for f in WAITING if f in wide.columns]
    rows = "".join(
        "<tr><td>" + escape(str(r["team"])) + "</td>"
        + "".join(f'<td class="num">{int(r[f] or 0)}</td>' for f in cols) + "</tr>"
        for r in wide.sort("team").iter_rows(named=True)
    )
    header = "".join(f'<th title="{escape(titles[f])}">{f}</th>' for f in cols)
    return (
        head + chart
        + f"<p>By team at {escape(str(latest['as_at'].max()))}:</p>"
        + f"<table><thead><tr><th>Team</th>{header}</tr></thead><tbody>{rows}</tbody></table>"
        + "<p class='muted'>" + "; ".join(f"{f}: {escape(titles[f])}" for f in cols) + "</p>"
        + "</section>"
    )
