"""Write tables into xlsx sheets the way a team manager needs them: a bold frozen header,
filters on, readable column widths, and no cell that can ever run as a formula.

xlsxwriter is used because it writes fast and, with ``write_string``, a text is always stored
as text; the workbook is also opened with ``strings_to_formulas`` off as a second guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from pipelines.excel_safe import excel_safe

MIN_WIDTH = 8
MAX_WIDTH = 60
WRAP_OVER = 60  # columns whose text runs longer than this wrap instead of growing


def new_workbook(path: Path, title: str) -> tuple[Workbook, dict[str, Any]]:
    """Open a workbook with the safety options on and the shared cell formats."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    wb.set_properties({"title": title, "comments": "Synthetic or council data: handle as OFFICIAL"})
    formats = {
        "header": wb.add_format(
            {"bold": True, "bg_color": "#1d4f76", "font_color": "#ffffff", "border": 1,
             "text_wrap": True, "valign": "top"}
        ),
        "text": wb.add_format({"valign": "top"}),
        # counts centred under their header: right-aligned, a narrow count sat beside the
        # next column's header and read as that column's value
        "number": wb.add_format({"valign": "top", "align": "center"}),
        "wrap": wb.add_format({"valign": "top", "text_wrap": True}),
        "error": wb.add_format({"valign": "top", "bg_color": "#f8d7da", "font_color": "#842029"}),
        "warning": wb.add_format({"valign": "top", "bg_color": "#fff3cd", "font_color": "#664d03"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "bold": wb.add_format({"bold": True, "valign": "top"}),
        "value": wb.add_format({"valign": "top", "align": "left", "text_wrap": True}),
    }
    return wb, formats


def write_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Write one value by its type: text always as a string cell, never a formula."""
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, datetime | date):
        ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, excel_safe(str(value)), fmt)


def _width(values: Sequence[Any], header: str) -> int:
    longest = max(
        [len(header)] + [max((len(s) for s in str(v).split("\n")), default=0) for v in values
                         if v is not None],
    )
    return max(MIN_WIDTH, min(MAX_WIDTH, longest + 2))


def _col_name(n: int) -> str:
    """Column letters of the n-th column (1 -> A, 27 -> AA)."""
    name = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        name = chr(65 + rem) + name
    return name or "A"


def _lines(value: Any, width: int) -> int:
    """How many lines a wrapped cell needs at a column width (in characters)."""
    if value is None:
        return 1
    per_line = max(1, int(width * 1.1))  # proportional fonts fit a little more than width
    return sum(max(1, -(-len(part) // per_line)) for part in str(value).split("\n"))


def write_table(
    wb: Workbook,
    formats: dict[str, Any],
    name: str,
    table: pl.DataFrame,
    *,
    severity_column: str | None = None,
    note: str | None = None,
) -> Worksheet:
    """Write ``table`` as a sheet: header on the first row (frozen, with filters), one row per
    record, widths fitted to the content, long texts wrapped, error/warning rows coloured."""
    ws = wb.add_worksheet(name)
    headers = table.columns
    for c, h in enumerate(headers):
        ws.write_string(0, c, excel_safe(h), formats["header"])
    rows = table.rows()
    sev_idx = headers.index(severity_column) if severity_column in headers else None
    wrap_cols: dict[int, int] = {}
    number_cols = {c for c, h in enumerate(headers) if table.schema[h].is_numeric()}
    for c, h in enumerate(headers):
        col_values = table.get_column(h).to_list()
        width = _width(col_values, h)
        longest = max((len(str(v)) for v in col_values if v is not None), default=0)
        if longest > WRAP_OVER or any("\n" in str(v) for v in col_values if v is not None):
            wrap_cols[c] = width
        ws.set_column(c, c, width)
    for r, record in enumerate(rows, start=1):
        lines = max([_lines(record[c], w) for c, w in wrap_cols.items()], default=1)
        if lines > 1:  # not every viewer grows rows for wrapped text by itself
            ws.set_row(r, min(409, 15 * lines))
        sev_fmt = None
        if sev_idx is not None and record[sev_idx] in ("error", "warning"):
            sev_fmt = formats[record[sev_idx]]
        for c, value in enumerate(record):
            fmt = formats["wrap"] if c in wrap_cols else formats["text"]
            if c in number_cols:
                fmt = formats["number"]
            if c == sev_idx and sev_fmt is not None:
                fmt = sev_fmt
            write_cell(ws, r, c, value, fmt)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), max(len(headers) - 1, 0))
    # Ids are text on purpose (leading zeros kept): no green "number stored as text" flags.
    ws.ignore_errors({"number_stored_as_text": f"A1:{_col_name(len(headers))}{len(rows) + 1}"})
    # Managers print these: A4 landscape, one page wide, header row on every page.
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    if note:
        ws.write_string(len(rows) + 2, 0, excel_safe(note), formats["text"])
    return ws


def write_summary(
    wb: Workbook, formats: dict[str, Any], title: str, lines: Sequence[tuple[str, Any]]
) -> Worksheet:
    """A short first sheet: a title and label/value lines (counts, run, how to use)."""
    ws = wb.add_worksheet("Summary")
    ws.write_string(0, 0, excel_safe(title), formats["title"])
    for i, (label, value) in enumerate(lines, start=2):
        ws.write_string(i, 0, excel_safe(label), formats["bold"])
        write_cell(ws, i, 1, value, formats["value"])
        if _lines(value, 90) > 1:
            ws.set_row(i, 15 * _lines(value, 90))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 90)
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    return ws
