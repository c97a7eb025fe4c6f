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


@pytest.mark.postgres
def test_cld_cqc_default_period_follows_reference_date_with_a_database_url(
    pg_server, tmp_path: Path, monkeypatch
) -> None:
    """usertest P7: with CLD_DATABASE_URL set, ``cld cqc`` took the last quarter by the real
    date (2026-27Q2 on 2026-12-02) though ``[runs] reference_date`` says 2026-03-31; it must
    take the period ``cld run quarterly`` takes for the same config."""
    pg_server.create_database("cqc_refdate")
    info = generate(pg_server.sqlalchemy_url("cqc_refdate"), people=120, seed=3, defects=0,
                    out_dir=tmp_path / "pg")
    cfg = write_config(tmp_path / "cfg", sample_db=tmp_path / "absent.db", feeds=info.feeds_dir,
                       reference_date="2026-03-31")
    monkeypatch.setenv("CLD_DATABASE_URL", pg_server.sqlalchemy_url("cqc_refdate"))
    r = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["--config", str(cfg), "cqc", "--out", str(tmp_path / "out")])
    assert r.exit_code == 0, r.output
    assert "as at: 2026-03-31" in r.output
    assert "period: 2025-26Q4 (12 months 2025-04-01 to 2026-03-31)" in r.output
    from pipelines.config import load_config
    from pipelines.runs import default_period  # what `cld run quarterly` takes

    assert str(default_period(load_config(cfg))) == "2025-26Q4"
