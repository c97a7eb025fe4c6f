"""The declared unit every measure is (id, title, national source, compute) and its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

DHSC_REPO = "DataS-DHSC/ASC-CLD-LA-Dashboard"
DHSC_COMMIT = "9bee728f40102c4f6cee25a5511c5144c2209b4c"
NHSE_REPO = "NHSDigital/ASC-Client-Level-Data-SALT-ASCOF-transformations"
NHSE_COMMIT = "d6ff762ff88ed53227ab153a644d2af87077b17e"
GROUPS = ("18-64", "65+", "Total")

# Drill-down columns (one row per person, or per counted episode, in each group)
PEOPLE_COLUMNS = {
    "person": pl.String,
    "group": pl.String,
    "in_numerator": pl.Boolean,
    "in_denominator": pl.Boolean,
    "detail": pl.String,
    "rids": pl.List(pl.Int64),
}


@dataclass
class Figure:
    group: str
    numerator: int
    denominator: int | None  # None: the measure is a count
    value: float | None


@dataclass
class MeasureResult:
    figures: list[Figure]
    people: pl.DataFrame  # PEOPLE_COLUMNS
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Measure:
    """One national figure: ``compute(inputs) -> MeasureResult``."""

    id: str
    title: str
    publisher: str  # "DHSC" | "NHS England"
    source: str  # file in the national repository
    unit: str  # "percent" | "count" | "per 100,000"
    compute: Callable
    needs: str = ""  # data one file lacks, said in the output

    @property
    def citation(self) -> str:
        repo, commit = (
            (DHSC_REPO, DHSC_COMMIT) if self.publisher == "DHSC" else (NHSE_REPO, NHSE_COMMIT)
        )
        return f"{repo}@{commit[:7]}:{self.source}"


def pct(num: int, den: int | None) -> float | None:
    """``ROUND(num / den * 100, 1)``; DHSC outputs 0 when the denominator is 0."""
    if den is None:
        return None
    return 0.0 if den == 0 else round(num / den * 100, 1)


def people_frame(df: pl.DataFrame | None = None) -> pl.DataFrame:
    if df is None or df.height == 0:
        return pl.DataFrame(schema=PEOPLE_COLUMNS)
    return df.select(
        pl.col(c).cast(t) if c in df.columns else pl.lit(None, t).alias(c)
        for c, t in PEOPLE_COLUMNS.items()
    )


def by_band(
    units: pl.DataFrame,
    *,
    num: str = "num",
    den: str | None = "den",
    unit: str = "person",
    total_bands: tuple[str, ...] | None = None,
) -> list[Figure]:
    """18-64, 65+ and Total figures from one row per counted unit with a ``band`` column and
    Boolean ``num``/``den`` columns (``den=None``: a count of ``num`` rows). ``Total`` counts
    every band in ``total_bands`` (default: all, so Unknown ages are in the total, as the
    national ROLLUPs put them)."""
    out = []
    for g in GROUPS:
        sub = units
        if g != "Total":
            sub = units.filter(pl.col("band") == g)
        elif total_bands is not None:
            sub = units.filter(pl.col("band").is_in(total_bands))
        n = sub.filter(pl.col(num)).select(pl.col(unit).n_unique()).item() if sub.height else 0
        if den is None:
            out.append(Figure(g, n, None, float(n)))
        else:
            d = sub.filter(pl.col(den)).select(pl.col(unit).n_unique()).item() if sub.height else 0
            out.append(Figure(g, n, d, pct(n, d)))
    return out
