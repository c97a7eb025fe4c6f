"""The HTML parts the DQ report and the team managers' pages share: the inline style and
Content-Security-Policy, tables, section and page heads, and the open-issues trend (chart and
team × period table). Self-contained pages: CSS inline, charts as inline SVG, no JavaScript.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from typing import Any

import polars as pl

from pipelines.outputs.charts import time_chart

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")

STYLE = """
:root{--ink:#1b1b1b;--muted:#555;--line:#d6d6d6;--bad:#b8312f;--ok:#2e8540;--warn:#d9a21b;
--head:#1d4f76}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);
margin:0;background:#f4f5f7}
header{background:var(--head);color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.9}
main{max-width:1100px;margin:0 auto;padding:12px 28px 40px}
section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:14px 20px;
margin:16px 0}
h2{font-size:18px;margin:4px 0 10px;color:var(--head)}
nav a{margin-right:14px;color:var(--head)}
.verdict{font-size:20px;font-weight:700;padding:14px 18px;border-radius:6px;color:#fff}
.verdict.ready{background:var(--ok)}.verdict.notready{background:var(--bad)}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin-top:12px}
.kpi{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px}
.kpi b{display:block;font-size:22px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
code{font-size:12px;color:var(--head);word-break:break-all}
th{background:#eef2f6;position:sticky;top:0}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.sev-error{color:var(--bad);font-weight:600}.sev-warning{color:#8a6100;font-weight:600}
.pass{color:var(--ok);font-weight:600}.fail{color:var(--bad);font-weight:600}
.muted{color:var(--muted)}
.bar{background:#e9ecef;height:10px;border-radius:3px;position:relative;min-width:120px}
.bar span{display:block;height:10px;border-radius:3px;background:var(--head)}
.bar i{position:absolute;top:-3px;width:2px;height:16px;background:var(--bad)}
details summary{cursor:pointer;color:var(--head)}
.multiples{display:grid;grid-template-columns:1fr 1fr;gap:8px 18px}
.multiples figure{margin:0}.multiples figcaption{font-weight:600;color:var(--head)}
table.matrix td.n,table.matrix th.n{min-width:3.2em}
table.matrix th{font-size:12px;vertical-align:bottom}table.matrix td:first-child{min-width:11em}
.scroll{overflow-x:auto}
.facts{display:flex;gap:6px 18px;flex-wrap:wrap;margin:6px 0 0;padding:0;list-style:none}
.facts li b{font-weight:600}
@media print{body{background:#fff}section{break-inside:avoid;border:none}}
"""

def _table(headers: list[str], rows: list[list[Any]], numeric: set[int] | None = None,
           raw: set[int] | None = None) -> str:
    """An HTML table; cells are escaped unless their column is in ``raw`` (our own markup)."""
    numeric, raw = numeric or set(), raw or set()
    head = "".join(f'<th class="n">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            text = v if i in raw else escape("" if v is None else
                                             f"{v:,}" if isinstance(v, int) else str(v))
            cells.append(f'<td class="n">{text}</td>' if i in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"

def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>{body}</section>'

def _sev(sev: str | None) -> str:
    return f'<span class="sev-{escape(sev or "")}">{escape(sev or "")}</span>'

def page_head(title: str, facts: list[tuple[str, str]]) -> str:
    items = "".join(f"<li>{escape(k)}: <b>{escape(v)}</b></li>" for k, v in facts)
    from pipelines.version import code_version

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title.split(' – ')[0])}</h1><ul class=\"facts\">{items}</ul>"
        f"<p>Made {now} by cld-pipeline {escape(code_version())}</p></header>"
    )

def trend_frame(trend: pl.DataFrame) -> pl.DataFrame:
    """Open findings per team and run from ``History.trend()`` (one row per rule), summed per
    run and team, with each run's kind and where it sits in time: a quarterly submission at
    its period (placed at the period's end), a nightly run at its date."""
    count = next(c for c in ("fixes", "findings", "open_issues", "count", "n")
                 if c in trend.columns)
    t = trend.with_columns(
        pl.col("team_id").cast(pl.String).fill_null("unallocated"),
        (pl.col("team_name") if "team_name" in trend.columns else pl.col("team_id"))
        .cast(pl.String).fill_null("Unallocated").alias("team_name"),
        (pl.col("kind") if "kind" in trend.columns else pl.lit("run")).cast(pl.String)
        .alias("kind"),
        (pl.col("period") if "period" in trend.columns else pl.lit(None)).cast(pl.String)
        .alias("period"),
        (pl.col("started_at") if "started_at" in trend.columns else pl.lit(None))
        .alias("started_at"),
    )
    t = t.sort(t.columns, nulls_last=True)  # one order, so first() is the same every run
    per = (t.group_by("run_id", "team_id", maintain_order=True)
           .agg(pl.col("team_name").first(), pl.col("kind").first(), pl.col("period").first(),
                pl.col("started_at").min(), pl.col(count).sum().alias("open")))
    rows = []
    for r in per.iter_rows(named=True):
        kind = "quarterly" if r["kind"] in ("build", "quarterly") else r["kind"]
        when, label = _when(kind, r["period"], r["started_at"])
        rows.append({**r, "kind": kind, "when": when, "label": label})
    schema = {"run_id": pl.String, "team_id": pl.String, "team_name": pl.String,
              "kind": pl.String, "period": pl.String, "started_at": pl.Datetime,
              "open": pl.Int64, "when": pl.Date, "label": pl.String}
    out = pl.DataFrame([{k: (str(v) if k == "run_id" else v) for k, v in r.items()
                         if k in schema} for r in rows], schema=schema)
    return out.sort("when", "run_id", "team_id", nulls_last=True)

def _when(kind: str, period: str | None, started: Any) -> tuple[date | None, str]:
    """Where a run sits on the time axis and its label: quarterly runs by their period
    (placed at its end, the data's cut-off), other runs by the day they ran."""
    if kind == "quarterly" and period:
        from pipelines.period import Period, PeriodError

        try:
            return Period.parse(period).end, period
        except PeriodError:
            pass
    if isinstance(started, datetime):
        return started.date(), started.date().isoformat()
    if isinstance(started, date):
        return started, started.isoformat()
    return None, ""

def trend_points(t: pl.DataFrame) -> dict[str, list[tuple[date, float, str]]]:
    """One series per run kind: open issues at each period (quarterly: the latest run of the
    period) or day (nightly: the latest run of the day), all teams in ``t`` summed."""
    series: dict[str, list[tuple[date, float, str]]] = {}
    dated = t.filter(pl.col("when").is_not_null())
    for kind in sorted(dated.get_column("kind").unique().to_list(),
                       key=lambda k: (k != "quarterly", k)):
        mine = dated.filter(pl.col("kind") == kind)
        latest = (mine.group_by("label").agg(
            pl.col("run_id").sort_by("started_at", "run_id", nulls_last=True).last(),
            pl.col("when").min()))
        points = []
        for label, run, when in latest.sort("when", "label", nulls_last=True).iter_rows():
            total = mine.filter(pl.col("run_id") == run).get_column("open").sum()
            points.append((when, float(total), label))
        series[TREND_NAMES.get(kind, kind)] = points
    return series

TREND_NAMES = {"quarterly": "Quarterly submissions (by period)",
               "nightly": "Nightly runs (by date)"}

TREND_COLUMNS = 4  # periods and nightly dates each listed in the team table

def trend_columns(t: pl.DataFrame) -> list[tuple[str, str, str]]:
    """The table's columns, oldest first: the last few quarterly periods and the last few
    nightly dates, each as (heading, kind, label) and its latest run."""
    cols = []
    dated = t.filter(pl.col("when").is_not_null())
    for kind in sorted(dated.get_column("kind").unique().to_list(),
                       key=lambda k: (k != "quarterly", k)):
        labels = (dated.filter(pl.col("kind") == kind).select("label", "when").unique()
                  .sort("when", "label", nulls_last=True).get_column("label").to_list())
        word = "quarterly" if kind == "quarterly" else kind
        cols += [(f"{lab} {word}", kind, lab) for lab in labels[-TREND_COLUMNS:]]
    return cols

def trend_body(trend: pl.DataFrame | None, team_id: str | None = None,
               team_name: str | None = None) -> str:
    """The chart over time (one series per run kind) and the team × period table."""
    if trend is None or trend.is_empty():
        return '<p class="muted">No earlier runs in the history yet.</p>'
    t = trend_frame(trend)
    if team_id is not None:
        t = t.filter(pl.col("team_id") == str(team_id))
        if t.is_empty():
            return '<p class="muted">No findings recorded for this team in earlier runs.</p>'
        if team_name:
            t = t.with_columns(pl.lit(team_name).alias("team_name"))
    series = trend_points(t)
    if not any(series.values()):
        return '<p class="muted">The runs in the history carry no period or date.</p>'
    chart = time_chart(series, title="Open issues over time, by run kind"
                       + ("" if team_id is None else " (this team)"))
    cols = trend_columns(t)
    rows = []
    teams = (t.select("team_id", "team_name").sort("team_id", "team_name", nulls_last=True)
             .unique(subset="team_id", keep="first", maintain_order=True))
    teams = teams.sort(pl.col("team_id") == "unallocated", "team_name", "team_id",
                       nulls_last=True)
    for tid, name in teams.iter_rows():
        mine = t.filter(pl.col("team_id") == tid)
        row: list[Any] = [name]
        for _, kind, label in cols:
            at = mine.filter((pl.col("kind") == kind) & (pl.col("label") == label))
            if at.is_empty():
                row.append(0)
                continue
            run = (at.sort("started_at", "run_id", nulls_last=True)
                   .get_column("run_id").to_list()[-1])
            row.append(int(at.filter(pl.col("run_id") == run).get_column("open").sum()))
        rows.append(row)
    lead = ("<p>Open fixes (one per person and field) recorded at each quarterly submission "
            "(by period; the latest run of each period) and each nightly run (by date; the "
            "latest run of each day).</p>")
    return (lead + chart + _table(["Team", *[c[0] for c in cols]], rows,
                                  numeric=set(range(1, len(cols) + 1))))
