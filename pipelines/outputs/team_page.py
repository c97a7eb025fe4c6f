"""A team manager's page: one self-contained HTML file per team, beside its workbook, with
counts only (what to fix, how many, on which screen; the trend of the team's open issues)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from pipelines.outputs.fixes import conform_findings, fix_lines
from pipelines.outputs.page import _section, _sev, _table, page_head, trend_body


def team_fix_table(team_findings: pl.DataFrame) -> str:
    """Per problem: how many fixes (person × field) and events, with what to do on which
    screen; no person ids (the workbook has them)."""
    fx = fix_lines(team_findings)
    by = (fx.group_by("rule_id").agg(
        pl.col("severity").first(), pl.col("field_label").first(), pl.col("problem").first(),
        pl.col("advice").first(), pl.len().alias("fixes"), pl.col("events").sum())
        .sort([pl.col("severity") != "error", pl.col("fixes"), "rule_id"],
              descending=[False, True, False]))
    rows = [[_sev(r["severity"]), r["field_label"] or "", r["problem"] or "", r["advice"] or "",
             int(r["fixes"]), int(r["events"])] for r in by.iter_rows(named=True)]
    return _table(["Severity", "Field", "Problem", "What to do", "Fixes", "Events affected"],
                  rows, numeric={4, 5}, raw={0})

def render_team_page(team: Any, team_findings: pl.DataFrame, trend: pl.DataFrame | None, *,
                     run_id: str = "", period: str = "", council: str = "") -> str:
    """One self-contained page for a team manager: that team's findings only, as counts
    (what to fix, how many, on which screen; the trend of its open issues by run kind).
    Holds no client identifier: the workbook beside it has those."""
    findings = conform_findings(team_findings)
    facts = [("Council", council), ("Team", team.team_name), ("Period", period),
             ("Run", f"run {run_id}" if run_id else "")]
    facts = [(k, v) for k, v in facts if v]
    if team.all_clear:
        verdict = ('<div class="verdict ready">All clear: nothing outstanding for this team.'
                   " Thank you.</div>")
    else:
        verdict = (f'<div class="verdict notready">{team.errors:,} errors and '
                   f"{team.warnings:,} warnings to fix</div>")
    kpis = (f'<div class="kpis"><div class="kpi">Errors to fix<b>{team.errors:,}</b></div>'
            f'<div class="kpi">Warnings to fix<b>{team.warnings:,}</b></div>'
            f'<div class="kpi">Clients<b>{team.people:,}</b></div>'
            f'<div class="kpi">Events affected<b>{team.events:,}</b></div>'
            f'<div class="kpi">NHS numbers to record<b>{team.feedback:,}</b></div></div>')
    body = [_section("team", "This team", verdict + kpis)]
    if not findings.is_empty():
        body.append(_section("fixes", "What to fix", "<p>One fix is one person and field, "
                             "however many of the person's events it affects. The workbook "
                             "lists each one with the client and the events.</p>"
                             + team_fix_table(findings)))
    body.append(_section("trend", "Open issues over time", trend_body(trend, team.team_id,
                                                                         team.team_name)))
    where = " – ".join(x for x in (team.team_name, period) if x)
    return (page_head(f"CLD data quality for your team – {where}", facts)
            + "<main>" + "".join(body)
            + '<p class="muted">Counts only: this page holds no client details.</p></main>'
            "</body></html>\n")

def save_team_page(out: Path, team: Any, team_findings: pl.DataFrame,
                   trend: pl.DataFrame | None, **kw: Any) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    tmp.write_text(render_team_page(team, team_findings, trend, **kw), encoding="utf-8")
    tmp.replace(out)
    return out
