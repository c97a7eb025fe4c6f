"""Reading a findings file written by ``cld check`` (the thresholds file: ``pipelines.thresholds``).

A run in the history is read by :mod:`pipelines.history.read`; a period built and checked
now by ``pipelines.runs.check_now``; ``pipelines.runs.inputs_for`` chooses between the three.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cld_schema.errors import CldError


class SourceError(CldError, ValueError):
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
