"""What the engine and the quantitative checks both need before they check a frame, beneath
both (so neither imports the other for it): the reporting period."""

from __future__ import annotations

from datetime import date

import polars as pl


def period_bounds(frame: pl.DataFrame, spec, period) -> tuple[date | None, date | None]:
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
