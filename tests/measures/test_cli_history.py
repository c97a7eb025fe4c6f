"""``cld measures`` end to end, and the figures kept in history: change since the previous
submission with the people behind it, the report section, ``cld history trend``."""

from __future__ import annotations

import csv

import polars as pl
import pytest
from typer.testing import CliRunner

from cld_schema.errors import CldError
from pipelines.cldfile import read_cld_info
from pipelines.cli import app
from pipelines.history import History
from pipelines.measures import MEASURE_IDS
from pipelines.measures.history import changes, record_step, trend
from pipelines.outputs.measures_section import measures_section
from pipelines.period import Period
from tests.flows.conftest import write_config
from tests.measures.conftest import Q4, request, service, stmax, write_file

runner = CliRunner(env={"COLUMNS": "200"})
ISSUE_GROUPS = {"18-64", "65+", "Total"}


def _rows(extra=()):
    return [
        stmax("A1", "2025-06-01", "2025-06-30"),
        # an LA id a spreadsheet would run as a formula: the drill-down makes it text
        service("=A2", "LONG_TERM_COMMUNITY", "2025-01-01", dm="DIRECT_PAYMENT"),
        request("A3", "2025-07-01", "2025-07-02", eo="NFA_INFORMATION_ADVICE"),
        *extra,
    ]


def test_cld_measures_writes_the_csv_and_drilldowns(tmp_path):
    f = write_file(tmp_path / "sub.csv", _rows())
    pop = tmp_path / "pop.csv"
    pop.write_text("age_band,population\n18-64,200000\n65+,50000\n")
    out = tmp_path / "m"
    cfg = write_config(tmp_path / "cfg")
    r = runner.invoke(
        app, ["--config", str(cfg), "measures", str(f), "--population", str(pop), "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert "ASCOF_2A" in r.output and "100.0% (1 / 1)" in r.output
    assert "ASCOF_2D: not computed" in r.output and "no earlier submissions" in r.output
    assert "=A2" not in r.output  # figures only on screen: no person ids
    with open(out / "measures.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["measure", "group", "numerator", "denominator", "value"]
    assert {r["measure"] for r in rows} == set(MEASURE_IDS)
    for mid in MEASURE_IDS:
        groups = {r["group"] for r in rows if r["measure"] == mid}
        assert groups & ISSUE_GROUPS, mid
    sts = next(r for r in rows if r["measure"] == "SALT_STS001" and r["group"] == "Total")
    assert sts["denominator"] == "" and sts["numerator"] == "1"  # a count: blank denominator
    two_b = next(r for r in rows if r["measure"] == "ASCOF_2B")
    assert two_b["denominator"] == "200000"
    drill = pl.read_csv(out / "people" / "ASCOF_3D_2A.csv", infer_schema=False)
    assert drill["LA_Person_Unique_Identifier"].to_list() == ["'=A2"]
    assert drill["file_rows"].to_list() == ["1"] and drill["event_references"].to_list() == ["E2"]
    assert set(drill.columns) >= {"measure", "group", "in_numerator", "in_denominator", "detail"}


def test_cld_measures_bad_input_is_one_line(tmp_path):
    f = write_file(tmp_path / "sub.csv", _rows())
    cfg = str(write_config(tmp_path / "cfg"))
    bad = tmp_path / "pop.csv"
    bad.write_text("age_band,population\n18-64,lots\n")
    for args, text in [
        (["measures", str(tmp_path / "missing.csv")], "no such file"),
        (["measures", str(f), "--population", str(bad)], "not a whole number"),
        (["measures", str(f), "--period", "2025Q9"], "YYYY-YYQn"),
    ]:
        r = runner.invoke(app, ["--config", cfg, *args])
        assert isinstance(r.exception, CldError), r.output
        assert text in str(r.exception)


def test_figures_recorded_with_change_and_people(tmp_path):
    """Two submissions in history: the second's figures beside the first's, and how many
    people moved (A4 joins the ST-Max episodes, A1 leaves by dying within 7 days)."""
    db = tmp_path / "h.duckdb"
    q3 = Period.parse("2025-26Q3")
    first = write_file(tmp_path / "q3.csv", _rows(), period=q3)
    second = write_file(
        tmp_path / "q4.csv",
        [
            stmax("A1", "2025-06-01", "2025-06-30", dod="2025-07-03"),
            *_rows()[1:],
            stmax("A4", "2025-09-01", "2025-09-20"),
        ],
    )
    ids = []
    for path, per in ((first, q3), (second, Q4)):
        frame, _, info = read_cld_info(path)
        with History.open(db) as h, h.run("build", str(per), info.release, "test") as run:
            sub = run.add_submission(path, frame)
            facts = record_step(h, run, sub, frame, per, info.release, tmp_path / f"m{run.id}")
            ids.append(sub)
        assert facts["measures"] > 0 and (tmp_path / f"m{run.id}" / "measures.csv").exists()
    with History.open(db) as h:
        ch = changes(h, ids[1], ids[0])
        two_a = ch.filter((pl.col("measure") == "ASCOF_2A") & (pl.col("grp") == "Total")).row(
            0, named=True
        )
        assert (two_a["prev_numerator"], two_a["numerator"]) == (1, 1)  # A1 out, A4 in
        assert two_a["people_changed"] == 2 and two_a["people_new"] == 1
        tr = trend(h, "ASCOF_2A")
        assert tr.filter(pl.col("grp") == "Total")["submission_id"].to_list() == ids
        html = measures_section(ch.with_columns(pl.lit(ids[0]).alias("prev_sub")))
    assert "SALT and ASCOF preview" in html and f"submission {ids[0]}" in html
    assert "A1" not in html  # counts only
    cfg = write_config(tmp_path / "cfg")
    text = cfg.read_text()
    old = f'history_db = "{tmp_path / "cfg" / "out" / "history.duckdb"}"'
    assert old in text
    cfg.write_text(text.replace(old, f'history_db = "{db}"'))
    r = runner.invoke(app, ["--config", str(cfg), "history", "trend", "--measure", "ASCOF_2A"])
    assert r.exit_code == 0, r.output
    assert "SALT/ASCOF figures over submissions" in r.output and "2025-26Q4" in r.output


@pytest.mark.parametrize("mid", ["ASCOF_2A", "SALT_LTS001A"])
def test_look_back_editions_come_from_history(tmp_path, mid):
    from pipelines.measures.history import earlier_editions

    db = tmp_path / "h.duckdb"
    q3 = Period.parse("2025-26Q3")
    path = write_file(tmp_path / "q3.csv", _rows(), period=q3)
    frame, _, info = read_cld_info(path)
    with History.open(db) as h:
        with h.run("build", str(q3), info.release, "test") as run:
            run.add_submission(path, frame)
        eds = earlier_editions(h, Q4)
        assert [e.period for e in eds] == [q3] and eds[0].frame.height == frame.height
        assert earlier_editions(h, q3) == []  # only earlier periods
    assert mid in MEASURE_IDS


def test_history_trend_unknown_measure_is_one_line(tmp_path):
    """usertest P12: a mistyped measure printed every rule's trend and a false 'no figures
    recorded yet' (exit 0); it is one line naming the known ids (exit 2), before history opens."""
    cfg = write_config(tmp_path / "cfg")
    r = runner.invoke(app, ["--config", str(cfg), "history", "trend", "--measure", "NOPE"])
    assert isinstance(r.exception, CldError), r.output  # main() prints it as one line, exit 2
    assert r.output == ""  # nothing printed before the error
    text = str(r.exception)
    assert "\n" not in text and text.startswith("no measure 'NOPE'; known: ")
    assert all(mid in text for mid in MEASURE_IDS)
    assert not (tmp_path / "cfg" / "out" / "history.duckdb").exists()
    r = runner.invoke(app, ["--config", str(cfg), "history", "trend", "--measure", "ascof_2a"])
    assert not isinstance(r.exception, CldError), r.exception


def test_figures_computed_ahead_are_those_recorded(tmp_path):
    """The quarterly run computes a build's figures while its checks run, before the
    submission is recorded (measure_ahead): the same look-backs, figures and files as when
    the record step computes them itself."""
    import shutil

    from pipelines.measures.history import measure_ahead

    q3 = Period.parse("2025-26Q3")
    first = write_file(tmp_path / "q3.csv", _rows(), period=q3)
    second = write_file(
        tmp_path / "q4.csv",
        [stmax("A1", "2025-06-01", "2025-06-30", dod="2025-07-03"), *_rows()[1:]],
    )
    db = tmp_path / "h.duckdb"
    frame1, _, info1 = read_cld_info(first)
    with History.open(db) as h, h.run("build", str(q3), info1.release, "test") as run:
        record_step(h, run, run.add_submission(first, frame1), frame1, q3, info1.release,
                    tmp_path / "first")  # fmt: skip
    shutil.copy(db, tmp_path / "h2.duckdb")
    frame, _, info = read_cld_info(second)
    out = {}
    for name, path in (("ahead", db), ("inline", tmp_path / "h2.duckdb")):
        with History.open(path) as h:
            ahead = measure_ahead(h, frame, Q4, info.release) if name == "ahead" else None
            with h.run("build", str(Q4), info.release, "test") as run:
                sub = run.add_submission(second, frame)
                record_step(h, run, sub, frame, Q4, info.release, tmp_path / name, ahead=ahead)
            out[name] = h.con.execute(
                "SELECT measure, grp, numerator, denominator, value FROM measures "
                "WHERE submission_id = ? ORDER BY ALL", [sub]
            ).fetchall()  # fmt: skip
    assert out["ahead"] == out["inline"] and out["ahead"]
    notes = (tmp_path / "ahead" / "measures_notes.txt").read_text()
    assert "1 earlier submission(s)" in notes  # the look-back came from history
    for f in sorted((tmp_path / "inline").rglob("*.*")):
        assert (tmp_path / "ahead" / f.relative_to(tmp_path / "inline")).read_bytes() == (
            f.read_bytes()
        ), f.name
