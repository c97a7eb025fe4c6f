"""Reading a findings file written by ``cld check``, and the thresholds file.

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


def load_thresholds(cfg) -> dict:
    """The council's thresholds file (completeness per field, volumes). A setting that names
    no file is an error, as in ``cld check``: silently checking without thresholds would
    hide the completeness findings."""
    from pipelines.config import ConfigError, read_yaml

    path = cfg.path(cfg.checks.thresholds)
    if not path.is_file():
        raise SourceError(f"{cfg.file}: key [checks] thresholds: no such file {path}")
    try:
        loaded = read_yaml(path, "the thresholds file") or {}
    except ConfigError as exc:
        raise SourceError(str(exc)) from None
    if not isinstance(loaded, dict):
        raise SourceError(f"{path}: the thresholds must be a YAML mapping")
    return loaded
