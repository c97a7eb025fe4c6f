"""NHS-number matching feedback: read the file NHS England returns after a submission, route
each NHS number found to the team that owns the person, and follow it until the case record
holds it.

The file's layout is data (``data/sample/feedback_layout.yaml``, ``[feedback] layout``): the
real national layout was not published where we could see it, so columns, encoding, delimiter
and date format are all configurable. A file that cannot be read, lacks a required column or
has too many bad rows is copied to the quarantine folder with a reason file (counts and line
numbers only, never values) and nothing from it is used. Single bad rows in an otherwise good
file are skipped and counted.

A real feedback file names people who have since left scope (the file answers a submission
made months ago): rows whose person id is not among the people checked against (the latest
submission, or the case database's people in scope) are **set aside**: counted, with their
reason, copied to ``<quarantine>/<stamp>_<file>.set_aside.csv`` and recorded, and the rest are
taken in. They do not count towards ``max_invalid_share``: only rows that are wrong in
themselves (no person id, unknown match basis, an NHS number failing Modulus 11, a bad date)
do, and only those, or a file that cannot be read as the layout, quarantine it. A quarantined
attempt is recorded as a failed run.

Each item carries ``action_needed``: true while the team must act (the record holds no number
yet, or a different one), false once the council's record holds the number found.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines.history.store import History, file_sha256, first, sql
from pipelines.source.feedback import (
    LEFT_SCOPE,
    FeedbackError,
    FeedbackLayout,
    Malformed,
    read_feedback,
    reason_text,
    validate,
)
from pipelines.source.intake import Quarantine


class FeedbackAlreadyTaken(FeedbackError):
    """This very file (same SHA-256) was taken in before; nothing was recorded again."""


class FeedbackQuarantined(FeedbackError):
    """The file was malformed and has been quarantined (``path``, ``reason_file``)."""

    def __init__(self, message: str, path: Path, reason_file: Path):
        super().__init__(message)
        self.path = path
        self.reason_file = reason_file


@dataclass
class FeedbackResult:
    """What one feedback file brought in (counts only: safe to print)."""

    file_id: int
    run_id: int
    rows: int
    items: int
    no_match: int
    rejected: dict[str, int] = field(default_factory=dict)
    by_team: dict[str, int] = field(default_factory=dict)
    resolved_at_once: int = 0
    conflicts_at_once: int = 0
    set_aside: dict[str, int] = field(default_factory=dict)
    set_aside_file: Path | None = None

    @property
    def action_needed(self) -> int:
        """Items a team must act on: those whose number the council's record does not
        already hold (``items`` minus ``resolved_at_once``)."""
        return self.items - self.resolved_at_once


# -- people and teams ----------------------------------------------------------------------


def _persons_frame(persons: pl.DataFrame) -> pl.DataFrame:
    """(person_id, nhs_number) as text from case-management persons or a CLD frame."""
    if {"person_id", "nhs_number"} <= set(persons.columns):
        cols = ("person_id", "nhs_number")
    elif {"LA_Person_Unique_Identifier", "NHS_Number"} <= set(persons.columns):
        cols = ("LA_Person_Unique_Identifier", "NHS_Number")
    else:
        raise FeedbackError(
            "persons need person_id and nhs_number columns (case management) or "
            "LA_Person_Unique_Identifier and NHS_Number (a CLD frame)"
        )
    return persons.select(
        pl.col(cols[0]).cast(pl.String).str.strip_chars().alias("person_id"),
        pl.col(cols[1]).cast(pl.String).str.replace_all(r"[\s-]", "").alias("nhs_number"),
    ).unique()


def _teams_from_allocations(allocations: pl.DataFrame) -> pl.DataFrame:
    """The current team per person: open allocations first, then the latest started."""
    keys = []
    if "end_date" in allocations.columns:
        keys.append(pl.col("end_date").is_null())
    if "start_date" in allocations.columns:
        keys.append(pl.col("start_date"))
    frame = allocations.sort(keys, descending=True, nulls_last=True) if keys else allocations
    name = pl.col("team_name") if "team_name" in frame.columns else pl.lit(None, pl.String)
    return frame.select(
        pl.col("person_id").cast(pl.String).alias("person_id"),
        pl.col("team_id").cast(pl.String).alias("team_id"),
        name.cast(pl.String).alias("team_name"),
    ).unique("person_id", keep="first")


# -- ingest --------------------------------------------------------------------------------


def ingest(
    h: History,
    path: Path,
    layout: FeedbackLayout,
    quarantine_dir: Path,
    *,
    persons: pl.DataFrame | None = None,
    allocations: pl.DataFrame | None = None,
    received_on: dt.date | None = None,
) -> FeedbackResult:
    """Take in one feedback file (see module doc). Raises :class:`FeedbackQuarantined` after
    recording a malformed file, :class:`FeedbackAlreadyTaken` for a file already taken in."""
    path = Path(path)
    if not path.is_file():
        raise FeedbackError(f"feedback file {path} not found")
    received_on = received_on or dt.date.today()
    digest = file_sha256(path)
    seen = first(h.con, sql("feedback/file_by_sha.sql"), {"sha": digest})
    if seen:
        raise FeedbackAlreadyTaken(
            f"{path.name} was already taken in on {seen[1]} as feedback file {seen[0]}"
        )
    latest = h.latest_submission()
    if persons is None and latest is None:
        raise FeedbackError(
            "cannot check person ids: history holds no submission and no persons were given"
        )
    from_submission = (
        h.query("feedback/person_teams.sql", {"id": latest.id}) if latest is not None else None
    )
    people = _persons_frame(persons) if persons is not None else from_submission
    if allocations is not None:
        teams = _teams_from_allocations(allocations)
    elif from_submission is not None:
        teams = from_submission
    else:
        teams = pl.DataFrame(schema=dict.fromkeys(("person_id", "team_id", "team_name"), pl.String))
    try:
        checked = validate(read_feedback(path, layout), layout, people["person_id"])
    except Malformed as exc:
        return _reject(h, path, digest, received_on, quarantine_dir, str(exc), None, 0)
    bad = checked.filter(pl.col("problem").is_not_null())
    share = bad.height / checked.height
    if share > layout.max_invalid_share:
        summary = (
            f"{bad.height} of {checked.height} rows are invalid ({share:.0%}, more than the "
            f"layout's max_invalid_share {layout.max_invalid_share:.0%}; rows of people out "
            "of scope are not counted as invalid)"
        )
        return _reject(
            h, path, digest, received_on, quarantine_dir, summary, checked, checked.height
        )
    return _accept(h, path, digest, received_on, checked, teams, people, quarantine_dir)


def _set_aside(path: Path, quarantine_dir: Path, rows: pl.DataFrame) -> Path:
    """The rows kept aside, as read (line, the layout's meanings, reason), beside the
    quarantined files: personal data, in the folder that already holds such copies."""
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = quarantine_dir / f"{stamp}_{path.stem}.set_aside.csv"
    from pipelines.excel_safe import excel_safe_frame

    excel_safe_frame(
        rows.select(
            "line",
            "la_person_id",
            "nhs_number_found",
            "match_basis",
            pl.col("traced_on").cast(pl.String),
            pl.col("set_aside").alias("reason"),
        )
    ).write_csv(dest)
    return dest


def _reject(
    h: History, path: Path, digest: str, received_on: dt.date, quarantine_dir: Path,
    summary: str, checked: pl.DataFrame | None, rows: int,
) -> FeedbackResult:  # fmt: skip
    # a copy: the user named this file, and it may lie anywhere (even among the feeds)
    dest, reason_file = Quarantine(quarantine_dir).put(
        path, reason_text(path, summary, checked), keep_original=True
    )
    with h.run("feedback", source=str(path)) as run:
        h.con.execute(
            sql("feedback/insert_file.sql"),
            {"id": h._next_id("feedback_files"), "run_id": run.id, "path": str(path),
             "sha": digest, "received_on": received_on, "rows": rows, "accepted": 0,
             "rejected": rows, "status": "quarantined", "reason": summary},
        )  # fmt: skip
        # recorded (so the same file is known), but the run did not take the file in
        run.status, run.error = "failed", "FeedbackQuarantined"
        run.counts.update({"feedback_rows": rows, "feedback_quarantined": 1})
    raise FeedbackQuarantined(
        f"{path.name} quarantined: {summary}. A copy and the reason are in {reason_file.parent} "
        "(the file itself is left where it is)", dest, reason_file
    )


def _accept(
    h: History, path: Path, digest: str, received_on: dt.date, checked: pl.DataFrame,
    teams: pl.DataFrame, people: pl.DataFrame, quarantine_dir: Path,
) -> FeedbackResult:  # fmt: skip
    aside = checked.filter(pl.col("problem").is_null() & pl.col("set_aside").is_not_null())
    good = checked.filter(pl.col("problem").is_null() & pl.col("set_aside").is_null())
    found = good.filter(pl.col("is_match"))
    rejected = dict(
        checked.filter(pl.col("problem").is_not_null()).group_by("problem").len().iter_rows()
    )
    set_aside = dict(aside.group_by("set_aside").len().iter_rows())
    aside_file = _set_aside(path, quarantine_dir, aside) if aside.height else None
    reason = (
        f"{aside.height} row(s) set aside: {LEFT_SCOPE} ({aside_file.name})"
        if aside_file is not None
        else None
    )
    with h.run("feedback", source=str(path)) as run:
        file_id = h._next_id("feedback_files")
        h.con.execute(
            sql("feedback/insert_file.sql"),
            {"id": file_id, "run_id": run.id, "path": str(path), "sha": digest,
             "received_on": received_on, "rows": checked.height, "accepted": good.height,
             "rejected": checked.height - good.height, "status": "accepted", "reason": reason},
        )  # fmt: skip
        first_id = h._next_id("feedback_items")
        items = found.join(
            teams.select("person_id", "team_id", "team_name"),
            left_on="la_person_id", right_on="person_id", how="left",
        ).select(
            (pl.int_range(pl.len()) + first_id).cast(pl.Int32).alias("id"),
            pl.lit(file_id, pl.Int32).alias("feedback_file_id"),
            pl.lit(run.id, pl.Int32).alias("run_id"),
            "line",
            pl.col("la_person_id").alias("person_id"),
            "nhs_number_found",
            "match_basis",
            "traced_on",
            pl.lit(received_on).alias("received_on"),
            "team_id",
            "team_name",
            pl.lit("open").alias("status"),
        )  # fmt: skip
        h.con.register("_new_items", items)
        try:
            h.con.execute(sql("feedback/insert_items.sql"))
        finally:
            h.con.unregister("_new_items")
        run.counts.update(
            {"feedback_rows": checked.height, "feedback_items": items.height,
             "feedback_set_aside": aside.height,
             "feedback_invalid": int(sum(rejected.values()))}
        )  # fmt: skip
        # What the council already holds decides at once: same number, or a different one.
        at_once = resolve(h, people, run.id, today=received_on)
        # only what a team must act on: not the numbers the council's record already holds
        by_team = dict(
            h.con.execute(sql("feedback/action_by_team.sql"), {"file_id": file_id}).fetchall()
        )
    return FeedbackResult(
        file_id=file_id, run_id=run.id, rows=checked.height, items=items.height,
        no_match=good.height - found.height, rejected=rejected, by_team=by_team,
        resolved_at_once=at_once["resolved"], conflicts_at_once=at_once["conflict"],
        set_aside=set_aside, set_aside_file=aside_file,
    )  # fmt: skip


def resolve(
    h: History, persons: pl.DataFrame, run_id: int, today: dt.date | None = None
) -> dict[str, int]:
    """Open/conflict items become resolved where the person's record holds the number found,
    conflict where it holds another one; items for people without a number stay open."""
    frame = (
        persons if set(persons.columns) == {"person_id", "nhs_number"} else _persons_frame(persons)
    )
    h.con.register("_persons", frame)
    try:
        h.con.execute(
            sql("feedback/resolve.sql"), {"run_id": run_id, "today": today or dt.date.today()}
        )
        rows = h.con.execute(sql("feedback/resolve_counts.sql"), {"run_id": run_id}).fetchall()
        counts = dict(rows)
    finally:
        h.con.unregister("_persons")
    return {"resolved": counts.get("resolved", 0), "conflict": counts.get("conflict", 0)}
