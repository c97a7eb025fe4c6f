"""Make any text safe to put in a spreadsheet cell.

Team managers open these workbooks in Excel and often save a sheet as CSV to pass it on. A
value from the case system that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return would run as a formula when that CSV is opened again (CSV/formula injection), so such
text is prefixed with an apostrophe, as OWASP recommends. Plain numbers such as ``-12.50`` are
left alone: they cannot run and a manager needs to read them. The workbook writer also writes
every text with ``write_string`` so nothing becomes a formula inside the xlsx itself.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER_RE = r"^[+-]?\d+(\.\d+)?$"
_PLAIN_NUMBER = re.compile(_PLAIN_NUMBER_RE)
# Characters an xlsx cell cannot hold (XML 1.0 control characters other than tab/newline/CR).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
EXCEL_MAX_CELL = 32_767


def excel_safe(value: Any) -> Any:
    """Return ``value`` made safe for a cell: text that could run as a formula gets a leading
    apostrophe, characters xlsx cannot store are dropped, and overlong text is cut.
    Numbers, booleans and None pass through unchanged."""
    if not isinstance(value, str):
        return value
    text = _ILLEGAL.sub("", value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        text = "'" + text
    return text[:EXCEL_MAX_CELL]


def excel_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The same guard over every text column of a frame, vectorised (for CSV files people
    open: findings, comparisons, feedback lists): text starting with a formula character gets
    a leading apostrophe unless it is a plain number."""
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        col = pl.col(name)
        trigger = pl.any_horizontal([col.str.starts_with(s) for s in FORMULA_STARTS])
        risky = trigger & ~col.str.contains(_PLAIN_NUMBER_RE)
        exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
    return frame.with_columns(exprs) if exprs else frame
