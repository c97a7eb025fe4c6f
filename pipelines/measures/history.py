"""The measures and the history database: earlier submissions for look-backs, the figures of
each recorded submission, their change since the previous one, and the trend."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.measures import MeasuresRun, compute, figures_frame, write
from pipelines.measures.base import Edition
from pipelines.period import Period

LOOKBACK_SUBMISSIONS = 4  # quarters before the file's 12 months: 2B/2C look back 365 days


def earlier_editions(
    h: Any,
    period: Period,
    before: int | None = None,
    n: int = LOOKBACK_SUBMISSIONS,
    known: dict[int, pl.DataFrame] | None = None,
) -> list[Edition]:
    """The newest recorded submission of each of the ``n`` periods before ``period``, oldest
    first, as editions (what DHSC joins into its main table for the look-backs). ``known``:
    submissions' rows already read by the caller (``History.submission_frame``), by id."""
    known = known or {}
    rows = h.query("measures/earlier.sql", {"period": str(period), "before": before, "n": n})
    out = []
    for sub_id, per, release in reversed(rows.rows()):
        try:
            p = Period.parse(per)
        except ValueError:
            continue
        out.append(
            Edition(
                known[sub_id] if sub_id in known else h.submission_frame(sub_id),
                p,
                f"history submission {sub_id} ({per})",
                release or "R2",
            )
        )
    return out


def people_frame(run: MeasuresRun) -> pl.DataFrame:
    """Everyone behind every figure: measure, group, person key, in numerator/denominator.
    A person counted in the 18-64 or 65+ figure is also behind the Total."""
    parts = []
    for mid, res in run.results.items():
        p = res.people.select(
            pl.lit(mid).alias("measure"),
            pl.col("group").alias("grp"),
            "person",
            "in_numerator",
            "in_denominator",
        )
        groups = {f.group for f in res.figures}
        if "Total" in groups:
            parts.append(
                p.filter(pl.col("grp") != "Total").with_columns(pl.lit("Total").alias("grp"))
            )
        parts.append(p.filter(pl.col("grp").is_in(list(groups))))
    if not parts:
        return pl.DataFrame(
            schema={
                "measure": pl.String,
                "grp": pl.String,
                "person": pl.String,
                "in_numerator": pl.Boolean,
                "in_denominator": pl.Boolean,
            }
        )
    return pl.concat(parts).unique()


def record(h: Any, run_id: int, submission_id: int, run: MeasuresRun) -> int:
    """Store one submission's figures and the (hashed) people behind them; inside the run's
    transaction, so they commit with it or not at all. Returns the figures stored."""
    figs = figures_frame(run.results).rename({"group": "grp"})
    h.con.register("_new_measures", figs)
    try:
        h.con.execute(
            h_sql("measures/insert_figures.sql"), {"run_id": run_id, "submission_id": submission_id}
        )
    finally:
        h.con.unregister("_new_measures")
    h.con.register("_new_people", people_frame(run))
    try:
        h.con.execute(h_sql("measures/insert_people.sql"), {"submission_id": submission_id})
    finally:
        h.con.unregister("_new_people")
    return figs.height


def h_sql(name: str) -> str:
    from pipelines.history.store import sql

    return sql(name)


def measure_submission(
    h: Any,
    frame: pl.DataFrame,
    period: Period,
    release: str,
    label: str,
    *,
    before: int | None = None,
    known: dict[int, pl.DataFrame] | None = None,
) -> MeasuresRun:
    """All measures of a frame, with earlier recorded submissions as look-back editions."""
    earlier = earlier_editions(h, period, before=before, known=known)
    editions = [*earlier, Edition(frame, period, label, release)]
    return compute(editions, period)


def measure_ahead(
    h: Any,
    frame: pl.DataFrame,
    period: Period,
    release: str,
    known: dict[int, pl.DataFrame] | None = None,
) -> Future[MeasuresRun]:
    """:func:`measure_submission` for a submission about to be recorded, computed in a
    thread (polars; no history needed once the earlier editions are read, here) while the
    caller goes on (the quarterly run: its checks). The look-backs are the submissions
    recorded so far, as :func:`record_step` takes them once this one is recorded."""
    earlier = earlier_editions(h, period, known=known)
    editions = [*earlier, Edition(frame, period, "this submission", release)]
    pool = ThreadPoolExecutor(1, thread_name_prefix="cld-measures")
    try:
        return pool.submit(compute, editions, period)
    finally:
        pool.shutdown(wait=False)


def changes(h: Any, submission_id: int, previous_id: int | None) -> pl.DataFrame:
    """Each figure of a submission beside the previous submission's (nulls when none)."""
    return h.query("measures/changes.sql", {"a": previous_id, "b": submission_id})


def trend(h: Any, measure: str | None = None, group: str | None = "Total") -> pl.DataFrame:
    return h.query("measures/trend.sql", {"measure": measure, "grp": group})


def record_step(
    h: Any,
    run: Any,
    submission_id: int,
    frame: pl.DataFrame,
    period: Period,
    release: str,
    out_dir: Path,
    known: dict[int, pl.DataFrame] | None = None,
    ahead: Future[MeasuresRun] | None = None,
) -> dict[str, Any]:
    """What ``cld run quarterly`` does for the measures, inside its history run: compute (with
    look-backs), keep the figures, and write measures.csv and the drill-downs to ``out_dir``.
    ``ahead``: the same figures already being computed (:func:`measure_ahead`).
    Returns counts and the folder only (the files hold people; results never do)."""
    if ahead is not None:
        mrun = ahead.result()
    else:
        mrun = measure_submission(
            h,
            frame,
            period,
            release,
            f"submission {submission_id}",
            before=submission_id,
            known=known,
        )
    n = record(h, run.id, submission_id, mrun)
    path, _ = write(mrun, out_dir)
    return {"measures": n, "measures file": str(path)}
