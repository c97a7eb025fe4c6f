"""History on the sample council: two real builds stored, compared, and the sample NHS-number
feedback taken in and followed to resolution against the case-management database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import polars as pl
import pytest

from pipelines.build import build
from pipelines.config import PROJECT_ROOT, load_config
from pipelines.history import History
from pipelines.history.compare import compare
from pipelines.history.feedback import ingest, resolve
from pipelines.period import Period
from pipelines.sample import generate
from pipelines.source.feedback import FeedbackLayout, read_feedback

LAYOUT = FeedbackLayout.load(PROJECT_ROOT / "data" / "sample" / "feedback_layout.yaml")


def _persons(db: Path) -> pl.DataFrame:
    with sqlite3.connect(db) as con:
        rows = con.execute("SELECT person_id, nhs_number FROM persons").fetchall()
    return pl.DataFrame(rows, schema={"person_id": pl.Int64, "nhs_number": pl.String}, orient="row")


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("history_sample")
    info = generate(base / "sample" / "council.db", people=150, seed=11, defects=0)
    cfg_path = base / "cld.toml"
    cfg_path.write_text(
        f'[council]\nla_code = "999"\n[paths]\noutput_dir = "{base / "out"}"\n'
        f'quarantine_dir = "{base / "quarantine"}"\n'
        f'mappings_dir = "{PROJECT_ROOT / "data" / "sample" / "mappings"}"\n'
        f'sql_dir = "{PROJECT_ROOT / "sql"}"\nfeeds_dir = "{info.feeds_dir}"\n'
        f'contracts_dir = "{PROJECT_ROOT / "data" / "sample" / "contracts"}"\n'
        f'[source]\nsample_db = "{info.db}"\n'
        f'[feedback]\nlayout = "{PROJECT_ROOT / "data" / "sample" / "feedback_layout.yaml"}"\n',
        encoding="utf-8",
    )
    cfg = load_config(cfg_path)
    return base, info, [build(cfg, Period.parse(p)) for p in ("2025-26Q2", "2025-26Q3")]


def test_two_builds_compared_and_feedback_followed(council) -> None:
    base, info, builds = council
    with History.open(base / "history.duckdb") as h:
        subs = []
        for period, res in zip(("2025-26Q2", "2025-26Q3"), builds, strict=True):
            with h.run("build", period, res.summary["release"]) as run:
                subs.append(run.add_submission(res.path, res.frame))
        assert h.submission_frame(subs[1]).height == builds[1].frame.height

        c = compare(h, *subs)
        t = c.totals()
        # every old row is dropped or matched, every new row added or matched
        assert t["dropped"] + t["changed"] + t["unchanged"] == builds[0].frame.height
        assert t["added"] + t["changed"] + t["unchanged"] == builds[1].frame.height
        assert t["unchanged"] > 0  # a quarter later most events are the same events
        months = c.counts.filter(pl.col("dimension") == "month")
        assert months["count_b"].sum() > 0

        # Two people in the feedback whose records lack a number before it arrives.
        feedback = next(info.feedback_dir.glob("*.csv"))
        found = read_feedback(feedback, LAYOUT).filter(pl.col("match_basis") != "NO_MATCH")
        (p1, n1), (p2, n2) = found.select("la_person_id", "nhs_number_found").head(2).rows()
        _set_number(info.db, p1, None)
        _set_number(info.db, p2, None)

        res = ingest(h, feedback, LAYOUT, base / "quarantine", persons=_persons(info.db))
        assert sum(res.rejected.values()) == 0
        assert (res.items, res.no_match) == (found.height, res.rows - found.height)
        assert res.resolved_at_once == found.height - 2  # the others already hold theirs
        assert sorted(h.open_feedback()["person_id"].to_list()) == sorted([p1, p2])

        # The council records p1's number, and a different (valid) one for p2.
        _set_number(info.db, p1, n1)
        _set_number(info.db, p2, "9434765919" if n2 != "9434765919" else "4010232137")
        with h.run("nightly") as run:
            assert resolve(h, _persons(info.db), run.id) == {"resolved": 1, "conflict": 1}
        assert h.open_feedback().select("person_id", "status").rows() == [(p2, "conflict")]


def _set_number(db: Path, person: str, number: str | None) -> None:
    with sqlite3.connect(db) as con:
        con.execute("UPDATE persons SET nhs_number = ? WHERE person_id = ?", (number, int(person)))


def test_cli_feedback_checked_against_the_case_database(council) -> None:
    from typer.testing import CliRunner

    from pipelines.cli import app

    base, info, _builds = council
    feedback = next(info.feedback_dir.glob("*.csv"))
    out = CliRunner().invoke(
        app,
        ["--config", str(base / "cld.toml"), "feedback", str(feedback), "--case-db",
         "--period", "2025-26Q3"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "rows skipped" in out.output and "0 rows skipped" in out.output
    rows = read_feedback(feedback, LAYOUT).height
    assert f"{feedback.name}: {rows} rows" in out.output
    assert "to (no team)" not in out.output  # every person routed by current allocation


def _config_with_history(base: Path, name: str) -> Path:
    """The council's cld.toml with its own history file and quarantine folder (each test takes
    the file in once; a shared quarantine folder would mix their set-aside files)."""
    text = (base / "cld.toml").read_text(encoding="utf-8")
    path = base / f"{name}.toml"
    text = text.replace("[paths]\n", f'[paths]\nhistory_db = "{base / (name + ".duckdb")}"\n')
    text = text.replace(f'quarantine_dir = "{base / "quarantine"}"',
                        f'quarantine_dir = "{base / (name + "_quarantine")}"')
    path.write_text(text, encoding="utf-8")
    return path


def _record(db: Path, res) -> None:
    with History.open(db) as h, h.run("build", "2025-26Q3", res.summary["release"]) as run:
        run.add_submission(res.path, res.frame)


def test_cli_takes_in_the_samples_own_feedback_file(council) -> None:
    """`cld feedback FILE` as documented: checked against the latest submission. The people
    it names who are not in that submission are set aside (counted, kept), the rest taken
    in, and history records an ok run."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    base, info, builds = council
    cfg = _config_with_history(base, "own_feedback")
    _record(base / "own_feedback.duckdb", builds[1])
    feedback = next(info.feedback_dir.glob("*.csv"))
    rows = read_feedback(feedback, LAYOUT)
    in_file = set(builds[1].frame["LA_Person_Unique_Identifier"].to_list())
    gone = rows.filter(~pl.col("la_person_id").is_in(list(in_file))).height
    assert gone / rows.height > LAYOUT.max_invalid_share  # would have quarantined the file
    out = CliRunner().invoke(app, ["--config", str(cfg), "feedback", str(feedback)])
    assert out.exit_code == 0, out.output
    assert f"{rows.height} rows;" in out.output and "0 rows skipped" in out.output
    assert f"{gone} set aside" in out.output
    quarantine = base / "own_feedback_quarantine"
    assert not list(quarantine.glob(f"*_{feedback.name}"))  # not quarantined
    (kept,) = quarantine.glob(f"*_{feedback.stem}.set_aside.csv")
    assert pl.read_csv(kept, infer_schema=False).height == gone
    with History.open(base / "own_feedback.duckdb") as h:
        status = h.con.execute("SELECT status FROM runs WHERE kind = 'feedback'").fetchall()
        assert status == [("ok",)]
        items = h.feedback_items()
    assert (
        items.height
        == rows.height
        - gone
        - rows.filter(
            (pl.col("match_basis") == "NO_MATCH") & pl.col("la_person_id").is_in(list(in_file))
        ).height
    )
    needed = items.filter(pl.col("action_needed")).height
    assert f"for teams to act on: {needed}" in out.output
    assert needed < items.height  # the numbers the council already holds are not counted


def test_cli_case_db_default_period_is_the_submitted_one(council) -> None:
    """With --case-db and no --period the people come from the latest submission's period,
    not from today's quarter: the same result as naming that period."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    base, info, builds = council
    feedback = next(info.feedback_dir.glob("*.csv"))
    outputs = []
    for name, extra in (("default_period", []), ("named_period", ["--period", "2025-26Q3"])):
        cfg = _config_with_history(base, name)
        _record(base / f"{name}.duckdb", builds[1])
        out = CliRunner().invoke(
            app, ["--config", str(cfg), "feedback", str(feedback), "--case-db", *extra]
        )
        assert out.exit_code == 0, out.output
        outputs.append(out.output.splitlines()[0])
    assert outputs[0] == outputs[1]
