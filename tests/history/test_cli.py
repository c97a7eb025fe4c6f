"""`cld compare`, `cld feedback`, `cld export` and `cld history`, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from cld_schema.errors import CldError
from pipelines.cli import app
from pipelines.history import History
from tests.history.helpers import cld_frame
from tests.history.test_feedback import HEADER, N1, nhs

runner = CliRunner(env={"COLUMNS": "250"})


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A council config whose history holds two builds (P2 dropped, P3 added, NHS on P1)."""
    path = tmp_path / "cld.toml"
    path.write_text(
        '[council]\nla_code = "999"\n[paths]\nhistory_db = "h.duckdb"\n'
        'quarantine_dir = "quarantine"\noutput_dir = "out"\n'
        f'[feedback]\nlayout = "{Path("data/sample/feedback_layout.yaml").resolve()}"\n'
    )
    req = {"Event_Type": "Request", "Event_Start_Date": "2024-03-01",
           "Event_End_Date": "2024-03-02", "_team_id": "1", "_team_name": "North"}  # fmt: skip
    old = cld_frame([req | {"LA_Person_Unique_Identifier": p} for p in ("P1", "P2")])
    new = cld_frame(
        [req | {"LA_Person_Unique_Identifier": "P1", "NHS_Number": N1},
         req | {"LA_Person_Unique_Identifier": "P3"}]
    )  # fmt: skip
    with History.open(tmp_path / "h.duckdb") as h:
        # the first build's file was written; the second was blocked (no file)
        for f, written in ((old, tmp_path / "out" / "cld_999_2024-25Q3_R1.csv"), (new, None)):
            with h.run("build", "2024-25Q3", "R1") as run:
                run.add_submission(written, f)
                run.add_findings(pl.DataFrame({"rule_id": ["LOG001"], "team_id": ["1"]}))
    return path


def _cld(cfg: Path, *args: str):
    return runner.invoke(app, ["--config", str(cfg), *args])


def test_compare_prints_counts_only_and_writes_detail(cfg: Path, tmp_path: Path) -> None:
    out = _cld(cfg, "compare", "--out", str(tmp_path / "cmp"))
    assert out.exit_code == 0, out.output
    assert "Events: 1 added, 1 dropped" in out.output
    assert "NHS_Number" in out.output  # the changed field is named ...
    assert N1 not in out.output and "P2" not in out.output  # ... but no personal data shown
    changes = (tmp_path / "cmp" / "compare_1_2_changes.csv").read_text("utf-8-sig")
    assert "P2" in changes and "P3" in changes


def test_history_runs_mark_sent_trend(cfg: Path) -> None:
    out = _cld(cfg, "history")
    assert out.exit_code == 0, out.output
    assert "Runs" in out.output and "build" in out.output
    out = _cld(cfg, "history", "mark-sent", "1")
    assert out.exit_code == 0 and "submission 1 (2024-25Q3, 2 rows) marked as sent" in out.output
    out = _cld(cfg, "history", "trend", "--team", "1")
    assert out.exit_code == 0 and "LOG001" in out.output and "run 2" in out.output
    out = _cld(cfg, "history", "trend", "--team", "ZZ")
    assert out.exit_code == 0 and "no findings recorded yet for team ZZ" in out.output
    out = _cld(cfg, "history", "mark-sent", "9")
    assert isinstance(out.exception, CldError) and "no submission 9" in str(out.exception)


def test_history_runs_wall_time_blocked_status_and_unwritten_builds(
    cfg: Path, tmp_path: Path
) -> None:
    """usertest P5: the duration is the job's wall time, a not-ready build shows as blocked,
    and a build whose file was never written is not offered to mark sent."""
    import datetime as dt

    began = dt.datetime.now().replace(microsecond=0) - dt.timedelta(seconds=42)
    with History.open(tmp_path / "h.duckdb") as h:
        with h.run("build", "2024-25Q4", "R1", started_at=began) as run:
            run.counts["ready"] = False
            run.add_submission(None, cld_frame([]))
        runs = {r["id"]: r for r in h.runs().to_dicts()}
    assert runs[3]["seconds"] >= 42
    assert runs[3]["shown_status"] == "blocked" and runs[3]["status"] == "ok"
    out = _cld(cfg, "history", "runs")
    assert out.exit_code == 0, out.output
    runs_part = out.output.split("Submissions")[0]
    cells = [[c.strip() for c in ln.split("│")[1:-1]] for ln in out.output.splitlines()]
    run_lines = {c[0]: c for c in cells if c and c[0].isdigit() and len(c) == 10}
    assert run_lines["3"][4] == "blocked" and run_lines["1"][4] == "ok"
    assert "blocked" in runs_part
    listed = [c[0] for c in cells if c and c[0].isdigit() and len(c) == 7]
    assert listed == ["1"]
    assert "not listed: build(s) 2, 3 (file never written" in out.output
    out = _cld(cfg, "history", "mark-sent", "2")
    assert isinstance(out.exception, CldError)
    assert "submission 2's file was never written" in str(out.exception)
    with History.open(tmp_path / "h.duckdb") as h:
        assert not h.submission(2).sent_to_portal


def test_feedback_and_export(cfg: Path, tmp_path: Path) -> None:
    fb = tmp_path / "fb.csv"
    fb.write_text(HEADER + f"P3,{nhs(612345678)},NAME_DOB,01/10/2024\nP1,{N1},NAME_DOB,\n")
    out = _cld(cfg, "feedback", str(fb))
    assert out.exit_code == 0, out.output
    assert "2 NHS numbers found (1 already held, 0 conflicting)" in out.output
    assert "to North: 1" in out.output  # only what the team must act on (1 already held)
    out = _cld(cfg, "history", "feedback", "--out", str(tmp_path / "open.csv"))
    assert out.exit_code == 0 and "North" in out.output
    out = _cld(cfg, "history", "feedback", "--team", "1")
    assert out.exit_code == 0 and "North" in out.output and "for team 1" in out.output
    out = _cld(cfg, "history", "feedback", "--team", "ZZ")  # the table is filtered too
    assert out.exit_code == 0 and "North" not in out.output
    open_csv = (tmp_path / "open.csv").read_text("utf-8-sig")
    assert "P3" in open_csv and nhs(612345678) not in open_csv  # the number found is masked

    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,useful\n1,2\n")
    out = _cld(cfg, "feedback", str(bad))
    assert isinstance(out.exception, CldError) and "quarantined" in str(out.exception)
    assert list((tmp_path / "quarantine").glob("*/bad.csv.reason.txt"))

    out = _cld(cfg, "export", "--out", str(tmp_path / "pbi"))
    assert out.exit_code == 0, out.output
    rows = pl.read_parquet(tmp_path / "pbi" / "submission_rows.parquet")
    assert rows.height == 4 and rows["NHS_Number"].null_count() == 4  # blanked
    items = pl.read_parquet(tmp_path / "pbi" / "feedback_items.parquet")
    assert items["nhs_number_found"].str.starts_with("*******").all()
    assert {p.stem for p in (tmp_path / "pbi").glob("*.parquet")} >= {
        "runs", "submissions", "submission_rows", "findings", "feedback_files", "feedback_items",
    }  # fmt: skip


def test_wrong_paths_are_user_errors(cfg: Path, tmp_path: Path) -> None:
    out = _cld(cfg, "feedback", str(tmp_path))
    assert isinstance(out.exception, CldError) and "is a folder" in str(out.exception)
    (tmp_path / "taken").write_text("x")
    out = _cld(cfg, "export", "--out", str(tmp_path / "taken"))
    assert isinstance(out.exception, CldError) and "is a file" in str(out.exception)
    assert (tmp_path / "taken").read_text() == "x"  # nothing lost


def test_history_feedback_with_nothing_taken_in_says_so(cfg: Path) -> None:
    """usertest P14: an empty four-column table and nothing else."""
    out = _cld(cfg, "history", "feedback")
    assert out.exit_code == 0, out.output
    assert out.output.strip().splitlines() == [
        "no NHS-number feedback taken in yet: take NHS England's matching feedback file in "
        "with `cld feedback FILE`"
    ]


def test_mark_sent_warns_of_a_file_written_not_ready_and_of_a_second_mark(
    cfg: Path, tmp_path: Path
) -> None:
    with History.open(tmp_path / "h.duckdb") as h, h.run("build", "2024-25Q4", "R1") as run:
        run.counts["ready"] = False  # errors left: written with --build-anyway
        run.add_submission(tmp_path / "out" / "cld_999_2024-25Q4_R1.csv", cld_frame([]))
    out = _cld(cfg, "history", "mark-sent", "3")
    assert out.exit_code == 0, out.output
    assert "submission 3 was not ready to submit" in out.output and "already" not in out.output
    out = _cld(cfg, "history", "mark-sent", "1")
    assert "not ready" not in out.output  # a ready one: no warning
    again = _cld(cfg, "history", "mark-sent", "1")
    assert "submission 1 was already marked as sent" in again.output


def test_compare_says_when_the_first_id_is_the_later_quarter(cfg: Path, tmp_path: Path) -> None:
    with History.open(tmp_path / "h.duckdb") as h, h.run("build", "2024-25Q4", "R1") as run:
        run.add_submission(tmp_path / "out" / "cld_999_2024-25Q4_R1.csv", cld_frame([]))
    out = _cld(cfg, "compare", "3", "1")
    assert out.exit_code == 0, out.output
    assert "warning: submission 3 (2024-25Q4) is of a later quarter" in out.output
    assert "`cld compare 1 3`" in out.output
    assert "later quarter" not in _cld(cfg, "compare", "1", "3").output
