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

import csv
import datetime as dt
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from cld_schema import nhs_number_valid
from pipelines.history.store import History, HistoryError, file_sha256, first, sql

MEANINGS = ("la_person_id", "nhs_number_found", "match_basis", "traced_on")
LEFT_SCOPE = "person not among the people checked against (left scope since the submission)"


class FeedbackError(HistoryError):
    """The feedback cannot be taken in (bad layout, already ingested, nothing to check against)."""


class FeedbackAlreadyTaken(FeedbackError):
    """This very file (same SHA-256) was taken in before; nothing was recorded again."""


class FeedbackQuarantined(FeedbackError):
    """The file was malformed and has been quarantined (``path``, ``reason_file``)."""

    def __init__(self, message: str, path: Path, reason_file: Path):
        super().__init__(message)
        self.path = path
        self.reason_file = reason_file


@dataclass(frozen=True)
class FeedbackLayout:
    """How the feedback file is laid out (see ``data/sample/feedback_layout.yaml``)."""

    columns: dict[str, str]
    format: str = "csv"
    encodings: tuple[str, ...] = ("utf-8-sig", "cp1252")
    delimiter: str = ","
    date_format: str = "%d/%m/%Y"
    required: tuple[str, ...] = ("la_person_id", "match_basis")
    match_basis_values: tuple[str, ...] = (
        "NAME_DOB_POSTCODE",
        "DOB_POSTCODE",
        "NAME_DOB",
        "NO_MATCH",
    )
    no_match_value: str = "NO_MATCH"
    max_invalid_share: float = 0.05

    @classmethod
    def load(cls, path: Path) -> FeedbackLayout:
        """Read and check a layout file; a mistake names the key to fix."""
        from pipelines.config import ConfigError, read_yaml

        if not Path(path).is_file():
            raise FeedbackError(f"[feedback] layout: no such file {path}")
        try:
            raw = read_yaml(Path(path), "the feedback layout")
        except ConfigError as exc:
            raise FeedbackError(f"feedback layout {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
            raise FeedbackError(f"feedback layout {path}: needs a 'columns' mapping")
        missing = [m for m in MEANINGS if m not in raw["columns"]]
        if missing:
            raise FeedbackError(f"feedback layout {path}: columns lacks {', '.join(missing)}")
        if raw.get("format", "csv") != "csv":
            raise FeedbackError(f"feedback layout {path}: only format: csv is supported")
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise FeedbackError(
                f"feedback layout {path}: unknown key(s) {', '.join(sorted(unknown))}"
            )
        args: dict[str, Any] = dict(raw)
        for key in ("encodings", "required", "match_basis_values"):
            if key in args:
                args[key] = tuple(args[key])
        bad_req = set(args.get("required", ())) - set(MEANINGS)
        if bad_req:
            raise FeedbackError(f"feedback layout {path}: required names unknown {sorted(bad_req)}")
        return cls(**args)


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


# -- reading -------------------------------------------------------------------------------


class _Malformed(Exception):
    """The file as a whole cannot be used (message says why, without any values)."""


def read_feedback(path: Path, layout: FeedbackLayout) -> pl.DataFrame:
    """The file's rows as text: ``line`` (1 = header) and the layout's meanings as columns."""
    from pipelines.textfile import NotText, check_text, sniff, structure_fault

    data = Path(path).read_bytes()
    try:
        sniff(data)
    except NotText as exc:
        raise _Malformed(f"the file is {exc}") from None
    text = None
    for enc in layout.encodings:
        try:
            text = data.decode(enc)
            break
        except (UnicodeDecodeError, LookupError):
            continue
    if text is None:
        raise _Malformed(f"cannot be decoded as any of {', '.join(layout.encodings)}")
    if not text.strip():
        raise _Malformed("the file is empty")
    try:
        check_text(text)
    except NotText as exc:
        raise _Malformed(str(exc)) from None
    if layout.delimiter == ",":
        width = len(next(csv.reader(io.StringIO(text.split("\n", 1)[0])), []))
        fault = structure_fault(text, width)
        if fault:
            raise _Malformed(f"not a well-formed CSV table: {fault}")
    try:
        frame = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), separator=layout.delimiter, infer_schema=False
        )
    except (pl.exceptions.PolarsError, ValueError):
        raise _Malformed(
            f"cannot be parsed as delimited text (delimiter {layout.delimiter!r})"
        ) from None
    by_header = {c.strip().lower(): c for c in frame.columns}
    found = {m: by_header.get(h.strip().lower()) for m, h in layout.columns.items()}
    missing = [layout.columns[m] for m in layout.required if found.get(m) is None]
    if missing:
        raise _Malformed(f"missing column(s): {', '.join(missing)}")
    if frame.height == 0:
        raise _Malformed("the file has a header but no rows")
    return frame.select(
        (pl.int_range(pl.len()) + 2).cast(pl.Int32).alias("line"),
        *[
            (pl.col(found[m]).str.strip_chars() if found[m] else pl.lit(None, pl.String)).alias(m)
            for m in MEANINGS
        ],
    )


def validate(frame: pl.DataFrame, layout: FeedbackLayout, known_ids: pl.Series) -> pl.DataFrame:
    """Add ``problem`` (null when the row is good), ``is_match``, cleaned number and date."""
    basis = pl.col("match_basis").str.to_uppercase()
    nhs = pl.col("nhs_number_found").str.replace_all(r"[\s-]", "")
    is_match = basis != layout.no_match_value.upper()
    traced = pl.col("traced_on").str.to_date(layout.date_format, strict=False)
    allowed = [v.upper() for v in layout.match_basis_values]
    problem = (
        pl.when(pl.col("la_person_id").is_null() | (pl.col("la_person_id") == ""))
        .then(pl.lit("person id missing"))
        .when(basis.is_null() | ~basis.is_in(allowed))
        .then(pl.lit("unknown match basis"))
        .when(is_match & ~nhs_number_valid(nhs))
        .then(pl.lit("invalid NHS number (Modulus 11)"))
        .when(pl.col("traced_on").is_not_null() & traced.is_null())
        .then(pl.lit("traced date not in the layout's format"))
    )
    out_of_scope = (
        pl.when(
            pl.col("la_person_id").is_not_null()
            & (pl.col("la_person_id") != "")
            & ~pl.col("la_person_id").is_in(known_ids.implode())
        )
        .then(pl.lit(LEFT_SCOPE))
        .otherwise(None)
    )
    return frame.with_columns(
        problem.alias("problem"),
        out_of_scope.alias("set_aside"),
        is_match.fill_null(False).alias("is_match"),
        nhs.alias("nhs_number_found"),
        basis.alias("match_basis"),
        traced.alias("traced_on"),
    )


def _reason_text(path: Path, summary: str, checked: pl.DataFrame | None) -> str:
    """The quarantine reason: counts and line numbers only, never values."""
    lines = [f"File: {path.name}", f"Quarantined: {dt.datetime.now():%Y-%m-%d %H:%M}", summary]
    if checked is not None:
        bad = checked.filter(pl.col("problem").is_not_null())
        for (problem,), group in bad.group_by("problem", maintain_order=True):
            nums = group["line"].head(20).to_list()
            more = " ..." if group.height > 20 else ""
            lines.append(f"- {problem}: {group.height} row(s), lines {nums}{more}")
    return "\n".join(lines) + "\n"


def _quarantine(src: Path, quarantine_dir: Path, reason: str) -> tuple[Path, Path]:
    quarantine_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    dest = quarantine_dir / f"{stamp}_{src.name}"
    shutil.copy2(src, dest)
    reason_file = dest.with_name(dest.name + ".reason.txt")
    reason_file.write_text(reason, encoding="utf-8")
    return dest, reason_file


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
    except _Malformed as exc:
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
    dest, reason_file = _quarantine(path, quarantine_dir, _reason_text(path, summary, checked))
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
        f"{path.name} quarantined: {summary}. Copy and reason in {reason_file}", dest, reason_file
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
