"""Quantitative expectations with Great Expectations (GX Core 1.24, ephemeral context).

These are dataset-level questions, so polars does the aggregation and GX validates small
pandas frames: completeness of each field among the rows it applies to (GX ``mostly``),
every month of the period holding requests, assessments and services (rules.md section 2),
volumes per event type and month within bounds, and the change in volumes against the
previous submission. Each failing expectation becomes a findings row (row = null).

This module counts (:func:`quantitative_plans`: the tables and the expectations on them, as
plain data); :mod:`checks.gx_suites` validates them with GX and builds the offline Data Docs,
in a process of its own when :func:`checks.gx_import.start_gx_process` started one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from checks import findings as F
from checks.gx_import import import_gx, start_gx_import  # noqa: F401  (their old home)
from checks.gx_suites import Expect, SuitePlan
from checks.prepare import period_bounds
from checks.rules.base import RuleContext

TEXTS = Path(__file__).parent / "rules" / "quantitative.yaml"

if TYPE_CHECKING:
    from checks.thresholds import CheckThresholds
    from cld_schema import Spec
    from pipelines.period import Period


@cache
def texts() -> dict[str, dict[str, str]]:
    """Rule texts of the quantitative expectations (data, listed by ``cld rules``)."""
    from cld_schema.spec import load_yaml

    return load_yaml(TEXTS.read_text(encoding="utf-8"))


def _meta(name: str, kind: str, field_name: str, **fill: Any) -> dict[str, Any]:
    t = texts()[name]
    return {
        "rule_id": t["id"].format(**fill),
        "severity": t["severity"],
        "module": t["module"].format(**fill),
        "message": t["message"].format(**fill),
        "how_to_fix": t["how_to_fix"].format(**fill),
        "field": field_name,
        "kind": kind,
    }


# --- dataset frames (polars) --------------------------------------------------------------


def _months(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def completeness_frame(
    frame: pl.DataFrame, spec: Spec, fields: list[str], statuses: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per field: 'filled'/'blank' where the field applies (status 1 or 2), null elsewhere,
    so GX's ``mostly`` is measured on applicable rows only. ``statuses`` (the
    ``<Field>__status`` columns, row-aligned) saves computing them again; without it only
    these fields' status is computed (cld_schema's per-field status expression)."""
    from cld_schema.status import status_expr

    def status(f: str) -> pl.Expr:
        name = f"{f}__status"
        if statuses is not None and name in statuses.columns:
            return pl.col(name)
        return status_expr(spec.field(f), spec)

    exprs = [
        pl.when(status(f) >= 1)
        .then(pl.when(pl.col(f).is_not_null()).then(pl.lit("filled")).otherwise(pl.lit("blank")))
        .alias(f)
        for f in fields
    ]
    base = frame.select(fields)
    if statuses is not None:
        base = base.hstack(statuses.select(c for c in statuses.columns if c.endswith("__status")))
    return base.lazy().select(exprs).collect()


def applies_filled(
    frame: pl.DataFrame, spec: Spec, fields: list[str], statuses: pl.DataFrame | None = None
) -> dict[str, tuple[int, int]]:
    """Per field: (rows it applies to, i.e. status 1 or 2; of those the filled ones), the
    counts :func:`completeness_frame` holds, summed in one lazy select without building that
    row-level frame. ``statuses`` as for :func:`completeness_frame`."""
    from cld_schema.status import status_expr

    have = {c for c in (statuses.columns if statuses is not None else ()) if c.endswith("__status")}
    lf = frame.lazy()
    if have:
        lf = pl.concat([lf, statuses.lazy().select(sorted(have))], how="horizontal")
    # a status the plan did not compute: its expression, broadcast to the rows (some are literals)
    lf = lf.with_columns(
        status_expr(spec.field(f), spec).alias(f"{f}__status")
        for f in fields
        if f"{f}__status" not in have
    )

    def status(f: str) -> pl.Expr:
        return pl.col(f"{f}__status")

    sums = lf.select(
        *[(status(f) >= 1).sum().alias(f"{f}|applies") for f in fields],
        *[((status(f) >= 1) & pl.col(f).is_not_null()).sum().alias(f"{f}|filled") for f in fields],
    ).collect().row(0, named=True)
    return {f: (int(sums[f"{f}|applies"] or 0), int(sums[f"{f}|filled"] or 0)) for f in fields}


def _completeness_counts(frame, spec: Spec, fields, statuses) -> pl.DataFrame:
    counts = applies_filled(frame, spec, fields, statuses)
    return pl.DataFrame(
        {
            "field": fields,
            "applicable": [counts[f][0] for f in fields],
            "blank": [counts[f][0] - counts[f][1] for f in fields],
        },
        schema={"field": pl.String, "applicable": pl.Int64, "blank": pl.Int64},
    )


def monthly_counts(frame: pl.DataFrame, spec: Spec, start: date, end: date) -> pl.DataFrame:
    """Events per month and event type (KEY columns), zeros included.

    Requests, assessments and reviews count in the month they ended; services in every month
    they were active (the DHSC derived-period test counts by end month; for services, which
    may be open, activity is the meaningful reading)."""
    ctx = RuleContext(spec)
    fmt = spec.date_format
    months = pl.DataFrame({"month": _months(start, end)}).with_columns(
        pl.col("month").dt.month_end().alias("month_end")
    )
    keys = ["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"]
    texts = {k: ctx.v("Event_Type", k) for k in keys}
    ev = frame.lazy().select(
        pl.col("Event_Type")
        .replace_strict({t: k for k, t in texts.items() if t}, default=None)
        .alias("type"),
        pl.col("Event_Start_Date").str.to_date(fmt, strict=False).alias("s"),
        pl.col("Event_End_Date").str.to_date(fmt, strict=False).alias("e"),
    )
    done = (
        ev.filter(
            pl.col("type").is_in(["REQUEST", "ASSESSMENT", "REVIEW"]) & pl.col("e").is_not_null()
        )
        .group_by(pl.col("e").dt.month_start().alias("month"), "type")
        .agg(pl.len().alias("n"))
    )
    services = (
        ev.filter((pl.col("type") == "SERVICE") & pl.col("s").is_not_null())
        .join(months.lazy(), how="cross")
        .filter(
            (pl.col("s") <= pl.col("month_end"))
            & (pl.col("e").is_null() | (pl.col("e") >= pl.col("month")))
        )
        .group_by("month", "type")
        .agg(pl.len().alias("n"))
    )
    counts = pl.concat([done, services]).collect()
    wide = months.select("month").join(
        counts.pivot(on="type", index="month", values="n")
        if counts.height
        else pl.DataFrame({"month": []}, schema={"month": pl.Date}),
        on="month",
        how="left",
    )
    for k in keys:
        if k not in wide.columns:
            wide = wide.with_columns(pl.lit(0).alias(k))
    return wide.select("month", *[pl.col(k).fill_null(0).cast(pl.Int64) for k in keys]).sort(
        "month"
    )


def type_counts(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("Event_Type").agg(pl.len().alias("rows"))


# --- GX -----------------------------------------------------------------------------------


def completeness_fields(thresholds: CheckThresholds, spec: Spec) -> list[str]:
    """The fields with a completeness threshold, in the thresholds file's order."""
    return thresholds.completeness_fields(spec)


def completeness_table(counts: pl.DataFrame) -> pl.DataFrame:
    """One row, one column per field: the share of applicable rows that are filled (null
    where the field applies to no row, which passes, as GX's ``mostly`` passes a column with
    no non-null value). Computed as GX computes ``mostly``: (considered - blank) / considered."""
    shares = {
        f: ((float(n) - float(b)) / float(n) if n else None)
        for f, n, b in counts.select("field", "applicable", "blank").iter_rows()
    }
    schema = dict.fromkeys(shares, pl.Float64)
    return pl.DataFrame({f: [v] for f, v in shares.items()}, schema=schema)


def quantitative_plans(
    frame: pl.DataFrame,
    spec: Spec,
    *,
    period: Period | None = None,
    thresholds: CheckThresholds,
    previous: pl.DataFrame | None = None,
    statuses: pl.DataFrame | None = None,
    completeness: pl.DataFrame | None = None,
    docs: bool = False,
) -> list[SuitePlan]:
    """The expectations to validate and the small tables they run on (polars does the
    counting; no GX here). ``completeness`` (field, applicable, blank: ``completeness_counts``
    of the engine) saves counting from the rows here; ``docs``: Data Docs will be built, so
    the completeness results keep their details."""
    thresholds.check_fields(spec)
    start, end = period_bounds(frame, spec, period)
    plans: list[SuitePlan] = []

    # completeness: one row of shares (filled among applicable rows) per field
    fields = completeness_fields(thresholds, spec)
    if fields:
        if completeness is None:
            completeness = _completeness_counts(frame, spec, fields, statuses)
        counts = {r["field"]: r for r in completeness.iter_rows(named=True)}
        # its findings read only each expectation's success: without Data Docs to show the
        # details, GX need not compute the unexpected values' lists (a third of its time)
        comp = SuitePlan("completeness", completeness_table(completeness).to_pandas(),
                         "COMPLETE" if docs else "BOOLEAN_ONLY")
        for f in fields:
            mostly = float(thresholds.completeness[f])
            comp.expectations.append(Expect(f, mostly, None, {
                "applicable": counts[f]["applicable"],
                "blank": counts[f]["blank"],
                **_meta(
                    "QNT_complete_field",
                    "completeness",
                    f,
                    field=f,
                    module=spec.field(f).module,
                    label=spec.field(f).label,
                    mostly=f"{mostly:.0%}",
                ),
            }))
        plans.append(comp)

    # months and volumes
    if start is not None and end is not None:
        counts = monthly_counts(frame, spec, start, end)
        mon = SuitePlan(
            "months", counts.with_columns(pl.col("month").cast(pl.String)).to_pandas()
        )
        cm = thresholds.complete_months
        for key in cm.event_types:
            mon.expectations.append(Expect(key, int(cm.min_events), None, {
                "event_key": key,
                **_meta("QNT_complete_months", "months", "Event_Type", event=key.lower()),
            }))
        for key, b in thresholds.volumes.items():
            if key not in counts.columns or (b.min is None and b.max is None):
                continue  # no bound at all (`REQUEST:` alone): nothing to check
            mon.expectations.append(Expect(key, b.min, b.max, {
                "event_key": key,
                **_meta(
                    "QNT_volume_month",
                    "months",
                    "Event_Type",
                    event=key.title(),
                    min=b.min,
                    max=b.max,
                ),
            }))
        plans.append(mon)

    # change against the previous submission
    if previous is not None:
        cur, prev = type_counts(frame), type_counts(previous)
        change = (
            # rows with no event type (carers known by association) are a group of their own:
            # null keys must meet, or an identical rebuild shows them vanished and new
            cur.join(
                prev, on="Event_Type", how="full", suffix="_prev", coalesce=True, nulls_equal=True
            )
            .with_columns(pl.col("rows").fill_null(0), pl.col("rows_prev").fill_null(0))
            .with_columns(
                # a type that appeared (or vanished) counts as a change of its whole volume
                (pl.col("rows") / pl.max_horizontal(pl.col("rows_prev"), 1)).alias("ratio")
            )
        )
        mx = float(thresholds.previous.max_change)
        plans.append(SuitePlan("previous", change.to_pandas(), expectations=[Expect(
            "ratio", 1 - mx, 1 + mx,
            _meta("QNT_change_previous", "previous", "Event_Type", max_change=f"{mx:.0%}"),
        )]))
    return plans


def quantitative_findings(
    frame: pl.DataFrame,
    spec: Spec,
    *,
    period: Period | None = None,
    thresholds: CheckThresholds,
    previous: pl.DataFrame | None = None,
    data_docs_dir: Path | None = None,
    statuses: pl.DataFrame | None = None,
    completeness: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, Path | None]:
    """Run the expectations; return (findings, Data Docs index or None): the plans of
    :func:`quantitative_plans` validated by GX, in the GX process when one was started
    (:func:`checks.gx_import.start_gx_process`), else here."""
    from checks.gx_import import validate_plans

    plans = quantitative_plans(
        frame, spec, period=period, thresholds=thresholds, previous=previous,
        statuses=statuses, completeness=completeness, docs=data_docs_dir is not None,
    )  # fmt: skip
    rows, docs = validate_plans(plans, str(data_docs_dir) if data_docs_dir is not None else None)
    return F.make(rows), (Path(docs) if docs is not None else None)


@dataclass
class FileMeasures:
    """What the checks measure of a file besides findings, handed on to the DQ report:
    completeness per field (rows it applies to, national field status 1 or 2, and of those
    the filled ones), events per month and event type, and the reporting period used."""

    completeness: pl.DataFrame  # field, module, applies, filled, pct
    monthly: pl.DataFrame | None  # month, REQUEST, ASSESSMENT, SERVICE, REVIEW (None: no period)
    period: tuple[date | None, date | None]


def file_measures(frame: pl.DataFrame, spec: Spec, period: Period | None = None,
                  statuses: pl.DataFrame | None = None) -> FileMeasures:
    """The :class:`FileMeasures` of a CLD frame. ``statuses``: the ``<Field>__status``
    columns the engine's plan already computed (row-aligned), so they are not computed again;
    ``period`` (a Period) defaults to the file's own reporting period."""
    fields = list(spec.field_names)
    counts = applies_filled(frame, spec, fields, statuses)
    rows = []
    for f in fields:
        applies, filled = counts[f]
        rows.append({"field": f, "module": spec.field(f).module, "applies": applies,
                     "filled": filled, "pct": (100.0 * filled / applies) if applies else None})
    completeness = pl.DataFrame(rows, schema={"field": pl.String, "module": pl.String,
                                              "applies": pl.Int64, "filled": pl.Int64,
                                              "pct": pl.Float64})
    start, end = period_bounds(frame, spec, period)
    monthly = (monthly_counts(frame, spec, start, end)
               if start is not None and end is not None else None)
    return FileMeasures(completeness=completeness, monthly=monthly, period=(start, end))
