"""One recorded run read back as the outputs need it (:class:`RunInputs`): its findings, the
previous checked run's findings, the NHS-number feedback, the trend, the run's kind, period
and cut-off, and (for the DQ report) its submission as a CLD frame, the comparison with the
previous submission and the SALT/ASCOF figures beside the previous submission's.

Also a findings file written by ``cld check`` read back (:func:`read_findings`), and
:class:`SourceError` when the inputs asked for cannot be found. Frames only: nothing here
writes a file. ``pipelines.runs.inputs_for`` chooses between a recorded run, a findings file
and a build checked now.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cld_schema.errors import CldError
from pipelines.history.store import HistoryError

if TYPE_CHECKING:
    from pipelines.history.compare import Thresholds
    from pipelines.history.store import History


class SourceError(CldError, ValueError):
    """The findings or the run asked for cannot be found (the message says what to do)."""


def read_findings(path: Path) -> pl.DataFrame:
    """A findings table from ``findings.parquet`` or ``findings.csv`` (as ``cld check``
    writes them). A CSV cell that was apostrophe-guarded for Excel is read back as written."""
    if not path.exists():
        raise SourceError(f"findings file {path} not found (cld check writes findings.parquet)")
    if path.suffix not in (".parquet", ".csv"):
        raise SourceError(f"{path}: findings must be .parquet or .csv")
    from pipelines.cldfile import csv_error_text

    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False)
        if "row" in frame.columns:
            frame = frame.with_columns(pl.col("row").cast(pl.Int64))
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SourceError(f"{path}: not a readable findings file ({csv_error_text(exc)})") from None
    missing = [c for c in ("rule_id", "severity") if c not in frame.columns]
    if missing:
        raise SourceError(
            f"{path}: not a findings file (no {', '.join(missing)} column); give the "
            "findings.parquet or findings.csv that `cld check` writes"
        )
    return frame


# Run kinds that check a file and so carry findings (feedback runs only load feedback).
CHECK_KINDS = ("build", "nightly", "check", "quarterly")


@dataclass
class RunInputs:
    """Everything the outputs are handed about one run: from the history
    (:func:`read_run`), from a build checked now (``runs.check_now``) or from a findings file
    (``runs.inputs_for``)."""

    run_id: int | None
    findings: pl.DataFrame
    previous: pl.DataFrame | None
    feedback: pl.DataFrame | None
    trend: pl.DataFrame | None
    frame: pl.DataFrame | None = None
    spec: Any = None
    comparison: Any = None  # pipelines.history.compare.Comparison
    data_docs: Path | None = None
    label: str = ""  # the run as file and folder names show it: run12, 2025-26Q3-now, ...
    list_id: str | None = None  # the run id the team lists show (None for a findings file)
    feedback_numbers: pl.DataFrame | None = None  # id → NHS number found, for team lists only
    kind: str = ""  # the history's run kind: build (a quarterly submission), nightly, check
    period: str = ""  # the quarter the run covered, e.g. 2025-26Q4
    cutoff: Any = None  # the data's cut-off date: the period's end, or a nightly run's day
    measures: pl.DataFrame | None = None  # the run's SALT/ASCOF figures beside the previous
    file_measures: Any = None  # checks' CheckResult.measures of a file checked now
    council: str = ""  # a recorded check of another council's file: its LA code and file


def check_runs(h: History) -> pl.DataFrame:
    """Finished runs that checked a file, oldest first."""
    runs = h.runs()
    return runs.filter((pl.col("status") == "ok") & pl.col("kind").is_in(CHECK_KINDS)).sort("id")


def latest_run(h: History) -> int:
    runs = check_runs(h)
    if runs.is_empty():
        raise HistoryError("the history holds no checked run yet: run `cld build`/the nightly "
                           "flow first, or give --findings FILE")
    return int(runs.get_column("id").max())


def previous_run(h: History, run_id: int) -> int | None:
    """The last checked run before ``run_id`` (for 'this run against the previous run'). A
    file checked on its own (kind ``check``: ``cld check --record``, the check-file flow) is
    never the previous run of a council's own build or nightly run: it may be any file."""
    runs = check_runs(h)
    earlier = runs.filter(pl.col("id") < run_id)
    kind = runs.filter(pl.col("id") == run_id).get_column("kind").to_list()
    if kind and kind[0] != "check":
        earlier = earlier.filter(pl.col("kind") != "check")
    return None if earlier.is_empty() else int(earlier.get_column("id").max())


def run_findings(h: History, run_id: int) -> pl.DataFrame:
    known = h.runs().filter(pl.col("id") == run_id)
    if known.is_empty():
        raise HistoryError(f"no run {run_id} in the history (see `cld history runs`)")
    return h.query("findings_of_run.sql", {"run": run_id})


def read_run(
    h: History,
    run_id: int | None = None,
    *,
    with_submission: bool = False,
    thresholds: Thresholds | None = None,
    comparison: Any = None,
) -> RunInputs:
    """One run (default: the latest checked run) and what goes with it. ``with_submission``
    adds the run's submission, the SALT/ASCOF figures and the comparison with the previous
    submission: ``comparison`` when the caller already holds it (a quarterly run compares
    once), else compared here with ``thresholds``."""
    run_id = run_id if run_id is not None else latest_run(h)
    findings = run_findings(h, run_id)
    prev_id = previous_run(h, run_id)
    out = RunInputs(
        run_id=run_id,
        findings=findings.with_columns(pl.col("run_id").cast(pl.String)),
        previous=None if prev_id is None else run_findings(h, prev_id),
        feedback=h.feedback_items(),
        trend=h.trend(),
        feedback_numbers=h.feedback_numbers(),
        label=f"run{run_id}",
        list_id=str(run_id),
    )
    _add_run_facts(h, out)
    if with_submission:
        _add_submission(h, out, thresholds, comparison)
        out.measures = measures_of_run(h, run_id)
    return out


def _add_run_facts(h: History, out: RunInputs) -> None:
    """The run's kind, period and the data's cut-off date, from the runs table."""
    from pipelines.period import Period, PeriodError

    row = h.runs().filter(pl.col("id") == out.run_id)
    if row.is_empty():
        return
    r = row.row(0, named=True)
    out.kind, out.period = r.get("kind") or "", r.get("period") or ""
    started = r.get("started_at")
    if out.kind == "check":  # any council's file (a regional hub): say whose
        code = r.get("la_code")
        source = str(r.get("source") or "").removeprefix("file ")
        out.council = ", ".join(x for x in (f"LA {code}" if code else "", source) if x)
    if out.kind in ("build", "quarterly", "check") and out.period:
        try:
            out.cutoff = Period.parse(out.period).end
        except PeriodError:
            out.cutoff = None
    elif isinstance(started, dt.datetime):
        out.cutoff = started.date()


def _add_submission(h: History, out: RunInputs, thresholds: Thresholds | None,
                    comparison: Any) -> None:
    """The run's own submission (as a CLD frame) and its comparison with the one before."""
    from cld_schema import LATEST_RELEASE, load_spec
    from pipelines.history.compare import compare

    subs = h.submissions().filter(pl.col("run_id") == out.run_id)
    if subs.is_empty():
        return
    sub_id = int(subs.get_column("id").max())
    info = h.submission(sub_id)
    out.frame = h.submission_frame(sub_id)
    out.spec = load_spec(info.release or LATEST_RELEASE)
    if comparison is not None:
        out.comparison = comparison
        return
    prev = h.previous_submission(before=sub_id)
    if prev is not None:
        try:
            out.comparison = compare(h, prev.id, sub_id, thresholds)
        except HistoryError:
            out.comparison = None


def measures_of_run(h: History, run_id: int | None) -> pl.DataFrame | None:
    """The run's SALT/ASCOF figures beside the previous submission's, or None when not
    recorded."""
    from pipelines.measures.history import changes

    if run_id is None:
        return None
    row = h.query("measures/submission_of_run.sql", {"run_id": run_id})
    if row.is_empty():
        return None
    sub_id = int(row.item(0, 0))
    prev = h.previous_submission(before=sub_id)
    frame = changes(h, sub_id, prev.id if prev else None)
    return frame.with_columns(pl.lit(prev.id if prev else None, pl.Int64).alias("prev_sub"))
