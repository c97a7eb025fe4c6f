"""The history store: atomic runs, refusal of concurrent runs, a run killed mid-write, and the
upgrade of an older database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.history import History, HistoryBusy, HistoryError
from pipelines.history.compare import compare
from pipelines.history.store import migrations, schema_version, strip_secrets
from tests.history.helpers import bulk_frame, cld_frame

CHILD = Path(__file__).with_name("child_run.py")


def _snapshot(db: Path) -> dict[str, object]:
    """Everything a run could have touched, to compare before and after."""
    with History.open(db) as h:
        return {
            "runs": h.runs().drop("seconds").rows(),
            "submissions": h.submissions().rows(),
            "rows": h.con.execute(
                "SELECT count(*), sum(hash(row_no, LA_Person_Unique_Identifier)) "
                "FROM submission_rows"
            ).fetchall()[0],
            "findings": h.con.execute("SELECT count(*) FROM findings").fetchall()[0],
        }


def _one_good_run(db: Path) -> int:
    with History.open(db) as h, h.run("build", "2024-25Q2", "R1") as run:
        sub = run.add_submission(None, bulk_frame(100))
        run.add_findings(pl.DataFrame({"rule_id": ["LOG001"], "row": [3], "team_id": ["1"]}))
    return sub


def test_run_commits_everything_together(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    frame = cld_frame(
        [{"LA_Person_Unique_Identifier": "P1", "Event_Type": "Request", "_team_id": "7"},
         {"LA_Person_Unique_Identifier": "P2", "Event_Type": "Service"}]
    )  # fmt: skip
    subfile = tmp_path / "sub.csv"
    subfile.write_text("a,b\n")
    with History.open(db) as h:
        with h.run("build", "2024-25Q3", "R1", "postgresql://cld:s3cret@db/case") as run:
            sub = run.add_submission(subfile, frame)
            run.add_findings(pl.DataFrame({"rule_id": ["A", "B"], "team_id": ["7", None]}))
            run.counts["extracted"] = 12
        runs = h.runs()
        assert runs.select("kind", "status", "submissions", "submission_rows", "findings").row(
            0
        ) == ("build", "ok", 1, 2, 2)
        assert "s3cret" not in runs["source"][0]
        assert h.submission(sub).sha256 is not None
        back = h.submission_frame(sub)
        assert back.columns[:50] == [c for c in frame.columns if not c.startswith("_")]
        assert back["LA_Person_Unique_Identifier"].to_list() == ["P1", "P2"]
        assert back["_team_id"].to_list() == ["7", None]
        assert h.trend()["findings"].sum() == 2


def test_failed_run_rolls_back_and_is_noted(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    _one_good_run(db)
    before = _snapshot(db)
    with History.open(db) as h, pytest.raises(RuntimeError), h.run("build", "2024-25Q3") as run:
        run.add_submission(None, bulk_frame(500))
        run.add_findings(pl.DataFrame({"rule_id": ["X"]}))
        raise RuntimeError("transform broke")
    after = _snapshot(db)
    assert after["rows"] == before["rows"] and after["findings"] == before["findings"]
    assert after["submissions"] == before["submissions"]
    assert [r[4] for r in after["runs"]] == ["ok", "failed"]  # status column
    assert after["runs"][1][-3] == "RuntimeError"  # the type, never the message


def test_killed_run_leaves_history_intact_and_rerun_succeeds(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    _one_good_run(db)
    before = _snapshot(db)
    child = subprocess.Popen(
        [sys.executable, str(CHILD), "write", str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        # Two submissions staged and the third being written when the kill lands.
        assert child.stdout.readline().strip() == "staged 1"
        assert child.stdout.readline().strip() == "staged 2"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
    assert Path(str(db) + ".lock").exists()  # the killed run's lock, now stale
    assert _snapshot(db) == before
    with History.open(db) as h:
        with h.run("build", "2024-25Q3", "R1") as run:
            run.add_submission(None, bulk_frame(10))
        assert h.runs()["status"].to_list() == ["ok", "ok"]
        assert h.con.execute("SELECT count(*) FROM submission_rows").fetchall()[0][0] == 110


def test_two_processes_cannot_run_at_once(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    _one_good_run(db)
    holder = subprocess.Popen(
        [sys.executable, str(CHILD), "hold", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "in run"
        other = subprocess.run(
            [sys.executable, str(CHILD), "try", str(db)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert other.returncode == 3, other.stderr
        assert "in use by another process" in other.stdout
        assert str(holder.pid) in other.stdout
        with pytest.raises(HistoryBusy, match="in use by another process"):
            History.open(db)
        holder.stdin.write("done\n")
        holder.stdin.flush()
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.stdin.close()
        holder.stdout.close()
    with History.open(db) as h:
        assert h.runs()["status"].to_list() == ["ok", "ok"]


def test_second_run_in_same_process_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    with History.open(db) as h1, History.open(db) as h2:
        with h1.run("nightly") as run:
            with pytest.raises(HistoryBusy, match=f"pid {os.getpid()}"), h2.run("check"):
                pass
            with pytest.raises(HistoryBusy, match="still in progress"), h1.run("check"):
                pass
            run.add_findings(pl.DataFrame({"rule_id": ["A"]}))
        assert h1.runs()["status"].to_list() == ["ok"]
        with h2.run("check"):  # free again once the first has ended
            pass
        assert h2.runs()["kind"].to_list() == ["nightly", "check"]


V1_RUN = """INSERT INTO runs (id, kind, period, release, started_at, ended_at, status,
                  submissions, submission_rows) VALUES (1, 'build', '2024-25Q1', 'R1', now(),
                  now(), 'ok', 1, 3)"""
V1_SUB = """INSERT INTO submissions (id, run_id, rows, release, fields, created_at)
            VALUES (1, 1, 3, 'R1', $fields, now())"""
V1_ROWS = """INSERT INTO submission_rows BY NAME SELECT 1 AS submission_id, * FROM _v1"""


def test_upgrade_from_version_1(tmp_path: Path) -> None:
    """A database written at schema version 1 (as the code of that version wrote it) opens
    with today's code: upgraded in place, its data kept and usable."""
    db = tmp_path / "old.duckdb"
    frame = cld_frame(
        [{"LA_Person_Unique_Identifier": p, "Event_Type": "Request",
          "Event_Start_Date": "2024-05-01", "Event_End_Date": "2024-05-02"}
         for p in ("P1", "P2", "P3")]
    )  # fmt: skip
    fields = [c for c in frame.columns if not c.startswith("_")]
    v1 = frame.select(pl.col("_row").cast(pl.Int32).alias("row_no"), *fields)
    with History.open(db, migrate_to=1) as h:
        assert schema_version(h.con) == 1
        assert "feedback_items" not in h.tables()
        h.con.execute(V1_RUN)
        h.con.execute(V1_SUB, {"fields": json.dumps(fields)})
        h.con.register("_v1", v1)
        h.con.execute(V1_ROWS)
    with History.open(db) as h:
        assert schema_version(h.con) == migrations()[-1][0] >= 3
        assert {"feedback_files", "feedback_items"} <= set(h.tables())
        assert h.submission(1).rows == 3
        assert h.submission_frame(1)["LA_Person_Unique_Identifier"].to_list() == ["P1", "P2", "P3"]
        assert h.mark_sent(1).sent_to_portal
        versions = h.con.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        assert [v[0] for v in versions] == [m[0] for m in migrations()]
        # old rows got their keys: a new build of the same rows, P3 dropped, compares exactly
        with h.run("build", "2024-25Q2", "R1") as run:
            new = run.add_submission(None, frame.filter(pl.col("_row") < 2))
        t = compare(h, 1, new).totals()
        assert (t["unchanged"], t["dropped"], t["added"], t["changed"]) == (2, 1, 0, 0)


def test_newer_database_refused(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    History.open(db).close()
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_version VALUES (999, 'future', now())")
    con.close()
    with pytest.raises(HistoryError, match="newer than this code"):
        History.open(db)


def test_new_release_field_becomes_a_column(tmp_path: Path) -> None:
    plain = cld_frame([{"LA_Person_Unique_Identifier": "P1", "Event_Type": "Review"}])
    frame = plain.with_columns(pl.lit("yes").alias("Future_Field"))
    with History.open(tmp_path / "h.duckdb") as h:
        with h.run("build") as run:
            before = run.add_submission(None, plain)
        with h.run("build") as run:
            sub = run.add_submission(None, frame)
        assert h.submission_frame(sub)["Future_Field"].to_list() == ["yes"]
        with h.run("build") as run:
            after = run.add_submission(None, plain)
        # rows stored before the column existed were re-hashed: still equal to the same rows
        t = compare(h, before, after).totals()
        assert (t["unchanged"], t["changed"]) == (1, 0)
        assert compare(h, after, sub).changes["changed_fields"].to_list() == [["Future_Field"]]
        bad = frame.rename({"Future_Field": "bad name; DROP"})
        with pytest.raises(HistoryError, match="not a CLD field"), h.run("build") as run:
            run.add_submission(None, bad)


def test_strip_secrets() -> None:
    assert strip_secrets("postgresql+psycopg://cld:pa55@db:5432/x") == (
        "postgresql+psycopg://cld:***@db:5432/x"
    )
    assert "Secret" not in strip_secrets("DRIVER={X};SERVER=s;UID=u;PWD=Secret;")
    assert strip_secrets("sqlite:///out/sample/council.db") == "sqlite:///out/sample/council.db"
