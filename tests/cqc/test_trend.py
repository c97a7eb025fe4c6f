"""Nightly runs record the waiting-now figures in history; the pack shows them over time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from pipelines import runs
from pipelines.config import load_config
from pipelines.cqc.trend import WAITING, read_trend, waiting_now
from pipelines.history import History
from pipelines.sample import small_council
from tests.flows.conftest import write_config


def test_nightly_records_the_waiting_list_over_time(tmp_path: Path) -> None:
    info = small_council(tmp_path / "s", defects=0)
    cfg = load_config(write_config(tmp_path / "cfg", sample_db=info.db, feeds=info.feeds_dir))
    days = (date(2026, 3, 3), date(2026, 3, 31))
    for d in days:
        runs.nightly(cfg, d, deliver=False)
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        stored = h.query("waiting_trend.sql", {"grain": "week"})
        assert set(h.con.sql("SELECT DISTINCT figure FROM waiting_now").pl()["figure"]) \
            <= set(WAITING)
    trend = read_trend(cfg)
    assert trend is not None and trend.equals(stored)
    assert sorted(set(trend["as_at"])) == list(days)
    for d in days:
        expected = waiting_now(cfg, d).group_by("figure").agg(pl.col("count").sum())
        got = trend.filter(pl.col("as_at") == d).group_by("figure").agg(pl.col("count").sum())
        assert got.sort("figure").equals(expected.sort("figure"))
        assert got.filter(pl.col("figure") == "W1")["count"][0] > 0
    monthly = read_trend(cfg, "month")
    assert set(monthly["as_at"]) == {days[-1]}  # March's point is its last nightly run
    assert monthly.select("figure", "team", "count").sort("figure", "team").equals(
        trend.filter(pl.col("as_at") == days[-1]).select("figure", "team", "count")
        .sort("figure", "team"))
    # no person in the stored figures
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        cols = h.con.sql("DESCRIBE waiting_now").pl()["column_name"].to_list()
    assert not {"person_id", "nhs_number"} & set(cols)
    # the DQ report's small "Waiting lists" section shows the same counts by team
    from pipelines.runs import write_run_report

    page = write_run_report(cfg, None, tmp_path / "reports").read_text(encoding="utf-8")
    assert '<section id="waiting">' in page
    last = trend.filter(pl.col("as_at") == days[-1])
    w1 = last.filter(pl.col("figure") == "W1").sort("count").tail(1).row(0, named=True)
    section = page.split('<section id="waiting">')[1].split("</section>")[0]
    assert f"<td>{w1['team']}</td><td class=\"num\">{w1['count']}</td>" in section
