"""Team exception lists: one workbook per team, holding only that team's clients.

A team manager gets what their workers must fix in the case system, sorted for action
(errors first, oldest first), with enough locator hints to find each record: person id, event
reference, event type and date, and the workflow step id. Findings without an owning team are
never guessed onto a team; they go to an ``unallocated`` workbook for the analyst.

Input is the findings table of docs/contracts.md section 3 (optionally the previous run's
findings for the counts, the history's open NHS-number feedback, and its trend).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.outputs.workbook import new_workbook, write_summary, write_table

log = logging.getLogger(__name__)

FINDING_COLUMNS = [
    "run_id", "rule_id", "severity", "module", "category", "row", "person_id", "event_ref",
    "event_type", "event_start", "field", "value", "message", "how_to_fix", "team_id",
    "team_name", "worker_name", "step_id",
]
UNALLOCATED = "unallocated"


@dataclass
class TeamList:
    """What was written for one team (counts only: safe to log and to put in an e-mail)."""

    team_id: str
    team_name: str
    path: Path
    errors: int = 0
    warnings: int = 0
    people: int = 0
    feedback: int = 0
    previous_total: int | None = None
    trend: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.errors + self.warnings

    @property
    def all_clear(self) -> bool:
        return self.total == 0 and self.feedback == 0


@dataclass
class ExceptionLists:
    run_id: str
    out_dir: Path
    teams: list[TeamList]
    unallocated: Path | None = None
    unallocated_count: int = 0
    # False when there were findings but none carried an owning team (e.g. a submission file
    # read back by `cld check`): then no team gets a workbook, and certainly no all-clear.
    teams_known: bool = True


def conform_findings(findings: pl.DataFrame) -> pl.DataFrame:
    """Add any missing contract column as null and cast to the contract's types, so a findings
    file from an older run or a hand-made one still works."""
    if not findings.columns:  # selecting literals from a frame with no columns makes a row
        return pl.DataFrame(schema={c: pl.Int64 if c == "row" else pl.String
                                    for c in FINDING_COLUMNS})
    cols = []
    for name in FINDING_COLUMNS:
        dtype = pl.Int64 if name == "row" else pl.String
        if name in findings.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype=dtype).alias(name))
    out = findings.select(cols)
    # An empty team id is no team.
    return out.with_columns(
        pl.when(pl.col("team_id").str.strip_chars() == "").then(None)
        .otherwise(pl.col("team_id")).alias("team_id")
    )


def _action_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Errors first, then the oldest event first (blank dates last), then by person."""
    return frame.sort(
        [(pl.col("severity") != "error"), "event_start", "person_id", "event_ref", "rule_id"],
        nulls_last=True,
    )


def people_sheet(team: pl.DataFrame) -> pl.DataFrame:
    """One row per client: every open issue summarised, the allocated worker and where to look."""
    f = _action_order(team.filter(pl.col("person_id").is_not_null()))
    issue = pl.format(
        "[{}] {}: {} ({})",
        pl.col("severity").str.to_uppercase(),
        pl.col("field").fill_null("record"),
        pl.col("message").fill_null(""),
        pl.col("rule_id"),
    )
    locator = pl.format(
        "event {} · {} · {} · step {}",
        pl.col("event_ref").fill_null("-"),
        pl.col("event_type").fill_null("-"),
        pl.col("event_start").fill_null("-"),
        pl.col("step_id").fill_null("-"),
    )
    # The same problem on several events is listed once, with how many times (×3).
    issues = (
        f.group_by("person_id", issue.alias("_issue"), maintain_order=True)
        .agg(pl.len().alias("_n"))
        .group_by("person_id", maintain_order=True)
        .agg(pl.when(pl.col("_n") > 1)
             .then(pl.format("{} ×{}", pl.col("_issue"), pl.col("_n")))
             .otherwise(pl.col("_issue")).str.join("\n").alias("Open issues"))
    )
    people = f.group_by("person_id", maintain_order=True).agg(
        (pl.col("severity") == "error").sum().cast(pl.Int64).alias("Errors"),
        (pl.col("severity") == "warning").sum().cast(pl.Int64).alias("Warnings"),
        pl.col("worker_name").drop_nulls().unique(maintain_order=True).str.join("; ")
        .alias("Allocated worker"),
        pl.col("event_start").min().alias("Oldest event"),
        locator.unique(maintain_order=True).str.join("\n").alias("Where to find it"),
    ).join(issues, on="person_id", how="left", maintain_order="left")
    people = people.sort(
        [pl.col("Errors") == 0, "Oldest event", "person_id"], nulls_last=True
    ).rename({"person_id": "Person ID"})
    return people.select(
        "Person ID", "Allocated worker", "Errors", "Warnings", "Open issues",
        "Where to find it", "Oldest event",
    )


def issues_sheet(team: pl.DataFrame) -> pl.DataFrame:
    """One row per finding, with the fix to make in the case system."""
    return _action_order(team).select(
        pl.col("severity").alias("Severity"),
        pl.col("person_id").alias("Person ID"),
        pl.col("worker_name").alias("Worker"),
        pl.col("event_ref").alias("Event ref"),
        pl.col("event_type").alias("Event type"),
        pl.col("event_start").alias("Event date"),
        pl.col("step_id").alias("Step id"),
        pl.col("field").alias("Field"),
        pl.col("value").alias("Value"),
        pl.col("message").alias("Problem"),
        pl.col("how_to_fix").alias("How to fix"),
        pl.col("rule_id").alias("Rule"),
        pl.col("module").alias("Module"),
    )


def counts_sheet(current: pl.DataFrame, previous: pl.DataFrame | None) -> pl.DataFrame:
    """Per rule: how many this run, how many last run, and the change (negative is progress)."""
    def per_rule(f: pl.DataFrame) -> pl.DataFrame:
        return f.group_by("rule_id").agg(
            pl.col("severity").first(), pl.col("field").first(), pl.col("message").first(),
            pl.len().cast(pl.Int64).alias("n"),
        )

    now = per_rule(current).rename({"n": "This run"})
    if previous is None:
        out = now.with_columns(pl.lit(None, dtype=pl.Int64).alias("Previous run"))
    else:
        before = per_rule(previous).rename({"n": "Previous run"})
        out = now.join(before, on="rule_id", how="full", coalesce=True, suffix="_prev")
        out = out.with_columns(
            *(pl.coalesce(c, f"{c}_prev").alias(c) for c in ("severity", "field", "message")),
            pl.col("This run").fill_null(0),
            pl.col("Previous run").fill_null(0),
        ).drop([c for c in out.columns if c.endswith("_prev")])
    out = out.with_columns((pl.col("This run") - pl.col("Previous run")).alias("Change"))
    out = out.sort([pl.col("severity") != "error", pl.col("This run")], descending=[False, True])
    return out.select(
        pl.col("rule_id").alias("Rule"), pl.col("severity").alias("Severity"),
        pl.col("field").alias("Field"), pl.col("message").alias("Problem"),
        "This run", "Previous run", "Change",
    )


def feedback_sheet(feedback: pl.DataFrame) -> pl.DataFrame:
    """The team's outstanding NHS-number feedback, oldest first."""
    wanted = ["person_id", "nhs_number", "received_on", "age_days", "status"]
    f = feedback.select([c for c in wanted if c in feedback.columns])
    if "age_days" in f.columns:
        f = f.sort("age_days", descending=True, nulls_last=True)
    names = {"person_id": "Person ID", "nhs_number": "NHS number (masked)",
             "received_on": "Received", "age_days": "Age (days)", "status": "Status"}
    return f.rename({k: v for k, v in names.items() if k in f.columns}).with_columns(
        pl.col(pl.Date).cast(pl.String), pl.col(pl.Datetime).cast(pl.String)
    )


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40] or "team"


def _team_filter(frame: pl.DataFrame | None, team_id: str) -> pl.DataFrame | None:
    if frame is None or "team_id" not in frame.columns:
        return None
    return frame.filter(pl.col("team_id").cast(pl.String) == team_id)


def _trend_for(trend: pl.DataFrame | None, team_id: str) -> list[int]:
    """Open-issue counts for the team over past runs, oldest first, from the history's trend
    (any frame with team_id and an open/count column; ordered by its run or date column)."""
    t = _team_filter(trend, team_id)
    if t is None or t.is_empty():
        return []
    count_col = next((c for c in ("open_issues", "open", "findings", "count", "n", "total")
                      if c in t.columns), None)
    if count_col is None:
        return []
    # History.trend() has one row per run, team and rule: sum per run, oldest run first.
    run_col = next((c for c in ("run_id", "period", "date") if c in t.columns), None)
    if run_col is None:
        return [int(v) for v in t.get_column(count_col).to_list() if v is not None]
    order = "started_at" if "started_at" in t.columns else run_col
    per_run = t.group_by(run_col).agg(pl.col(order).min().alias("_o"), pl.col(count_col).sum())
    per_run = per_run.sort(["_o", run_col], nulls_last=True)
    return [int(v) for v in per_run.get_column(count_col).to_list()]


def _summary_lines(team: TeamList, run_id: str) -> list[tuple[str, object]]:
    lines: list[tuple[str, object]] = [
        ("Team", f"{team.team_name} ({team.team_id})"),
        ("Run", run_id),
        ("Errors (must fix before submission)", team.errors),
        ("Warnings (quality)", team.warnings),
        ("Clients with open issues", team.people),
        ("NHS-number feedback outstanding", team.feedback),
    ]
    if team.previous_total is not None:
        lines.append(("Issues in the previous run", team.previous_total))
    if team.trend:
        lines.append(("Open issues over recent runs", " → ".join(map(str, team.trend))))
    if team.all_clear:
        lines.append(("Status", "All clear: nothing outstanding for this team. Thank you."))
    else:
        lines.append(
            ("How to use",
             "People: one row per client, errors first and oldest first, with where to find "
             "the record (event reference, event type and date, workflow step id). "
             "Issues: one row per problem with how to fix it in the case system. "
             "NHS feedback: numbers the national matching could not confirm. "
             "Counts: this run against the previous run per rule.")
        )
    lines.append(("Handling", "Holds personal data of this team's clients only. Do not forward."))
    return lines


def write_team_workbook(
    path: Path,
    team: TeamList,
    run_id: str,
    current: pl.DataFrame,
    previous: pl.DataFrame | None,
    feedback: pl.DataFrame | None,
) -> None:
    """Write one team's workbook; an all-clear team gets the summary (and counts, if last run
    had issues) rather than empty sheets."""
    wb, fmt = new_workbook(path, f"CLD exception list: {team.team_name}")
    try:
        title = f"CLD exception list – {team.team_name}"
        write_summary(wb, fmt, title, _summary_lines(team, run_id))
        if not current.is_empty():
            write_table(wb, fmt, "People", people_sheet(current))
            write_table(wb, fmt, "Issues", issues_sheet(current), severity_column="Severity")
        if feedback is not None and not feedback.is_empty():
            write_table(wb, fmt, "NHS feedback", feedback_sheet(feedback))
        if not current.is_empty() or (previous is not None and not previous.is_empty()):
            write_table(wb, fmt, "Counts", counts_sheet(current, previous),
                        severity_column="Severity")
    finally:
        wb.close()


def _teams_in(*frames: pl.DataFrame | None) -> dict[str, str]:
    teams: dict[str, str] = {}
    for frame in frames:
        if frame is None or "team_id" not in frame.columns or frame.is_empty():
            continue
        name_col = "team_name" if "team_name" in frame.columns else None
        cols = ["team_id"] + ([name_col] if name_col else [])
        for row in frame.select(cols).unique(maintain_order=True).iter_rows():
            tid = row[0]
            if tid is None or str(tid).strip() == "":
                continue
            name = row[1] if name_col and row[1] else None
            if str(tid) not in teams or (name and teams[str(tid)] == str(tid)):
                teams[str(tid)] = name or str(tid)
    return teams


def _team_order(item: tuple[str, str]) -> tuple[int, int, str]:
    """Numeric team ids in number order (2 before 10), others after, by text."""
    tid = item[0]
    return (0, int(tid), "") if tid.isdigit() else (1, 0, tid)


def write_exception_lists(
    findings: pl.DataFrame,
    out_dir: Path,
    *,
    run_id: str | None = None,
    teams: Iterable[tuple[str, str]] = (),
    previous: pl.DataFrame | None = None,
    feedback: pl.DataFrame | None = None,
    trend: pl.DataFrame | None = None,
) -> ExceptionLists:
    """Write every team's workbook for one run into ``out_dir`` (one call, all teams).

    ``teams`` lists every team that should hear from us (the delivery directory) so that a
    team with nothing outstanding still gets its all-clear; teams met in the findings or the
    feedback are added. Findings without a team go to ``unallocated.xlsx`` for the analyst.
    """
    current = conform_findings(findings)
    prev = conform_findings(previous) if previous is not None else None
    if run_id is None:
        ids = current.get_column("run_id").drop_nulls().unique().to_list()
        run_id = ids[0] if len(ids) == 1 else "run"
    teams_known = current.is_empty() or current.get_column("team_id").is_not_null().any()
    known = dict(teams) if teams_known else {}
    for tid, name in _teams_in(current, prev, feedback).items():
        if tid not in known or known[tid] == tid:
            known[tid] = name
    if not teams_known:
        log.warning("no finding carries an owning team: no team lists written, every finding "
                    "goes to the analyst's unallocated list")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[TeamList] = []
    for team_id, team_name in sorted(known.items(), key=_team_order):
        team_now = _team_filter(current, team_id)
        team_prev = _team_filter(prev, team_id)
        team_fb = _team_filter(feedback, team_id)
        assert team_now is not None
        entry = TeamList(
            team_id=team_id,
            team_name=team_name,
            path=out_dir / f"{_slug(team_id)}_{_slug(team_name)}_{_slug(run_id)}.xlsx",
            errors=team_now.filter(pl.col("severity") == "error").height,
            warnings=team_now.filter(pl.col("severity") == "warning").height,
            people=team_now.get_column("person_id").drop_nulls().n_unique(),
            feedback=0 if team_fb is None else team_fb.height,
            previous_total=None if team_prev is None else team_prev.height,
            trend=_trend_for(trend, team_id),
        )
        write_team_workbook(entry.path, entry, run_id, team_now, team_prev, team_fb)
        log.info("exception list for team %s: %d errors, %d warnings%s", team_id,
                 entry.errors, entry.warnings, " (all clear)" if entry.all_clear else "")
        written.append(entry)
    result = ExceptionLists(run_id=run_id, out_dir=out_dir, teams=written,
                            teams_known=teams_known)
    loose = current.filter(pl.col("team_id").is_null())
    if not loose.is_empty():
        result.unallocated = out_dir / f"{UNALLOCATED}_{_slug(run_id)}.xlsx"
        result.unallocated_count = loose.height
        _write_unallocated(result.unallocated, run_id, loose)
        log.info("%d findings without a team written to the analyst's unallocated list",
                 loose.height)
    return result


def _write_unallocated(path: Path, run_id: str, loose: pl.DataFrame) -> None:
    """The analyst's list: findings no team owns (dataset-level checks, unallocated clients)."""
    wb, fmt = new_workbook(path, "CLD findings without a team")
    try:
        write_summary(wb, fmt, "CLD findings without an owning team", [
            ("Run", run_id),
            ("Findings", loose.height),
            ("Why here", "No team owned the client at the event, or the check is about the "
             "whole file. Allocate the client in the case system or fix at file level."),
        ])
        write_table(wb, fmt, "Issues", issues_sheet(loose), severity_column="Severity")
        with_person = loose.filter(pl.col("person_id").is_not_null())
        if not with_person.is_empty():
            write_table(wb, fmt, "People", people_sheet(with_person))
    finally:
        wb.close()
