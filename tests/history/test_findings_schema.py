"""The history's findings table holds the findings contract (checks/findings.py): the same
columns in the same order, the same types, except run_id, which history stamps with its own
integer run id (a findings file from `cld check` holds the check's label there)."""

from __future__ import annotations

from pathlib import Path

from checks import findings
from pipelines.history import History

_DUCK = {"VARCHAR": "String", "BIGINT": "Int64"}


def test_migrated_findings_columns_equal_the_schema(tmp_path: Path) -> None:
    with History.open(tmp_path / "h.duckdb") as h:
        cols = h.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'findings' ORDER BY ordinal_position"
        ).fetchall()
    assert [c for c, _ in cols] == list(findings.SCHEMA)
    types = {c: t for c, t in cols}
    assert types.pop("run_id") == "INTEGER"
    want = {c: str(d) for c, d in findings.SCHEMA.items() if c != "run_id"}
    assert {c: _DUCK.get(t, t) for c, t in types.items()} == want
