"""``cld export``: every history table as Parquet (for Power BI and other tools).

Personal data: ``submission_rows`` and ``feedback_items`` hold NHS numbers, names, dates of
birth and postcodes. By default the export blanks those (the spec's ``pid`` fields, and the
found NHS number masked to its last 3 digits); ``include_pid=True`` keeps them for a secure
analytics store.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from duckdb import sqltypes

from pipelines.history.store import History

# Person ids are kept (they are the council's own reference, needed to join tables); these are
# blanked unless include_pid. Used when the spec cannot be loaded.
_PID_FALLBACK = ("NHS_Number", "First_Name", "Last_Name", "Date_of_Birth", "Postcode")


def _pid_fields() -> list[str]:
    try:
        from cld_schema import RELEASES, load_spec

        names: set[str] = set()
        for release in RELEASES:
            names |= {f.name for f in load_spec(release).fields if f.pid}
        # Person ids stay: they are the join key between tables and the council's own number.
        names -= {"LA_Person_Unique_Identifier"}
        return sorted(names)
    except Exception:
        return list(_PID_FALLBACK)


def _masked(h: History, table: str, pid: set[str]) -> duckdb.DuckDBPyRelation:
    """The table as a relation with personal data blanked or masked (streamed, not loaded)."""
    rel = h.con.table(table)
    if table == "submission_rows":
        return rel.select(
            *[
                duckdb.ConstantExpression(None).cast(sqltypes.VARCHAR).alias(c)
                if c in pid
                else duckdb.ColumnExpression(c)
                for c in rel.columns
            ]
        )
    if table == "feedback_items":
        last3 = duckdb.FunctionExpression(
            "right", duckdb.ColumnExpression("nhs_number_found"), duckdb.ConstantExpression(3)
        )
        masked = duckdb.FunctionExpression("concat", duckdb.ConstantExpression("*******"), last3)
        return rel.select(
            *[
                masked.alias(c) if c == "nhs_number_found" else duckdb.ColumnExpression(c)
                for c in rel.columns
            ]
        )
    return rel


def export(h: History, out_dir: Path, include_pid: bool = False) -> list[Path]:
    """Write every history table to ``out_dir/<table>.parquet``; returns the paths.

    DuckDB streams each table to its file, so England-size history exports in bounded memory.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    pid = set() if include_pid else set(_pid_fields())
    written = []
    for table in h.tables():
        rel = h.con.table(table) if include_pid else _masked(h, table, pid)
        path = out_dir / f"{table}.parquet"
        rel.write_parquet(str(path))
        written.append(path)
    return written
