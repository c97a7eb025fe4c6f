"""pipelines.markdown: the one markdown-table writer of `cld rules --format md` and the flows'
artefacts."""

from __future__ import annotations

import polars as pl

from pipelines.markdown import markdown_table


def test_rows_and_frames_give_the_same_table_with_cells_kept_whole() -> None:
    rows = [{"rule": "LOG001", "count": 0, "message": "a | b\nc"},
            {"rule": "LOG002", "count": 12, "message": None}]
    text = markdown_table(rows)
    assert text == markdown_table(pl.DataFrame(rows))
    lines = text.splitlines()
    assert lines[:2] == ["| rule | count | message |", "|---|---|---|"]
    assert lines[2] == "| LOG001 | 0 | a \\| b c |"  # one row: the pipe escaped, no break
    assert lines[3] == "| LOG002 | 12 |  |"  # None is blank, 0 stays 0
    assert len(lines) == 4 and text.endswith("\n")


def test_nothing_to_show() -> None:
    assert markdown_table([]) == "_none_\n"
    empty = pl.DataFrame(schema={"rule_id": pl.String, "severity": pl.String})
    assert markdown_table(empty) == "| rule_id | severity |\n|---|---|\n"
