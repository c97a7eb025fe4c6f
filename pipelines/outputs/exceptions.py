"""Team exception lists: one workbook per team, holding only that team's clients.

A team manager gets what their workers must fix in the case system, one line per fix (a
person × field × problem, however many of the person's events show it, with the events it
affects), sorted for action (errors first, oldest first), with enough locator hints to find
each record: person id, event reference, event type and date, and the workflow step id. The
advice speaks of the case-system screen, never of mapping tables; findings without an owning
team are never guessed onto a team, they go to an ``unallocated`` workbook for the analyst
(with the unmapped local codes, when the build kept them).

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

from pipelines.outputs.fixes import (
    action_order,
    conform_findings,
    fix_lines,
    labels,
)
from pipelines.outputs.team_page import save_team_page
from pipelines.outputs.workbook import new_workbook, write_summary, write_table

log = logging.getLogger(__name__)

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
    events: int = 0  # findings (rows of the file) behind the fixes
    top: list[tuple[str, int]] = field(default_factory=list)  # top fixes: (what, how many)
    page: Path | None = None  # the team's own HTML page (counts only), beside the workbook

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
    period: str = ""  # the quarter the run covered (for file names and e-mails)
    council: str = ""
    # False when there were findings but none carried an owning team (e.g. a submission file
    # read back by `cld check`): then no team gets a workbook, and certainly no all-clear.
    teams_known: bool = True


def people_sheet(team: pl.DataFrame) -> pl.DataFrame:
    """One row per client: each fix listed once (with how many events it affects), the
    allocated worker and where to look."""
    fx = fix_lines(team.filter(pl.col("person_id").is_not_null()))
    issue = pl.format(
        "[{}] {}: {}{}", pl.col("severity").str.to_uppercase(),
        pl.col("field_label").fill_null("Record"), pl.col("problem"),
        pl.when(pl.col("events") > 1).then(pl.format(" ({} events)", pl.col("events")))
        .otherwise(pl.lit("")))
    people = fx.group_by("person_id", maintain_order=True).agg(
        (pl.col("severity") == "error").sum().cast(pl.Int64).alias("Errors to fix"),
        (pl.col("severity") == "warning").sum().cast(pl.Int64).alias("Warnings to fix"),
        pl.col("worker_name").drop_nulls().unique(maintain_order=True).str.join("; ")
        .alias("Allocated worker"),
        pl.col("oldest").min().alias("Oldest event"),
        issue.str.join("\n").alias("To fix"),
        pl.col("which").str.split("\n").list.explode().unique(maintain_order=True)
        .str.join("\n")
        .alias("Events affected"),
    )
    people = people.sort(
        [pl.col("Errors to fix") == 0, "Oldest event", "person_id"], nulls_last=True
    ).rename({"person_id": "Person ID"})
    return people.select(
        "Person ID", "Allocated worker", "Errors to fix", "Warnings to fix", "To fix",
        "Events affected", "Oldest event",
    )


def issues_sheet(team: pl.DataFrame) -> pl.DataFrame:
    """One row per fix (person × field × problem) with the events it affects and what to do
    on which screen of the case system."""
    fx = fix_lines(team)
    return fx.select(
        pl.col("severity").alias("Severity"),
        pl.col("person_id").alias("Person ID"),
        pl.col("worker_name").alias("Worker"),
        pl.col("field_label").alias("Field"),
        pl.col("problem").alias("Problem"),
        pl.col("advice").alias("What to do"),
        pl.col("events").alias("Events affected"),
        pl.col("which").alias("Which events (type, reference, date)"),
        pl.col("steps").alias("Workflow step ids"),
        pl.col("value").alias("Value"),
        pl.col("rule_id").alias("Rule"),
        pl.col("module").alias("Module"),
    )


def fix_count(frame: pl.DataFrame, severity: str | None = None) -> int:
    """How many fixes (person × field × rule; file-level findings one each)."""
    f = frame if severity is None else frame.filter(pl.col("severity") == severity)
    if f.is_empty():
        return 0
    with_person = f.filter(pl.col("person_id").is_not_null())
    return (with_person.select("person_id", "field", "rule_id").unique().height
            + f.filter(pl.col("person_id").is_null()).height)


def top_fixes(frame: pl.DataFrame, n: int = 3) -> list[tuple[str, int]]:
    """The ``n`` most common fixes in words ("Ethnicity is blank but mandatory"), errors
    first, with how many."""
    if frame.is_empty():
        return []
    fx = fix_lines(frame)
    by = (fx.with_columns(pl.when(pl.col("field_label").is_not_null() & ~pl.col("problem")
                                  .str.starts_with(pl.col("field_label").fill_null("")))
                          .then(pl.format("{}: {}", pl.col("field_label"), pl.col("problem")))
                          .otherwise(pl.col("problem")).alias("_what"))
          .group_by("_what").agg(pl.len().alias("n"), (pl.col("severity") == "error").any()
                                 .alias("err"))
          .sort(["err", "n", "_what"], descending=[True, True, False]).head(n))
    return [(w, int(c)) for w, c, _ in by.iter_rows()]


def counts_sheet(current: pl.DataFrame, previous: pl.DataFrame | None) -> pl.DataFrame:
    """Per rule: fixes this run, fixes last run, and the change (negative is progress)."""
    def per_rule(f: pl.DataFrame) -> pl.DataFrame:
        fx = fix_lines(f)
        return fx.group_by("rule_id").agg(
            pl.col("severity").first(), pl.col("field_label").first().alias("field"),
            pl.col("problem").first().alias("message"), pl.len().cast(pl.Int64).alias("n"),
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
    out = out.sort([pl.col("severity") != "error", pl.col("This run"), "rule_id"],
                   descending=[False, True, False], nulls_last=True)
    return out.select(
        pl.col("rule_id").alias("Rule"), pl.col("severity").alias("Severity"),
        pl.col("field").alias("Field"), pl.col("message").alias("Problem"),
        "This run", "Previous run", "Change",
    )


def feedback_sheet(feedback: pl.DataFrame) -> pl.DataFrame:
    """The team's NHS-number feedback to act on, oldest first. ``nhs_number_found`` (the
    traced number in full, so the worker can type it into the case system) is shown when
    given: only ever in this team's own list."""
    if "action_needed" in feedback.columns:
        feedback = feedback.filter(pl.col("action_needed"))
    full = "nhs_number_found" in feedback.columns
    number = "nhs_number_found" if full else "nhs_number"
    wanted = ["person_id", number, "received_on", "age_days", "status"]
    f = feedback.select([c for c in wanted if c in feedback.columns])
    if "age_days" in f.columns:
        f = f.sort(["age_days", *(c for c in f.columns if c != "age_days")],
                   descending=[True, *(False for c in f.columns if c != "age_days")],
                   nulls_last=True)
    if "status" in f.columns:
        f = f.with_columns(pl.col("status").replace(
            {"open": "to record", "conflict": "record holds a different number"}))
    names = {"person_id": "Person ID", "nhs_number_found": "NHS Number found (record it)",
             "nhs_number": "NHS Number (masked)", "received_on": "Received",
             "age_days": "Age (days)", "status": "Status"}
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
    count_col = next((c for c in ("fixes", "open_issues", "open", "findings", "count", "n",
                                  "total") if c in t.columns), None)
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


def _summary_lines(team: TeamList, run_id: str, period: str = "",
                   council: str = "") -> list[tuple[str, object]]:
    lines: list[tuple[str, object]] = [("Team", f"{team.team_name} ({team.team_id})")]
    if council:
        lines.append(("Council", council))
    if period:
        lines.append(("Period", period))
    lines += [
        ("Run", run_id),
        ("Errors to fix (before the submission)", team.errors),
        ("Warnings to fix (quality)", team.warnings),
        ("Clients with something to fix", team.people),
        ("NHS numbers to record (feedback)", team.feedback),
    ]
    if team.previous_total is not None:
        lines.append(("Fixes in the previous run", team.previous_total))
    if team.trend:
        lines.append(("Open issues over recent runs", " → ".join(map(str, team.trend))))
    if team.top:
        lines.append(("Most frequent fixes", "\n".join(f"{w}: {n}" for w, n in team.top)))
    if team.all_clear:
        lines.append(("Status", "All clear: nothing outstanding for this team. Thank you."))
    else:
        lines.append(
            ("How to use",
             "People: one row per client with each fix listed once and the events it "
             "affects, errors first and oldest first. "
             "Fixes: one row per person and field, with what to do on which screen of the "
             "case system and where to find the events (type, reference, date, workflow "
             "step id). "
             "NHS feedback: NHS numbers found by the national matching, to record on the "
             "person's details screen. "
             "Counts: fixes this run against the previous run per rule.")
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
    period: str = "",
    council: str = "",
) -> None:
    """Write one team's workbook; an all-clear team gets the summary (and counts, if last run
    had issues) rather than empty sheets."""
    wb, fmt = new_workbook(path, f"CLD exception list: {team.team_name}")
    try:
        title = f"CLD exception list – {team.team_name}" + (f" – {period}" if period else "")
        write_summary(wb, fmt, title, _summary_lines(team, run_id, period, council))
        if not current.is_empty():
            write_table(wb, fmt, "People", people_sheet(current))
            write_table(wb, fmt, "Fixes", issues_sheet(current), severity_column="Severity")
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
    period: str = "",
    council: str = "",
    feedback_numbers: pl.DataFrame | None = None,
    unmapped: list[dict] | None = None,
    pages: bool = True,
) -> ExceptionLists:
    """Write every team's workbook for one run into ``out_dir`` (one call, all teams).

    ``teams`` lists every team that should hear from us (the delivery directory) so that a
    team with nothing outstanding still gets its all-clear; teams met in the findings or the
    feedback are added. Findings without a team go to ``unallocated.xlsx`` for the analyst,
    with the build's ``unmapped`` local codes. ``feedback_numbers`` (feedback item ``id`` →
    ``nhs_number_found``) puts the traced NHS number in full in the owning team's own list
    only. With ``pages``, each team also gets its own HTML page (counts only) beside.
    """
    current = action_order(conform_findings(findings))
    prev = action_order(conform_findings(previous)) if previous is not None else None
    if run_id is None:
        ids = current.get_column("run_id").drop_nulls().unique().to_list()
        run_id = ids[0] if len(ids) == 1 else "run"
    teams_known = current.is_empty() or current.get_column("team_id").is_not_null().any()
    known = dict(teams) if teams_known else {}
    for tid, name in _teams_in(current, prev, feedback).items():
        if tid not in known or known[tid] == tid:
            known[tid] = name
    if feedback is not None and "action_needed" in feedback.columns:
        feedback = feedback.filter(pl.col("action_needed"))  # only what a team must act on
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
        if team_fb is not None and feedback_numbers is not None and "id" in team_fb.columns:
            team_fb = team_fb.join(feedback_numbers.select("id", "nhs_number_found"), on="id",
                                   how="left")
        run_part = _slug(run_id)
        period_part = _slug(period) if period else ""
        if period_part and run_part.startswith(period_part):  # a dry run's label holds it
            period_part = ""
        stem = "_".join(x for x in (_slug(team_id), _slug(team_name), period_part, run_part)
                        if x)
        entry = TeamList(
            team_id=team_id,
            team_name=team_name,
            path=out_dir / f"{stem}.xlsx",
            errors=fix_count(team_now, "error"),
            warnings=fix_count(team_now, "warning"),
            people=team_now.get_column("person_id").drop_nulls().n_unique(),
            feedback=0 if team_fb is None else team_fb.height,
            previous_total=None if team_prev is None else fix_count(team_prev),
            trend=_trend_for(trend, team_id),
            events=team_now.height,
            top=top_fixes(team_now),
        )
        write_team_workbook(entry.path, entry, run_id, team_now, team_prev, team_fb,
                            period, council)
        if pages:
            entry.page = save_team_page(out_dir / f"{stem}.html", entry, team_now, trend,
                                        run_id=run_id, period=period, council=council)
        log.info("exception list for team %s: %d errors, %d warnings to fix%s", team_id,
                 entry.errors, entry.warnings, " (all clear)" if entry.all_clear else "")
        written.append(entry)
    result = ExceptionLists(run_id=run_id, out_dir=out_dir, teams=written,
                            teams_known=teams_known, period=period, council=council)
    loose = current.filter(pl.col("team_id").is_null())
    if not loose.is_empty() or unmapped:
        result.unallocated = out_dir / f"{UNALLOCATED}_{_slug(run_id)}.xlsx"
        result.unallocated_count = loose.height
        _write_unallocated(result.unallocated, run_id, loose, unmapped or [])
        log.info("%d findings without a team written to the analyst's unallocated list",
                 loose.height)
    return result


def _write_unallocated(path: Path, run_id: str, loose: pl.DataFrame,
                       unmapped: list[dict]) -> None:
    """The analyst's list: findings no team owns (dataset-level checks, unallocated clients)
    and the mapping problems (local codes with no row in their mapping table)."""
    wb, fmt = new_workbook(path, "CLD findings without a team")
    try:
        write_summary(wb, fmt, "CLD findings for the analyst", [
            ("Run", run_id),
            ("Findings without an owning team", loose.height),
            ("Unmapped local codes", len(unmapped)),
            ("Why here", "No team owned the client at the event, or the check is about the "
             "whole file. Allocate the client in the case system or fix at file level. "
             "Unmapped codes: add each to the mapping table named, then rebuild."),
        ])
        if unmapped:
            names = labels()
            write_table(wb, fmt, "Unmapped codes", pl.DataFrame(
                [{"Mapping table": u.get("mapping"),
                  "Field": names.get(str(u.get("field")), u.get("field")),
                  "Local code": u.get("code"), "Rows": int(u.get("rows") or 0)}
                 for u in unmapped],
                schema={"Mapping table": pl.String, "Field": pl.String,
                        "Local code": pl.String, "Rows": pl.Int64}))
        if loose.is_empty():
            return
        write_table(wb, fmt, "Fixes", issues_sheet(loose), severity_column="Severity")
        with_person = loose.filter(pl.col("person_id").is_not_null())
        if not with_person.is_empty():
            write_table(wb, fmt, "People", people_sheet(with_person))
    finally:
        wb.close()
