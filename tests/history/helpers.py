"""Small hand-made CLD frames for the history tests (docs/contracts.md section 2)."""

from __future__ import annotations

from typing import Any

import polars as pl

from cld_schema import load_spec

PERIOD_START = "2024-01-01"
PERIOD_END = "2024-12-31"


def cld_frame(rows: list[dict[str, Any]], release: str = "R1") -> pl.DataFrame:
    """A CLD frame: every spec field as text (null unless given), then the internal columns.

    Keys of ``rows`` are field names, or ``_team_id``/``_team_name``.
    """
    spec = load_spec(release)
    base = {"LA_Code": "999", "Reporting_Period_Start_Date": PERIOD_START,
            "Reporting_Period_End_Date": PERIOD_END}  # fmt: skip
    data: dict[str, list[Any]] = {f: [] for f in spec.field_names}
    teams: list[Any] = []
    names: list[Any] = []
    for r in rows:
        full = {**base, **r}
        unknown = set(full) - set(spec.field_names) - {"_team_id", "_team_name"}
        assert not unknown, f"not {release} fields: {unknown}"
        for f in spec.field_names:
            data[f].append(full.get(f))
        teams.append(full.get("_team_id"))
        names.append(full.get("_team_name"))
    frame = pl.DataFrame(data, schema={f: pl.String for f in spec.field_names})
    return frame.with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        pl.col("LA_Person_Unique_Identifier").alias("_person_id"),
        pl.Series("_team_id", teams, dtype=pl.String),
        pl.Series("_team_name", names, dtype=pl.String),
    )


def bulk_frame(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` plausible rows quickly (for volume, not for exact expectations)."""
    spec = load_spec("R1")
    i = pl.int_range(pl.len()) + seed
    kinds = ["Request", "Assessment", "Service", "Review"]
    frame = pl.DataFrame({"n": range(n)}).select(
        pl.lit("999").alias("LA_Code"),
        pl.lit(PERIOD_START).alias("Reporting_Period_Start_Date"),
        pl.lit(PERIOD_END).alias("Reporting_Period_End_Date"),
        (i // 3).cast(pl.String).alias("LA_Person_Unique_Identifier"),
        pl.lit(pl.Series(kinds)).gather(i % 4).alias("Event_Type"),
        (i % 7).cast(pl.String).alias("Event_Reference"),
    )
    missing = [f for f in spec.field_names if f not in frame.columns]
    frame = frame.with_columns(pl.lit("x", pl.String).alias(f) for f in missing)
    return frame.select(spec.field_names).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        pl.lit("1").alias("_team_id"),
        pl.lit("Team A").alias("_team_name"),
    )
