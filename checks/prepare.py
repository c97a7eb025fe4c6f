"""What the engine and the quantitative checks both need before they check a frame, beneath
both (so neither imports the other for it): the reporting period."""

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
