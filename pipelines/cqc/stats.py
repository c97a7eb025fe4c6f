"""Figures from items: count, median, 90th percentile, maximum and day bands, split by age
group, by team and by the figure's own split.

Percentiles interpolate linearly between the two nearest waits, as SQL Server's
PERCENTILE_CONT (DHSC's median) does.
"""

from __future__ import annotations

import polars as pl

from pipelines.cqc.figures import definitions


def band_labels() -> list[tuple[str, int, int | None]]:
    out = []
    for lo, hi in definitions()["bands"]:
        out.append((f"{lo}-{hi} days" if hi is not None else f"{lo}+ days", lo, hi))
    return out


def _aggs(share: bool) -> list[pl.Expr]:
    c = pl.col("counted")
    days = pl.col("days").filter(c)
    exprs = [
        c.sum().cast(pl.Int64).alias("count"),
        pl.col("person_id").filter(c).n_unique().cast(pl.Int64).alias("people"),
        days.median().round(1).alias("median_days"),
        days.quantile(0.9, interpolation="linear").round(1).alias("p90_days"),
        days.max().cast(pl.Int64).alias("max_days"),
    ]
    for label, lo, hi in band_labels():
        inside = days >= lo if hi is None else days.is_between(lo, hi)
        exprs.append(inside.sum().cast(pl.Int64).alias(label))
    if share:
        exprs += [
            pl.len().cast(pl.Int64).alias("of"),
            (c.sum() / pl.len() * 100).round(1).alias("percent"),
        ]
    return exprs


def summarise(fid: str, items: pl.DataFrame, by: list[str] | None = None) -> pl.DataFrame:
    """One row per group of ``by`` (one row overall when empty)."""
    share = (bool(items.height) and not items.get_column("counted").all()) or fid in SHARES
    if by:
        out = items.group_by(by).agg(_aggs(share)).sort(by, nulls_last=True)
    else:
        out = items.select(_aggs(share))
    return out.with_columns(pl.lit(fid).alias("figure")).select(
        "figure", *(by or []), *[c for c in out.columns if c not in (by or [])]
    )


SHARES = {"R1", "R3", "C4", "C5"}  # figures shown as a share of their items


def headline(fid: str, items: pl.DataFrame) -> dict:
    """The figure overall, as a plain dict (counts and days only: no personal data)."""
    row = summarise(fid, items).row(0, named=True)
    return {k: v for k, v in row.items() if k != "figure"}
