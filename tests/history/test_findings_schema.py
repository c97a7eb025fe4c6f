"""The history's findings table holds the findings contract (checks/findings.py): the same
columns in the same order, the same types, except run_id, which history stamps with its own
integer run id. run_id means that one thing: the checks leave it null and history stamps it
(a findings file from `cld check` holds null there)."""

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


def test_run_id_is_null_from_the_checks_and_the_history_run_id_once_recorded(
    tmp_path: Path,
) -> None:
    import polars as pl

    from checks import run_checks
    from cld_schema import load_spec
    from pipelines.history.read import run_findings
    from tests.checks.conftest import frame_of

    spec = load_spec("R1")
    res = run_checks(frame_of(spec, [{}, {"Gender": "Bloke", "Ethnicity": None}]), spec,
                     quantitative=False)
    assert res.findings.height >= 2
    assert res.findings.get_column("run_id").null_count() == res.findings.height
    with History.open(tmp_path / "h.duckdb") as h:
        ids = []
        for _ in range(2):
            with h.run("check", None, "R1", "test") as run:
                run.add_findings(res.findings)
                ids.append(run.id)
        for rid in ids:
            got = run_findings(h, rid)
            assert got.height == res.findings.height
            assert got.get_column("run_id").cast(pl.String).unique().to_list() == [str(rid)]
