"""Files for people from history's frames: the comparison's CSV parts and any other frame a
reviewer opens in Excel (UTF-8 BOM so Excel reads the encoding, formula-safe text).

History returns frames only (:class:`pipelines.history.compare.Comparison`,
``History.feedback_items``); this module is where they become files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from pipelines.excel_safe import excel_safe_frame

if TYPE_CHECKING:
    from pipelines.history.compare import Comparison


def write_csv_for_people(frame: pl.DataFrame, path: Path) -> Path:
    """CSV with a UTF-8 BOM (Excel reads the encoding) and formula-safe text; lists joined."""
    flat = frame.with_columns(
        pl.col(c).cast(pl.List(pl.String)).list.join(" ")
        for c, t in frame.schema.items()
        if isinstance(t, pl.List)
    )
    excel_safe_frame(flat).write_csv(path, include_bom=True)
    return path


def write_comparison(comparison: Comparison, out_dir: Path) -> list[Path]:
    """Write the comparison's parts as CSV files for people (Excel-safe); returns the paths
    (``compare_<a>_<b>_<part>.csv``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    c = comparison
    changes = c.changes.with_columns(pl.col("changed_fields").list.join(" "))
    parts = {
        "counts": c.counts, "events": c.events, "changes": changes,
        "field_changes": c.field_changes, "vanished": c.vanished,
        "completeness": c.completeness,
        "warnings": pl.DataFrame({"warning": c.warnings}, schema={"warning": pl.String}),
    }  # fmt: skip
    written = []
    for name, frame in parts.items():
        path = out_dir / f"compare_{c.a.id}_{c.b.id}_{name}.csv"
        write_csv_for_people(frame, path)
        written.append(path)
    return written
