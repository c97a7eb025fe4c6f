"""The real path: the sample council in PostgreSQL, read through unixODBC (arrow-odbc), gives
the same pack as the same sample in SQLite; and the planted cases are counted exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.sample import generate
from tests.flows.conftest import write_config


@pytest.mark.postgres
def test_cld_cqc_through_odbc_matches_sqlite(pg_server, tmp_path: Path, monkeypatch) -> None:
    pg_server.create_database("cqc_pg")
    pg = generate(pg_server.sqlalchemy_url("cqc_pg"), people=600, seed=5, defects=0,
                  out_dir=tmp_path / "pg")
    lite = generate(tmp_path / "lite" / "council.db", people=600, seed=5, defects=0)
    runner = CliRunner(env={"COLUMNS": "200"})
    printed = {}
    for name, info, url in (
        ("lite", lite, None),
        ("pg", pg, pg_server.odbc_sqlalchemy_url("cqc_pg")),
    ):
        cfg = write_config(tmp_path / f"cfg_{name}", sample_db=lite.db, feeds=info.feeds_dir)
        if url:
            monkeypatch.setenv("CLD_DATABASE_URL", url)
        r = runner.invoke(app, ["--config", str(cfg), "cqc", "--period", "2025-26Q4",
                                "--out", str(tmp_path / f"out_{name}")])
        assert r.exit_code == 0, r.output
        printed[name] = [line for line in r.output.splitlines() if line[:1] in "WTRC"
                         and line[1:2].isdigit()]
    assert len(printed["pg"]) == 17
    assert printed["pg"] == printed["lite"]
    man = json.loads(pg.cqc_manifest.read_text(encoding="utf-8"))
    w1 = next(line for line in printed["pg"] if line.startswith("W1 "))
    assert int(w1.split(": ")[1].split(";")[0]) >= man["planted"]["W1"]
