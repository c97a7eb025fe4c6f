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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

if TYPE_CHECKING:
    from checks.thresholds import CheckThresholds

from pipelines.outputs.charts import (
    SEVERITY_COLOURS,
    hbar_chart,
    small_multiples,
)
from pipelines.outputs.fixes import action_order, conform_findings, labels
from pipelines.outputs.measures_section import measures_section
from pipelines.outputs.page import (
    CSP,
    STYLE,
    _section,
    _sev,
    _table,
    page_head,
    trend_body,
)

MODULE_ORDER = [
    "Submission information", "Person details", "Events (all)", "Events (requests only)",
    "Events (assessments only)", "Carers and linked service users", "Events (services only)",
    "Events (reviews only)", "Costs (services only)",
]
EVENT_TYPES = ["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"]


@dataclass
class ReportInputs:
    """Everything the report can show; all but the findings are optional."""

    findings: pl.DataFrame
    frame: pl.DataFrame | None = None
    spec: Any = None
    run_id: str = ""
    council: str = ""
    thresholds: CheckThresholds | None = None  # pipelines.thresholds.load(cfg).checks
    comparison: Any = None  # pipelines.history.compare.Comparison
    trend: pl.DataFrame | None = None  # History.trend(): run_id, started_at, team_*, findings
    data_docs: Path | None = None
    period: tuple[Any, Any] | None = None  # (start, end) dates; default: the file's own
    period_label: str = ""  # the quarter, e.g. "2025-26Q4"
    kind: str = ""  # run kind: "quarterly" (a submission build), "nightly", "check"
    cutoff: date | None = None  # the data's cut-off date (period end, or a nightly's day)
    build: dict | None = None  # the build summary (unmapped codes, quarantined feed files)
    national: pl.DataFrame | None = None  # per module and field: cells the national DQ fails
    measures: pl.DataFrame | None = None  # pipelines.history.read.measures_of_run()
    # checks.quantitative.FileMeasures: completeness per field and monthly counts, as the
    # checks measured them (CheckResult.measures, or checks.quantitative.file_measures)
    file_measures: Any = None
    waiting: pl.DataFrame | None = None  # the CQC pack's waiting lists over time (cqc.trend)


KIND_TEXT = {"quarterly": "quarterly submission", "build": "quarterly submission",
             "nightly": "nightly DQ run", "check": "check of a file"}


# --- small HTML helpers -------------------------------------------------------------------


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
    ).sort([pl.col("severity") != "error", pl.col("n"), "rule_id"],
           descending=[False, True, False]))
    rows = [[f'<code>{escape(r["rule_id"])}</code><br>{escape(r["message"] or "")}',
             _sev(r["severity"]), f'{escape(r["module"] or "")}<br><span class="muted">'
             f'{escape(r["category"] or "")}</span>', int(r["n"]), int(r["people"]),
             r["how_to_fix"]] for r in by.iter_rows(named=True)]
    return _section("rules", "Findings by rule", _table(
        ["Rule and problem", "Severity", "Module", "Findings", "People", "How to fix"],
        rows, numeric={3, 4}, raw={0, 1, 2}))


def completeness_section(inp: ReportInputs) -> str:
    title = "Completeness by field against thresholds"
    if inp.file_measures is None or inp.spec is None:
        return _section("completeness", title,
                        '<p class="muted">Not available: no CLD file given.</p>')
    table = inp.file_measures.completeness
    given = inp.thresholds.completeness if inp.thresholds is not None else {}
    limits = {k: float(v) * 100 for k, v in given.items()}
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
        rows.append([inp.spec.field(r["field"]).label, r["module"],
                     national_status(inp.spec, r["field"]), r["applies"],
                     "" if pct is None else f"{pct:.1f}%",
                     "" if limit is None else f"{limit:.0f}%", bar, status])
    lead = (f"<p>{below} field(s) below the council's threshold. Completeness is measured on "
            "the rows each field applies to (national field status mandatory or applicable); "
            "the red mark on each bar is the threshold.</p>")
    return _section("completeness", title, lead + _table(
        ["Field", "Module", "National field status", "Rows it applies to", "Filled",
         "Threshold", "", "Status"], rows, numeric={3, 4, 5}, raw={6, 7}))


def national_status(spec, name: str) -> str:
    """The national field status in words: mandatory (always or when), else optional (or
    applicable when), from the spec's data."""
    f = spec.field(name)
    if f.mandatory == "always":
        return "Mandatory"
    if f.mandatory != "never":
        return f"Mandatory when {spec.describe(f.mandatory)}"
    if f.applies == "always":
        return "Optional"
    return f"Optional; applies when {spec.describe(f.applies)}"


def volumes_section(inp: ReportInputs) -> str:
    title = "Volumes by month and event type"
    if inp.file_measures is None or inp.spec is None:
        return _section("volumes", title, '<p class="muted">Not available: no CLD file given.</p>')
    months = inp.file_measures.monthly
    if months is None:
        return _section("volumes", title,
                        '<p class="muted">Not available: the file has no reporting period.</p>')
    labels = [m.strftime("%b %Y") for m in months.get_column("month").to_list()]
    names = {k: (inp.spec.value("Event_Type", k) or k.title()) for k in EVENT_TYPES}
    series = {names[k]: months.get_column(k).to_list() for k in EVENT_TYPES}
    # One chart per event type, each on its own scale: services run ten times the others.
    chart = small_multiples(labels, series, title="Events per month by event type")
    rows = [[lab, *[int(v) for v in vals]]
            for lab, vals in zip(labels, months.select(EVENT_TYPES).iter_rows(), strict=True)]
    note = ("<p class='muted'>Each event type on its own scale. Requests, assessments and "
            "reviews count in the month they ended; services in every month they were "
            "active.</p>")
    return _section("volumes", title, chart + note + _table(
        ["Month", *series], rows, numeric={1, 2, 3, 4}))


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
    heads = {"event_type": "Event type", "dropped_left_window": "Dropped: left the window"}
    events = _table([heads.get(c, c.replace("_", " ").capitalize()) for c in cols],
                    [list(r) for r in ev.select(cols).iter_rows()],
                    numeric=set(range(1, len(cols))))
    warn = "".join(f"<li>{escape(w)}</li>" for w in comparison.warnings) or "<li>none</li>"
    parts = [lead, events, f"<h3>Warnings</h3><ul>{warn}</ul>"]
    names = labels()  # people read field labels ("NHS Number"), not raw names
    comp = comparison.completeness
    if comp is not None and comp.height and "delta_pp" in comp.columns:
        ties = [c for c in ("event_type", "field") if c in comp.columns]
        top = comp.sort([pl.col("delta_pp").abs(), *ties],
                        descending=[True, *(False for _ in ties)], nulls_last=True).head(10)
        parts.append("<h3>Largest changes in completeness</h3>" + _table(
            ["Event type", "Field", "Before %", "Now %", "Change (pp)"],
            [[r["event_type"], names.get(r["field"], r["field"]), _pct(r["pct_a"]),
              _pct(r["pct_b"]), _pct(r["delta_pp"])]
             for r in top.iter_rows(named=True)], numeric={2, 3, 4}))
    fc = comparison.field_changes
    if fc is not None and fc.height:
        parts.append("<h3>Fields changed most in matched events</h3>" + _table(
            ["Field", "Events"], [[names.get(r[0], r[0]), *r[1:]] for r in
                                  fc.head(10).iter_rows()], numeric={1}))
    return _section("changes", title, "".join(parts))


def _pct(v) -> str:
    return "" if v is None else f"{v:.1f}"


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


def trend_section(trend: pl.DataFrame | None, findings: pl.DataFrame) -> str:
    title = "Trend of open issues by team"
    return _section("trend", title, teams_now(findings) + "<h3>Over time</h3>"
                    + trend_body(trend))


TEAM_RULE_COLUMNS = 10  # rules shown as columns in the team × rule table (the rest summed)


def fixes(findings: pl.DataFrame) -> pl.DataFrame:
    """What a worker must fix: one per person × field × rule (a blank ethnicity on a person
    is one fix however many of the person's rows show it); file-level findings count one
    each. Columns: team_id, team_name, rule_id, severity, field, message, how_to_fix,
    person_id, events (rows affected)."""
    f = findings.with_columns(
        pl.col("team_id").fill_null(UNALLOCATED_ID),
        pl.col("team_name").fill_null(pl.col("team_id")).fill_null("Unallocated"),
        pl.when(pl.col("person_id").is_null()).then(pl.col("row").cast(pl.String)
                                                     .fill_null(pl.int_range(pl.len())
                                                                .cast(pl.String)))
        .otherwise(pl.lit("")).alias("_alone"),
    )
    return (f.group_by("team_id", "rule_id", "person_id", "field", "_alone", maintain_order=True)
            .agg(pl.col("team_name").first(), pl.col("severity").first(),
                 pl.col("message").first(), pl.col("how_to_fix").first(),
                 pl.col("module").first(), pl.len().alias("events"))
            .drop("_alone"))


UNALLOCATED_ID = "unallocated"


def short_rule(rule_id: str) -> str:
    """A column heading for a rule: the field check in words (``Ethnicity blank``,
    ``NHS Number invalid``), else the rule id (``LOG003``)."""
    if rule_id.startswith("FLD_"):
        body = rule_id.removeprefix("FLD_")
        name, _, check = body.rpartition("_")
        if name:
            word = {"mandatory": "blank", "list": "not in list", "mod11": "fails check"}.get(
                check, "invalid")
            return f"{name.replace('_', ' ')} {word}"
    return rule_id


def team_rule_section(findings: pl.DataFrame) -> str:
    """Who must fix what: teams down, the rules with most fixes across, each cell the fixes
    (person × field) that team owns; unallocated last (the analyst's)."""
    title = "Who must fix what: teams × rules"
    if findings.is_empty():
        return _section("teamrules", title, "<p>Nothing to fix.</p>")
    fx = fixes(findings)
    by_rule = (fx.group_by("rule_id").agg(pl.len().alias("n"), pl.col("severity").first(),
                                          pl.col("message").first())
               .sort([pl.col("severity") != "error", pl.col("n"), "rule_id"],
                     descending=[False, True, False]))
    shown = by_rule.head(TEAM_RULE_COLUMNS).get_column("rule_id").to_list()
    teams = (fx.group_by("team_id").agg(pl.col("team_name").first(), pl.len().alias("n"))
             .sort([pl.col("team_id") == UNALLOCATED_ID, pl.col("n"), "team_name", "team_id"],
                   descending=[False, True, False, False], nulls_last=True))
    counts = {(t, r): n for t, r, n in fx.group_by("team_id", "rule_id").len().iter_rows()}
    rows = []
    for tid, name, total in teams.iter_rows():
        cells = [counts.get((tid, r), 0) for r in shown]
        other = total - sum(cells)
        rows.append([name, *[c or "" for c in cells], other or "", total])
    heads = ["Team", *[short_rule(r) for r in shown], "Other rules", "Total fixes"]
    key = "".join(f"<li><b>{escape(short_rule(r))}</b>: <code>{escape(r)}</code> {_sev(sev)} "
                  f"{escape(m or '')}</li>"
                  for r, _, sev, m in by_rule.head(TEAM_RULE_COLUMNS).iter_rows())
    lead = ("<p>Each cell counts <b>fixes</b>: one per person and field, however many of "
            "the person's events it affects. The team lists give each fix with its events.</p>")
    table = _table(heads, rows, numeric=set(range(1, len(heads)))).replace(
        "<table>", '<div class="scroll"><table class="matrix">', 1) + "</div>"
    return _section("teamrules", title, lead + table + f"<details><summary>The rules in the "
                    f"columns</summary><ul>{key}</ul></details>")


def unmapped_section(inp: ReportInputs) -> str:
    """Local codes found in the case system with no row in their mapping table (for the
    analyst: add them to the table named), with the rows each left blank."""
    title = "Unmapped local codes"
    if inp.build is None:
        return _section("unmapped", title, '<p class="muted">Not available: no build summary '
                        "kept for this run.</p>")
    codes = inp.build.get("unmapped") or []
    if not codes:
        return _section("unmapped", title, "<p>Every local code found has a mapping.</p>")
    ordered = sorted(codes, key=lambda c: (-int(c.get("rows") or 0), str(c.get("field")),
                                           str(c.get("mapping")), str(c.get("code"))))
    label = _label_of(inp.spec)
    rows = [[c.get("mapping"), label(c.get("field")), c.get("code"), int(c.get("rows") or 0)]
            for c in ordered]
    lead = (f"<p>{len(codes)} local code(s) had no row in their mapping table, so the field "
            "is blank on those rows (the build never guesses). For the analyst: add each code "
            "to the mapping table named (<code>[paths] mappings_dir</code>), then rebuild.</p>")
    return _section("unmapped", title, lead + _table(
        ["Mapping table", "Field", "Local code", "Rows"], rows, numeric={3}))


def quarantined_section(inp: ReportInputs) -> str:
    title = "Quarantined provider files"
    if inp.build is None:
        return _section("quarantined", title, '<p class="muted">Not available: no build '
                        "summary kept for this run.</p>")
    feeds = inp.build.get("feeds") or {}
    if not feeds.get("folder_found", True):
        return _section("quarantined", title, '<p class="muted">No provider feed folder was '
                        "read in this build.</p>")
    files = feeds.get("quarantined") or []
    held = feeds.get("held_in_quarantine") or []
    if not files and not held:
        return _section("quarantined", title, "<p>No provider file was quarantined, and none "
                        "is waiting in quarantine.</p>")
    rows = [[q.get("file"), q.get("reason"), "this run", q.get("moved_to") or ""] for q in files]
    rows += [[q.get("file"), q.get("reason"), (q.get("since") or "?")[:10],
              q.get("moved_to") or ""] for q in held]
    parts = []
    if files:
        parts.append(f"{len(files)} provider file(s) broke their contract in this run")
    if held:
        parts.append(f"{len(held)} quarantined by an earlier run are still in quarantine "
                     "(not re-sent)")
    lead = (f"<p>{' and '.join(parts)}: all are left out of this build, each with its reason. "
            "Ask the provider for a corrected file and put it in the feeds folder.</p>")
    return _section("quarantined", title, lead + _table(
        ["File", "Reason", "Quarantined", "Kept in"], rows))


def national_section(inp: ReportInputs) -> str:
    """Per national module and field, the cells the national DQ report will count as
    failed (``checks.national.national_dq``), so the analyst sees the national picture
    before sending."""
    title = "The national DQ report's view: failed cells by module"
    nat = inp.national
    if nat is None:
        return _section("national", title, '<p class="muted">Not available: no CLD file '
                        "given.</p>")
    failing = nat.filter(pl.col("failed") > 0)
    if failing.is_empty():
        return _section("national", title, "<p>No cell the national DQ report counts as "
                        "failed.</p>")
    order = {m: i for i, m in enumerate(MODULE_ORDER)}
    by_module = (failing.group_by("module").agg(pl.col("failed").sum(), pl.len().alias("fields"))
                 .with_columns(pl.col("module").replace_strict(order, default=99,
                                                               return_dtype=pl.Int32).alias("_o"))
                 .sort("_o", "module"))
    summary = _table(["Module", "Fields with failed cells", "Failed cells"],
                     [[m, int(n), int(f)] for m, f, n in
                      by_module.select("module", "failed", "fields").iter_rows()],
                     numeric={1, 2})
    has_here = ("not_errors_here" in failing.columns
                and failing["not_errors_here"].is_not_null().any())
    heads = ["Module", "Field", "Cells counted", "Blank (mandatory)", "Invalid", "Release 1",
             "Failed", *(["Not an error here"] if has_here else [])]
    rows = []
    for r in failing.iter_rows(named=True):
        row = [r["module"], r.get("label") or r["field"], int(r["cells"] or 0),
               int(r["failed_blank_mandatory"] or 0), int(r["failed_invalid"] or 0),
               int(r["failed_release_1"] or 0), int(r["failed"] or 0)]
        if has_here:
            row.append(int(r["not_errors_here"] or 0))
        rows.append(row)
    lead = ("<p>What the national DQ report will count as failed when this file is sent "
            "(the national GetDQValues method): per module, then per field. "
            + ("<i>Not an error here</i> counts failed cells this tool reports as a warning "
               "or not at all (e.g. a blank NHS number), so they do not block the file but "
               "still show nationally.</p>" if has_here else "</p>"))
    return _section("national", title, lead + summary + "<h3>By field</h3>" + _table(
        heads, rows, numeric=set(range(2, len(heads)))))


def _label_of(spec) -> Callable[[Any], str]:
    def label(name: Any) -> str:
        if name is None:
            return ""
        if spec is not None and spec.has_field(str(name)):
            return spec.field(str(name)).label
        return str(name).replace("_", " ")

    return label


def offline_docs_index(folder: Path) -> Path | None:
    """Great Expectations' own index page lists its results with JavaScript fetched from a
    CDN, so offline it is empty. Beside it, a plain page that links every validation result
    and expectation suite and needs nothing from the network."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    if not folder.is_dir():
        return None
    pages = sorted(folder.glob("validations/**/*.html")) + sorted(
        folder.glob("expectations/**/*.html"))
    items = "".join(
        f'<li><a href="{escape(os.path.relpath(pg, folder).replace(os.sep, "/"))}">'
        f'{escape(pg.parent.parent.parent.name if "validations" in pg.parts else pg.stem)}'
        f'</a> <span class="muted">{escape(os.path.relpath(pg, folder))}</span></li>'
        for pg in pages)
    out = folder / "offline_index.html"
    out.write_text(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Data Docs (offline index)</title><style>{STYLE}</style></head><body>"
        "<main><h1>Great Expectations Data Docs</h1><p>Validation results and expectation "
        f"suites of this run.</p><ul>{items or '<li>none</li>'}</ul></main></body></html>\n",
        encoding="utf-8")
    return out


def docs_section(data_docs: Path | None, out: Path) -> str:
    title = "Great Expectations Data Docs"
    if data_docs is None or not Path(data_docs).exists():
        return _section("docs", title, '<p class="muted">No Data Docs were built for this run.</p>')
    target = offline_docs_index(Path(data_docs))
    if target is None:
        return _section("docs", title, '<p class="muted">No Data Docs were built for this run.</p>')
    rel = os.path.relpath(target, out.parent).replace(os.sep, "/")
    return _section("docs", title, f'<p>The quantitative checks in detail: <a href="{escape(rel)}">'
                    f"{escape(rel)}</a> (opens offline; keep it beside this report).</p>")


# --- the page -----------------------------------------------------------------------------


@dataclass
class Page:
    """What a section sees: the inputs, this page's findings and where the page is written."""

    inp: ReportInputs
    findings: pl.DataFrame
    out: Path


def _waiting(trend: pl.DataFrame | None) -> str:
    from pipelines.cqc.trend import report_section  # the CQC pack's own section

    return report_section(trend)


@dataclass(frozen=True)
class Section:
    anchor: str
    nav: str
    render: Callable[[Page], str]


# The report, in order. A new section is one entry here (its function takes the Page).
SECTIONS: list[Section] = [
    Section("verdict", "Ready?", lambda p: verdict_section(p.findings, p.inp)),
    Section("modules", "Modules", lambda p: modules_section(p.findings)),
    Section("national", "National DQ", lambda p: national_section(p.inp)),
    Section("rules", "Rules", lambda p: rules_section(p.findings)),
    Section("teamrules", "Teams × rules", lambda p: team_rule_section(p.findings)),
    Section("completeness", "Completeness", lambda p: completeness_section(p.inp)),
    Section("volumes", "Volumes", lambda p: volumes_section(p.inp)),
    Section("unmapped", "Unmapped codes", lambda p: unmapped_section(p.inp)),
    Section("quarantined", "Quarantined files", lambda p: quarantined_section(p.inp)),
    Section("changes", "Changes", lambda p: changes_section(p.inp.comparison)),
    Section("trend", "Teams", lambda p: trend_section(p.inp.trend, p.findings)),
    Section("measures", "SALT/ASCOF", lambda p: measures_section(p.inp.measures)),
    Section("waiting", "Waiting lists", lambda p: _waiting(p.inp.waiting)),
    Section("docs", "Data Docs", lambda p: docs_section(p.inp.data_docs, p.out)),
]


def header_facts(inp: ReportInputs, run_id: str) -> list[tuple[str, str]]:
    """Council, period, release, the data's cut-off date, run kind and run, for the header."""
    start, end = inp.period or (inp.file_measures.period if inp.file_measures is not None
                                else (None, None))
    cutoff = inp.cutoff or end
    facts = [("Council", inp.council or "")]
    facts.append(("Period", inp.period_label or ("" if start is None else
                                                 f"{start} to {end}")))
    if inp.period_label and start is not None:
        facts.append(("Rolling 12 months", f"{start} to {end}"))
    if inp.spec is not None:
        facts.append(("Release", inp.spec.release))
    facts.append(("Data up to", "" if cutoff is None else str(cutoff)))
    facts.append(("Run", " ".join(x for x in (KIND_TEXT.get(inp.kind, inp.kind),
                                              f"run {run_id}" if run_id else "") if x)))
    return [(k, v) for k, v in facts if v]


def render_report(inp: ReportInputs, out: Path, sections: list[Section] | None = None) -> str:
    """The whole page as text."""
    findings = action_order(conform_findings(inp.findings))  # one order, whatever came in
    run_id = inp.run_id or next(iter(findings.get_column("run_id").drop_nulls().unique()
                                     .to_list()), "")
    facts = header_facts(inp, str(run_id))
    chosen = SECTIONS if sections is None else sections
    page = Page(inp, findings, out)
    nav = "".join(f'<a href="#{s.anchor}">{escape(s.nav)}</a>' for s in chosen)
    body = "".join(s.render(page) for s in chosen)
    where = " – ".join(x for x in (inp.council, inp.period_label or "", f"run {run_id}"
                                   if run_id else "") if x)
    return (page_head(f"CLD data-quality report – {where}", facts)
            + f"<main><nav>{nav}</nav>{body}"
            '<p class="muted">Counts only: this report holds no personal data.</p></main>'
            "</body></html>\n")


def save_report(inp: ReportInputs, out: Path) -> Path:
    """Write the report to ``out`` (written beside and renamed, so a reader never sees half)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    tmp.write_text(render_report(inp, out), encoding="utf-8")
    tmp.replace(out)
    return out


def report_name(period: str, kind: str, run_id: Any) -> str:
    """``dq_report_<period>_<kind>_run<id>.html``: which quarter and run kind, at a glance."""
    word = "quarterly" if kind in ("build", "quarterly") else (kind or "run")
    return f"dq_report_{period}_{word}_run{run_id}.html" if period else \
        f"dq_report_run{run_id}.html"
