"""What the engine, the quantitative checks and the rule tests need before they check a frame,
beneath all of them (so none imports the engine for it): the reporting period, the typed
helper columns the rules read, and the frame prepared with them and the national field
status."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from cld_schema import Spec
    from pipelines.period import Period


def period_bounds(
    frame: pl.DataFrame, spec: Spec, period: Period | None
) -> tuple[date | None, date | None]:
    """The reporting period: the one asked for, else the file's own (most common) dates."""
    if period is not None:
        return period.start, period.end
    fmt = spec.date_format
    out = []
    for name in ("Reporting_Period_Start_Date", "Reporting_Period_End_Date"):
        mode = frame.select(pl.col(name).drop_nulls().mode().first()).item()
        parsed = None
        if mode is not None:
            parsed = pl.Series([mode]).str.to_date(fmt, strict=False).item()
        out.append(parsed)
    return out[0], out[1]


def helper_columns(spec: Spec, start: date | None, end: date | None) -> list[pl.Expr]:
    """Typed helper columns the rules read (``__d_*`` dates, ``__n_*`` numbers, period, and
    ``__pid``: the person id hashed once for the one-per-person windows)."""
    fmt = spec.date_format
    helpers = []
    for f in spec.fields:
        if f.type == "date":
            helpers.append(pl.col(f.name).str.to_date(fmt, strict=False).alias(f"__d_{f.name}"))
        elif f.type in ("decimal", "integer"):
            helpers.append(pl.col(f.name).cast(pl.Float64, strict=False).alias(f"__n_{f.name}"))
    return [
        *helpers,
        pl.lit(start, pl.Date).alias("__pstart"),
        pl.lit(end, pl.Date).alias("__pend"),
        pl.col("LA_Person_Unique_Identifier").hash(seed=11).alias("__pid"),
    ]


def prepared(lf: pl.LazyFrame, spec: Spec, start: date | None, end: date | None) -> pl.LazyFrame:
    """Helper columns plus the national field status and validity of every field."""
    from cld_schema import field_status

    period_end = end.strftime(spec.date_format) if end else None
    return field_status(
        lf.with_columns(helper_columns(spec, start, end)), spec, period_end=period_end
    )
