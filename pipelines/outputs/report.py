"""The data-quality report: one self-contained HTML file per run.

It answers the analyst's questions before an upload: is the file ready to submit (errors
left)? which rules and national DQ modules fail? is each field complete enough against the
council's thresholds? do the monthly volumes per event type look right? what changed since
the previous submission? are the teams' open issues going down?

Self-contained on purpose: CSS inline, charts as inline SVG drawn in Python, no JavaScript,
and a Content-Security-Policy that forbids every fetch, so the file opens the same offline,
from a shared drive or as an attachment, and cannot leak anything. It holds counts only:
no person ids, names or values from the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.outputs.charts import SEVERITY_COLOURS, hbar_chart, line_chart
from pipelines.outputs.exceptions import conform_findings

CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")
MODULE_ORDER = [
    "Submission information", "Person details", "Events (all)", "Events (requests only)",
    "Events (assessments only)", "Carers and linked service users", "Events (services only)",
    "Events (reviews only)", "Costs (services only)",
]
EVENT_TYPES = ["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"]

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
@media print{body{background:#fff}section{break-inside:avoid;border:none}}
"""


@dataclass
class ReportInputs:
    """Everything the report can show; all but the findings are optional."""

    findings: pl.DataFrame
    frame: pl.DataFrame | None = None
    spec: Any = None
    run_id: str = ""
    council: str = ""
    thresholds: dict = field(default_factory=dict)
    comparison: Any = None  # pipelines.history.compare.Comparison
    trend: pl.DataFrame | None = None  # History.trend(): run_id, started_at, team_*, findings
    data_docs: Path | None = None
    period: tuple[Any, Any] | None = None  # (start, end) dates; default: the file's own


# --- small HTML helpers -------------------------------------------------------------------


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


# --- sections -----------------------------------------------------------------------------


def verdict_section(findings: pl.DataFrame, inp: ReportInputs) -> str:
    errors = findings.filter(pl.col("severity") == "error").height
    warnings = findings.filter(pl.col("severity") == "warning").height
    rules = findings.get_column("rule_id").n_unique()
    people = findings.get_column("person_id").drop_nulls().n_unique()
    ready = errors == 0
    text = ("READY to submit: no errors left" if ready
            else f"NOT ready to submit: {errors:,} errors left")
    rows = ("" if inp.frame is None
            else f'<div class="kpi">Rows in the file<b>{inp.frame.height:,}</b></div>')
    kpis = (f'<div class="kpis">{rows}<div class="kpi">Errors<b>{errors:,}</b></div>'
            f'<div class="kpi">Warnings<b>{warnings:,}</b></div>'
            f'<div class="kpi">Rules failing<b>{rules:,}</b></div>'
            f'<div class="kpi">People with issues<b>{people:,}</b></div></div>')
    return _section("verdict", "Ready to submit?",
                    f'<div class="verdict {"ready" if ready else "notready"}">{escape(text)}'
                    f"</div>{kpis}")


def modules_section(findings: pl.DataFrame) -> str:
    if findings.is_empty():
        return _section("modules", "Findings by national DQ module", "<p>No findings.</p>")
    by = (findings.with_columns(pl.col("module").fill_null("(no module)"))
          .group_by("module").agg(
              (pl.col("severity") == "error").sum().alias("error"),
              (pl.col("severity") == "warning").sum().alias("warning")))
    order = {m: i for i, m in enumerate(MODULE_ORDER)}
    by = by.with_columns(pl.col("module").replace_strict(order, default=99, return_dtype=pl.Int32)
                         .alias("_o")).sort("_o", "module")
    labels = by.get_column("module").to_list()
    chart = hbar_chart(labels, {"error": by["error"].to_list(), "warning": by["warning"].to_list()},
                       colours=SEVERITY_COLOURS, title="Findings by national DQ module")
    table = _table(["Module", "Errors", "Warnings"],
                   [[m, int(e), int(w)] for m, e, w in by.select("module", "error", "warning")
                    .iter_rows()], numeric={1, 2})
    return _section("modules", "Findings by national DQ module", chart + table)


def rules_section(findings: pl.DataFrame) -> str:
    if findings.is_empty():
        return _section("rules", "Findings by rule", "<p>No findings: every rule passed.</p>")
    by = (findings.group_by("rule_id").agg(
        pl.col("severity").first(), pl.col("module").first(), pl.col("category").first(),
        pl.len().alias("n"), pl.col("person_id").drop_nulls().n_unique().alias("people"),
        pl.col("message").drop_nulls().first(), pl.col("how_to_fix").drop_nulls().first(),
    ).sort([pl.col("severity") != "error", pl.col("n")], descending=[False, True]))
    rows = [[f'<code>{escape(r["rule_id"])}</code><br>{escape(r["message"] or "")}',
             _sev(r["severity"]), f'{escape(r["module"] or "")}<br><span class="muted">'
             f'{escape(r["category"] or "")}</span>', int(r["n"]), int(r["people"]),
             r["how_to_fix"]] for r in by.iter_rows(named=True)]
    return _section("rules", "Findings by rule", _table(
        ["Rule and problem", "Severity", "Module", "Findings", "People", "How to fix"],
        rows, numeric={3, 4}, raw={0, 1, 2}))


def completeness_table(frame: pl.DataFrame, spec) -> pl.DataFrame:
    """Per field: rows it applies to (national field status mandatory/applicable) and the
    share of them filled; the same measure the quantitative checks test."""
    from checks.quantitative import completeness_frame

    comp = completeness_frame(frame, spec, list(spec.field_names))
    rows = []
    for f in spec.field_names:
        col = comp.get_column(f)
        applies = col.is_not_null().sum()
        filled = (col == "filled").sum()
        rows.append({"field": f, "module": spec.field(f).module, "applies": int(applies),
                     "filled": int(filled),
                     "pct": (100.0 * filled / applies) if applies else None})
    return pl.DataFrame(rows, schema={"field": pl.String, "module": pl.String,
                                      "applies": pl.Int64, "filled": pl.Int64,
                                      "pct": pl.Float64})


def completeness_section(inp: ReportInputs) -> str:
    title = "Completeness by field against thresholds"
    if inp.frame is None or inp.spec is None:
        return _section("completeness", title,
                        '<p class="muted">Not available: no CLD file given.</p>')
    table = completeness_table(inp.frame, inp.spec)
    limits = {k: float(v) * 100 for k, v in (inp.thresholds.get("completeness") or {}).items()}
    rows, below = [], 0
    ordered = sorted(table.iter_rows(named=True),
                     key=lambda r: (r["field"] not in limits,
                                    list(inp.spec.field_names).index(r["field"])))
    for r in ordered:
        pct, limit = r["pct"], limits.get(r["field"])
        if pct is None:
            status, bar = '<span class="muted">not applicable</span>', ""
        else:
            ok = limit is None or pct >= limit
            below += 0 if ok else 1
            status = ('<span class="muted">no threshold</span>' if limit is None
                      else '<span class="pass">meets</span>' if ok
                      else '<span class="fail">below threshold</span>')
            mark = f'<i style="left:{limit:.1f}%"></i>' if limit is not None else ""
            bar = f'<div class="bar"><span style="width:{pct:.1f}%"></span>{mark}</div>'
        rows.append([r["field"], r["module"], r["applies"],
                     "" if pct is None else f"{pct:.1f}%",
                     "" if limit is None else f"{limit:.0f}%", bar, status])
    lead = (f"<p>{below} field(s) below the council's threshold. Completeness is measured on "
            "the rows each field applies to (national field status mandatory or applicable); "
            "the red mark on each bar is the threshold.</p>")
    return _section("completeness", title, lead + _table(
        ["Field", "Module", "Rows it applies to", "Filled", "Threshold", "", "Status"], rows,
        numeric={2, 3, 4}, raw={5, 6}))


def volumes_section(inp: ReportInputs) -> str:
    title = "Volumes by month and event type"
    if inp.frame is None or inp.spec is None:
        return _section("volumes", title, '<p class="muted">Not available: no CLD file given.</p>')
    from checks.quantitative import monthly_counts

    start, end = inp.period or _file_period(inp.frame, inp.spec)
    if start is None or end is None:
        return _section("volumes", title,
                        '<p class="muted">Not available: the file has no reporting period.</p>')
    months = monthly_counts(inp.frame, inp.spec, start, end)
    labels = [m.strftime("%b %Y") for m in months.get_column("month").to_list()]
    names = {k: (inp.spec.value("Event_Type", k) or k.title()) for k in EVENT_TYPES}
    series = {names[k]: months.get_column(k).to_list() for k in EVENT_TYPES}
    chart = line_chart(labels, series, title="Events per month by event type")
    rows = [[lab, *[int(v) for v in vals]]
            for lab, vals in zip(labels, months.select(EVENT_TYPES).iter_rows(), strict=True)]
    note = ("<p class='muted'>Requests, assessments and reviews count in the month they ended; "
            "services in every month they were active.</p>")
    return _section("volumes", title, chart + note + _table(
        ["Month", *series], rows, numeric={1, 2, 3, 4}))


def _file_period(frame: pl.DataFrame, spec):
    from checks.engine import _period_bounds

    return _period_bounds(frame, spec, None)


def changes_section(comparison) -> str:
    title = "Changes against the previous submission"
    if comparison is None:
        return _section("changes", title, '<p class="muted">No previous submission in the '
                        "history to compare with.</p>")
    t = comparison.totals()
    lead = (f"<p>Submission {escape(str(comparison.a.id))} ({escape(str(comparison.a.period))}, "
            f"{comparison.a.rows:,} rows) → submission {escape(str(comparison.b.id))} "
            f"({escape(str(comparison.b.period))}, {comparison.b.rows:,} rows): "
            f"{t['added']:,} events added, {t['dropped']:,} dropped "
            f"({t['dropped_left_window']:,} left the reporting window), {t['changed']:,} changed, "
            f"{t['unchanged']:,} unchanged; {t['vanished_people']:,} people no longer in the "
            f"file ({t['vanished_unexplained']:,} not explained by the window).</p>")
    ev = comparison.events
    cols = [c for c in ("event_type", "added", "dropped", "dropped_left_window", "changed",
                        "unchanged") if c in ev.columns]
    events = _table([c.replace("_", " ").capitalize() for c in cols],
                    [list(r) for r in ev.select(cols).iter_rows()],
                    numeric=set(range(1, len(cols))))
    warn = "".join(f"<li>{escape(w)}</li>" for w in comparison.warnings) or "<li>none</li>"
    parts = [lead, events, f"<h3>Warnings</h3><ul>{warn}</ul>"]
    comp = comparison.completeness
    if comp is not None and comp.height and "delta_pp" in comp.columns:
        top = comp.sort(pl.col("delta_pp").abs(), descending=True, nulls_last=True).head(10)
        parts.append("<h3>Largest changes in completeness</h3>" + _table(
            ["Event type", "Field", "Before %", "Now %", "Change (pp)"],
            [[r["event_type"], r["field"], _pct(r["pct_a"]), _pct(r["pct_b"]), _pct(r["delta_pp"])]
             for r in top.iter_rows(named=True)], numeric={2, 3, 4}))
    fc = comparison.field_changes
    if fc is not None and fc.height:
        parts.append("<h3>Fields changed most in matched events</h3>" + _table(
            ["Field", "Events"], [list(r) for r in fc.head(10).iter_rows()], numeric={1}))
    return _section("changes", title, "".join(parts))


def _pct(v) -> str:
    return "" if v is None else f"{v:.1f}"


def trend_frame(trend: pl.DataFrame) -> pl.DataFrame:
    """Open findings per team and run from ``History.trend()`` (one row per rule): summed per
    run and team, oldest run first."""
    count = next(c for c in ("findings", "open_issues", "count", "n") if c in trend.columns)
    order = "started_at" if "started_at" in trend.columns else "run_id"
    t = trend.with_columns(
        pl.col("team_id").cast(pl.String).fill_null("unallocated"),
        (pl.col("team_name") if "team_name" in trend.columns else pl.col("team_id"))
        .cast(pl.String).fill_null("Unallocated").alias("team_name"),
    )
    return (t.group_by("run_id", "team_id").agg(pl.col(order).min().alias("_o"),
                                                pl.col("team_name").first(), pl.col(count).sum()
                                                .alias("open"))
            .sort("_o", "run_id", "team_id"))


def teams_now(findings: pl.DataFrame) -> str:
    """This run's open issues per owning team (unallocated last), errors and warnings."""
    if findings.is_empty():
        return ""
    by = (findings.with_columns(pl.col("team_name").fill_null(pl.col("team_id"))
                                .fill_null("Unallocated"))
          .group_by("team_name").agg(
              (pl.col("severity") == "error").sum().alias("error"),
              (pl.col("severity") == "warning").sum().alias("warning"))
          .sort([pl.col("team_name") == "Unallocated", pl.col("error") + pl.col("warning"),
                 "team_name"], descending=[False, True, False]))
    return "<h3>This run</h3>" + hbar_chart(
        by.get_column("team_name").to_list(),
        {"error": by["error"].to_list(), "warning": by["warning"].to_list()},
        colours=SEVERITY_COLOURS, title="Open issues per team in this run")


TREND_RUNS_CHART = 60  # runs drawn in the trend chart (a year of nightly runs is too many)
TREND_RUNS_TABLE = 8  # runs listed in the table


def trend_section(trend: pl.DataFrame | None, findings: pl.DataFrame) -> str:
    title = "Trend of open issues by team"
    now = teams_now(findings)
    if trend is None or trend.is_empty():
        return _section("trend", title, now + '<p class="muted">No earlier runs in the '
                        "history yet.</p>")
    t = trend_frame(trend)
    runs = t.select("run_id", "_o").unique().sort("_o", "run_id").get_column("run_id").to_list()
    runs = runs[-TREND_RUNS_CHART:]
    teams = t.select("team_id", "team_name").unique(subset="team_id").sort("team_id")
    series, rows = {}, []
    for tid, name in teams.iter_rows():
        mine = dict(t.filter(pl.col("team_id") == tid).select("run_id", "open").iter_rows())
        values = [int(mine.get(r, 0)) for r in runs]
        series[name] = values
        rows.append([name, *values[-TREND_RUNS_TABLE:]])
    labels = [f"run {r}" for r in runs]
    chart = line_chart(labels, series, title="Open issues per team over runs")
    shown = labels[-TREND_RUNS_TABLE:]
    return _section("trend", title, now + "<h3>Over the runs in the history</h3>" + chart
                    + _table(["Team", *shown], rows, numeric=set(range(1, len(shown) + 1))))


def docs_section(data_docs: Path | None, out: Path) -> str:
    title = "Great Expectations Data Docs"
    if data_docs is None:
        return _section("docs", title, '<p class="muted">No Data Docs were built for this run.</p>')
    target = Path(data_docs)
    if target.is_dir():
        target = target / "index.html"
    rel = os.path.relpath(target, out.parent).replace(os.sep, "/")
    return _section("docs", title, f'<p>The quantitative checks in detail: <a href="{escape(rel)}">'
                    f"{escape(rel)}</a> (opens offline; keep it beside this report).</p>")


# --- the page -----------------------------------------------------------------------------


def render_report(inp: ReportInputs, out: Path) -> str:
    """The whole page as text."""
    findings = conform_findings(inp.findings)
    run_id = inp.run_id or next(iter(findings.get_column("run_id").drop_nulls().unique()
                                     .to_list()), "")
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    release = f" · release {escape(inp.spec.release)}" if inp.spec is not None else ""
    nav = "".join(f'<a href="#{a}">{escape(t)}</a>' for a, t in [
        ("verdict", "Ready?"), ("modules", "Modules"), ("rules", "Rules"),
        ("completeness", "Completeness"), ("volumes", "Volumes"), ("changes", "Changes"),
        ("trend", "Teams"), ("docs", "Data Docs")])
    body = "".join([
        verdict_section(findings, inp), modules_section(findings), rules_section(findings),
        completeness_section(inp), volumes_section(inp), changes_section(inp.comparison),
        trend_section(inp.trend, findings), docs_section(inp.data_docs, out),
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>CLD data-quality report – {escape(inp.council)} – run "
        f"{escape(str(run_id))}</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<header><h1>CLD data-quality report</h1><p>{escape(inp.council)} · run "
        f"{escape(str(run_id))}{release} · made {now}</p></header>"
        f"<main><nav>{nav}</nav>{body}"
        '<p class="muted">Counts only: this report holds no personal data.</p></main>'
        "</body></html>\n"
    )


def save_report(inp: ReportInputs, out: Path) -> Path:
    """Write the report to ``out`` (written beside and renamed, so a reader never sees half)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    tmp.write_text(render_report(inp, out), encoding="utf-8")
    tmp.replace(out)
    return out


def write_report(cfg, run_id: int | None, out_dir: Path, *,
                 data_docs: Path | None = None) -> Path:
    """The report for a run kept in the history (default: the latest checked run), written
    to ``out_dir/dq_report_run<id>.html``: its findings, its submission (completeness and
    volumes), the comparison with the previous submission and the teams' trend. This is what
    the quarterly flow calls after recording the run."""
    from pipelines.outputs.sources import from_history, load_thresholds

    run = from_history(cfg, run_id, with_submission=True)
    if data_docs is None and (out_dir / "data_docs").exists():
        data_docs = out_dir / "data_docs"
    inp = ReportInputs(
        findings=run.findings, frame=run.frame, spec=run.spec, run_id=str(run.run_id),
        council=cfg.council.name, thresholds=load_thresholds(cfg), comparison=run.comparison,
        trend=run.trend, data_docs=data_docs,
    )
    return save_report(inp, Path(out_dir) / f"dq_report_run{run.run_id}.html")
