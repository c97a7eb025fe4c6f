"""One markdown-table writer for the CLI (``cld rules --format md``) and the flows' Prefect
artefacts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def cell(value: Any) -> str:
    """A value as one table cell: blank for None, ``|`` escaped, line breaks as spaces."""
    if value is None:
        return ""
    return str(value).replace("|", "\\|").replace("\r\n", " ").replace("\n", " ")


def markdown_table(rows: Iterable[Mapping[str, Any]] | Any,
                   columns: list[str] | None = None) -> str:
    """A GitHub-flavoured markdown table of ``rows`` (mappings, or a polars frame), columns in
    the first row's order (or ``columns``); ``_none_`` when there are no rows and no columns."""
    if hasattr(rows, "iter_rows") and hasattr(rows, "columns"):  # a polars frame
        columns = columns or list(rows.columns)
        rows = rows.iter_rows(named=True)
    rows = list(rows)
    cols = columns or (list(rows[0]) if rows else [])
    if not cols:
        return "_none_\n"
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"
