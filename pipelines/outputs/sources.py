"""Where the outputs' inputs come from: a findings file written by ``cld check``, or a run in
the history (its findings, its submission, the previous run, open NHS-number feedback, the
trend, the comparison with the previous submission).

Kept apart from the writers so the workbook and report code only ever see plain frames, and
the CLI and the Prefect flows read the history the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

# Run kinds that check a file and so carry findings (feedback runs only load feedback).
CHECK_KINDS = ("build", "nightly", "check", "quarterly")
FINDINGS_OF_RUN = "SELECT * FROM findings WHERE run_id = $run ORDER BY rule_id, \"row\""


class SourceError(ValueError):
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


def load_thresholds(cfg) -> dict:
    """The council's thresholds file (completeness per field, volumes). A setting that names
    no file is an error, as in ``cld check``: silently checking without thresholds would
    hide the completeness findings."""
    from pipelines.config import ConfigError, read_yaml

    path = cfg.path(cfg.checks.thresholds)
    if not path.is_file():
        raise SourceError(f"{cfg.file}: key [checks] thresholds: no such file {path}")
    try:
        loaded = read_yaml(path, "the thresholds file") or {}
    except ConfigError as exc:
        raise SourceError(str(exc)) from None
    if not isinstance(loaded, dict):
        raise SourceError(f"{path}: the thresholds must be a YAML mapping")
    return loaded


def check_runs(h) -> pl.DataFrame:
    """Finished runs that checked a file, oldest first."""
    runs = h.runs()
    return runs.filter((pl.col("status") == "ok") & pl.col("kind").is_in(CHECK_KINDS)).sort("id")


def latest_run(h) -> int:
    runs = check_runs(h)
    if runs.is_empty():
        raise SourceError("the history holds no checked run yet: run `cld build`/the nightly "
                          "flow first, or give --findings FILE")
    return int(runs.get_column("id").max())


def previous_run(h, run_id: int) -> int | None:
    """The last checked run before ``run_id`` (for 'this run against the previous run')."""
    earlier = check_runs(h).filter(pl.col("id") < run_id)
    return None if earlier.is_empty() else int(earlier.get_column("id").max())


def run_findings(h, run_id: int) -> pl.DataFrame:
    known = h.runs().filter(pl.col("id") == run_id)
    if known.is_empty():
        raise SourceError(f"no run {run_id} in the history (see `cld history runs`)")
    from pipelines.history.store import fetch_frame

    return fetch_frame(h.con, FINDINGS_OF_RUN, {"run": run_id})


@dataclass
class RunInputs:
    """Everything the history knows about one run, for the workbooks and the report."""

    run_id: int
    findings: pl.DataFrame
    previous: pl.DataFrame | None
    feedback: pl.DataFrame | None
    trend: pl.DataFrame | None
    frame: pl.DataFrame | None = None
    spec: Any = None
    comparison: Any = None
    data_docs: Path | None = None
    label: str = ""
    feedback_numbers: pl.DataFrame | None = None  # id → NHS number found, for team lists only
    kind: str = ""  # the history's run kind: build (a quarterly submission), nightly, check
    period: str = ""  # the quarter the run covered, e.g. 2025-26Q4
    cutoff: Any = None  # the data's cut-off date: the period's end, or a nightly run's day


def team_list_inputs(cfg, got: RunInputs) -> dict[str, Any]:
    """What the team lists take from a run besides its findings: the period and council for
    titles and e-mails, the traced NHS numbers (owning team's list only) and the build's
    unmapped local codes (analyst's list), kept beside the run's report."""
    from pipelines.outputs.facts import run_facts

    kept = run_facts(cfg.path(cfg.paths.output_dir) / "reports", got.run_id) if got.run_id else {}
    return {"period": got.period, "council": cfg.council.name,
            "feedback_numbers": got.feedback_numbers,
            "unmapped": (kept.get("build") or {}).get("unmapped")}


def from_history(cfg, run_id: int | None = None, *, with_submission: bool = False) -> RunInputs:
    """Read one run (default: the latest checked run) and what goes with it."""
    from pipelines.history import History, HistoryError

    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        raise SourceError(f"no history at {path} ([paths] history_db): run `cld build` first, "
                          "or give --findings FILE")
    with History.open(path) as h:
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
        )
        _add_run_facts(h, out)
        if with_submission:
            _add_submission(h, cfg, out, HistoryError)
    return out


def _add_run_facts(h, out: RunInputs) -> None:
    """The run's kind, period and the data's cut-off date, from the runs table."""
    import datetime as dt

    from pipelines.period import Period, PeriodError

    row = h.runs().filter(pl.col("id") == out.run_id)
    if row.is_empty():
        return
    r = row.row(0, named=True)
    out.kind, out.period = r.get("kind") or "", r.get("period") or ""
    started = r.get("started_at")
    if out.kind in ("build", "quarterly") and out.period:
        try:
            out.cutoff = Period.parse(out.period).end
        except PeriodError:
            out.cutoff = None
    elif isinstance(started, dt.datetime):
        out.cutoff = started.date()


def _add_submission(h, cfg, out: RunInputs, history_error: type[Exception]) -> None:
    """The run's own submission (as a CLD frame) and its comparison with the one before."""
    from cld_schema import load_spec
    from pipelines.history.compare import Thresholds, compare

    subs = h.submissions().filter(pl.col("run_id") == out.run_id)
    if subs.is_empty():
        return
    sub_id = int(subs.get_column("id").max())
    info = h.submission(sub_id)
    out.frame = h.submission_frame(sub_id)
    out.spec = load_spec(info.release or "R2")
    prev = h.previous_submission(before=sub_id)
    if prev is not None:
        try:
            out.comparison = compare(h, prev.id, sub_id,
                                     Thresholds.load(cfg.path(cfg.checks.thresholds)))
        except history_error:
            out.comparison = None


def from_build(cfg, period: str, *, quantitative: bool = False,
               data_docs_dir: Path | None = None) -> RunInputs:
    """Build ``period`` from the case system and check it now, without touching the history
    or the output folder's submission file: the frame keeps each event's owning team, which
    a submission file read back does not have, so the team lists can be scoped. The history's
    open feedback and trend are added when a history exists."""
    import tempfile

    from checks import run_checks
    from cld_schema import load_spec
    from pipelines.build import build

    with tempfile.TemporaryDirectory(prefix="cld-outputs-") as tmp:
        built = build(cfg, period, out=Path(tmp) / "submission.csv")
    spec = load_spec(built.summary["release"])
    run_label = f"{period}-now"
    checked = run_checks(built.frame, spec, run_id=run_label, quantitative=quantitative,
                         thresholds=load_thresholds(cfg), data_docs_dir=data_docs_dir)
    out = RunInputs(run_id=0, findings=checked.findings, previous=None, feedback=None,
                    trend=None, frame=built.frame, spec=spec,
                    data_docs=Path(checked.data_docs) if checked.data_docs else None,
                    label=run_label)
    path = cfg.path(cfg.paths.history_db)
    if path.exists():
        from pipelines.history import History

        with History.open(path) as h:
            out.feedback, out.trend = h.feedback_items(), h.trend()
            out.feedback_numbers = h.feedback_numbers()
    return out
