"""``cld quickstart``: picks the latest complete quarter in the data and builds it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.cli.quickstart import latest_complete_quarter
from tests.build.test_build import load_world, write_config


@pytest.mark.parametrize(
    ("last_day", "period"),
    [
        (date(2026, 3, 31), "2025-26Q4"),  # data to the quarter end
        (date(2026, 3, 27), "2025-26Q4"),  # within a week of it: complete
        (date(2026, 3, 1), "2025-26Q3"),  # a month short: the quarter before
        (date(2025, 1, 3), "2024-25Q3"),
    ],
)
def test_latest_complete_quarter(last_day: date, period: str) -> None:
    assert str(latest_complete_quarter(last_day)) == period


def test_quickstart_builds_the_existing_sample(tmp_path: Path) -> None:
    db = tmp_path / "council.db"
    load_world(f"sqlite:///{db}")
    cfg = write_config(tmp_path, db)
    r = CliRunner().invoke(app, ["--config", str(cfg), "quickstart"])
    assert r.exit_code == 0, r.output
    assert "building 2024-25Q3" in r.output  # last activity 2025-01-03
    out = tmp_path / "out" / "cld_999_2024-25Q3_R1.csv"
    assert f"submission file: {out}" in r.output
    assert out.exists() and out.with_name("cld_999_2024-25Q3_R1.summary.json").exists()


def test_quickstart_makes_the_sample_when_missing(tmp_path: Path, monkeypatch) -> None:
    import pipelines.sample

    real = pipelines.sample.generate
    monkeypatch.setattr(  # a smaller council than the README's, same code path
        pipelines.sample, "generate", lambda db, **kw: real(db, **{**kw, "people": 250})
    )
    db = tmp_path / "out" / "sample" / "council.db"
    cfg = write_config(tmp_path, db)
    text = cfg.read_text(encoding="utf-8").replace(
        f'feeds_dir = "{tmp_path / "feeds"}"', f'feeds_dir = "{db.parent / "feeds"}"'
    )
    cfg.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(app, ["--config", str(cfg), "quickstart"])
    assert r.exit_code == 0, r.output
    assert "making the sample council" in r.output
    assert db.exists()
    assert "building 2025-26Q4" in r.output  # the sample runs to 31 March 2026
    assert (tmp_path / "out" / "cld_999_2025-26Q4_R2.csv").exists()
