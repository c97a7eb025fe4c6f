"""The findings table, the checks' central contract (docs/contracts.md section 3), written
once: its columns and types (:data:`SCHEMA`), the mask for personal-data values, an empty
table, the tolerant cast for findings read back from a file or history (:func:`conform`) and
rows made into findings (:func:`make`). The engine, the quantitative checks, the file rules,
history and the exception lists all take the shape from here. Imports only polars.

``run_id`` is one thing: the id of the history run that recorded the findings. The checks leave
it null; ``Run.add_findings`` stamps the run's id when history records them, and every reader
of a recorded run sees that id. A findings file written by ``cld check`` holds null there (with
``--record`` the run id is printed and kept in history).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

PID_MASK = "N/A - PID"

SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "rule_id": pl.String(),
    "severity": pl.String(),
    "module": pl.String(),
    "category": pl.String(),
    "row": pl.Int64(),
    "person_id": pl.String(),
    "event_ref": pl.String(),
    "event_type": pl.String(),
    "event_start": pl.String(),
    "field": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    "how_to_fix": pl.String(),
    "team_id": pl.String(),
    "team_name": pl.String(),
    "worker_name": pl.String(),
    "step_id": pl.String(),
}
COLUMNS: tuple[str, ...] = tuple(SCHEMA)


def empty() -> pl.DataFrame:
    """A findings table with no rows."""
    return pl.DataFrame(schema=SCHEMA)


def make(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """Findings from rows (dicts naming some of the columns; the others are null)."""
    rows = list(rows)
    if not rows:
        return empty()
    return pl.DataFrame([{c: r.get(c) for c in SCHEMA} for r in rows], schema=SCHEMA)


def select(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame holding every column, in the contract's order and types (strict: a frame that
    lacks a column is a programming error)."""
    return frame.select(list(SCHEMA)).cast(SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Add any missing column as null and cast to the contract's types, so a findings file from
    an older run or a hand-made one still works; an empty team id is no team."""
    if not frame.columns:  # selecting literals from a frame with no columns makes a row
        return empty()
    cols = [
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in SCHEMA.items()
    ]
    return frame.select(cols).with_columns(
        pl.when(pl.col("team_id").str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col("team_id"))
        .alias("team_id")
    )
