"""From the sample council: build → checks → every team's workbook, e-mailed through a real
SMTP server, and the DQ report rendered in Chromium. Team scoping is checked against the
built CLD file itself (the owning team of each event), not against the findings."""

from __future__ import annotations

import io
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from checks import run_checks
from cld_schema import load_spec
from pipelines import thresholds as thresholds_file
from pipelines.build import build
from pipelines.config import load_config
from pipelines.outputs.delivery import SmtpSettings, deliver_by_email, load_directory
from pipelines.outputs.exceptions import write_exception_lists
from pipelines.outputs.report import ReportInputs, save_report
from pipelines.period import Period
from pipelines.runs import file_measures
from pipelines.sample import generate
from tests.build.test_sample_build import _config
from tests.outputs import chromium
from tests.outputs.smtp_server import RecordingHandler, start_server
from tests.outputs.test_report import ARTIFACTS, needs_chromium

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = ROOT / "data" / "sample" / "team_directory.csv"


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("sample_outputs")
    info = generate(base / "sample" / "council.db", people=300, seed=5, defects=True)
    cfg = load_config(_config(base, info.db, info.feeds_dir))
    built = build(cfg, Period.parse("2025-26Q3"))
    spec = load_spec(built.summary["release"])
    checked = run_checks(built.frame, spec, quantitative=False)
    directory = load_directory(DIRECTORY)
    lists = write_exception_lists(
        checked.findings, base / "lists", run_id="S1",
        teams=[(c.team_id, c.team_name) for c in directory.values()])
    return base, built.frame, spec, checked.findings, lists, directory


def _rows(path: Path, sheet: str) -> list[dict]:
    return _rows_of(openpyxl.load_workbook(path), sheet)


def test_sample_workbooks_hold_only_their_teams_events(sample_run):
    _base, frame, _spec, findings, lists, directory = sample_run
    owner = dict(frame.select(
        pl.concat_str("LA_Person_Unique_Identifier", "Event_Reference", separator="|"),
        "_team_id").iter_rows())
    assert len(lists.teams) == len(directory)  # every team in the directory heard from us
    with_issues = 0
    for team in lists.teams:
        issues = _rows(team.path, "Fixes")
        with_issues += bool(issues)
        for r in issues:  # every event of every fix is one of the team's own
            for event in r["Which events (type, reference, date)"].split("\n"):
                ref = event.split(" ")[-2]
                assert owner[f"{r['Person ID']}|{ref}"] == team.team_id
        people = {r["Person ID"] for r in _rows(team.path, "People")}
        assert people == {r["Person ID"] for r in issues if r["Person ID"]}
        for ws in openpyxl.load_workbook(team.path).worksheets:
            for row in ws.iter_rows():
                assert all(c.data_type != "f" for c in row)
    assert with_issues >= 5
    assert sum(t.events for t in lists.teams) + lists.unallocated_count == findings.height
    assert sum(t.total for t in lists.teams) < sum(t.events for t in lists.teams)  # fixes
    assert any(t.all_clear for t in lists.teams)  # the small sample uses 8 of the 15 teams


def test_sample_lists_emailed_to_each_manager(sample_run):
    _base, _frame, _spec, findings, lists, directory = sample_run
    handler = RecordingHandler()
    server = start_server(handler)
    try:
        outcomes = deliver_by_email(lists, directory, SmtpSettings(
            host="127.0.0.1", port=server.port, sender="cld@sample-council.example"),
            retries=0, backoff=0)
    finally:
        server.stop()
    assert {o.status for o in outcomes} == {"sent"}
    assert len(handler.received) == len(directory)
    people_of = {t: set(findings.filter(pl.col("team_id") == t).get_column("person_id")
                        .drop_nulls()) for t in directory}
    all_people = set(findings.get_column("person_id").drop_nulls())
    for got in handler.received:
        team = next(t for t, c in directory.items() if c.emails == got.rcpt_tos)
        part = next(got.message.iter_attachments())
        wb = openpyxl.load_workbook(io.BytesIO(part.get_content()))
        ids = {r["Person ID"] for r in _rows_of(wb, "People")}
        assert ids == people_of[team]
        body = got.message.get_body(("plain",)).get_content()
        assert not any(p in body for p in all_people if len(p) >= 5)


def _rows_of(wb, sheet: str) -> list[dict]:
    if sheet not in wb.sheetnames:
        return []
    rows = list(wb[sheet].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@needs_chromium
def test_sample_report_in_chromium(sample_run):
    base, frame, spec, findings, _lists, _directory = sample_run
    thresholds = thresholds_file.load(ROOT / "data" / "sample" / "thresholds.yaml").checks
    out = save_report(ReportInputs(findings=findings, frame=frame, spec=spec, run_id="S1",
                                   council="Sample Council (synthetic)", thresholds=thresholds,
                                   file_measures=file_measures(frame, spec)),
                      base / "report" / "dq_report.html")
    shot = base / "sample_report.png"
    visit = chromium.visit(out.as_uri(), screenshot=shot)
    assert visit.problems == [] and visit.requests == [out.as_uri()]
    errors = findings.filter(pl.col("severity") == "error").height
    assert f"NOT ready to submit: {errors:,} errors left" in visit.text
    assert "Oct 2024" in visit.text or "Jan 2025" in visit.text  # the rolling year's months
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "sample_dq_report.png")


def test_cli_period_builds_checks_and_writes_team_lists(sample_run):
    from typer.testing import CliRunner

    from pipelines.cli import app

    base, _frame, _spec, findings, _lists, directory = sample_run
    before = {p: p.stat().st_mtime_ns for p in (base / "out").glob("*2025-26Q3*")}
    res = CliRunner().invoke(app, ["-c", str(base / "cld.toml"), "exceptions", "-p",
                                   "2025-26Q3", "--out", str(base / "cli_lists")])
    assert res.exit_code == 0, res.output
    # every team in the directory (the config names it) hears, all clear or not
    teams = set(findings.get_column("team_id").drop_nulls().unique()) | set(directory)
    assert f"{len(teams)} team workbooks" in res.output
    loose = int(findings.get_column("team_id").is_null().any())  # the unallocated list
    assert len(list((base / "cli_lists").glob("*.xlsx"))) == len(teams) + loose
    # The period's submission file (written by the fixture's build) was not touched.
    assert before and before == {p: p.stat().st_mtime_ns
                                 for p in (base / "out").glob("*2025-26Q3*")}


def test_history_run_with_real_feedback_routes_items_to_their_team(sample_run):
    """Record the run in a real history, take in the sample's NHS-number feedback file, and
    `cld exceptions` puts each outstanding item in the workbook of the client's team."""
    from typer.testing import CliRunner

    from pipelines.cli import app
    from pipelines.history import History
    from pipelines.history.feedback import ingest
    from pipelines.source.feedback import FeedbackLayout

    base, frame, _spec, findings, _lists, _directory = sample_run
    feedback_file = next((base / "sample" / "feedback").glob("*.csv"))
    with sqlite3.connect(base / "sample" / "council.db") as con:
        persons = pl.read_database("SELECT person_id, nhs_number FROM persons", con)
        allocations = pl.read_database(
            "SELECT person_id, team_id, start_date, end_date FROM allocations", con)
    with History.open(base / "out" / "history.duckdb") as h:
        with h.run("build", "2025-26Q3", "R2", "test") as run:
            run.add_submission(None, frame)
            run.add_findings(findings)
        ingest(h, feedback_file, FeedbackLayout.load(ROOT / "data/sample/feedback_layout.yaml"),
               base / "quarantine", persons=persons, allocations=allocations)
        open_items = h.open_feedback()
    assert open_items.height > 0
    res = CliRunner().invoke(app, ["-c", str(base / "cld.toml"), "exceptions",
                                   "--out", str(base / "hist_lists")])
    assert res.exit_code == 0, res.output
    team_of = dict(open_items.select("person_id", "team_id").iter_rows())
    masked = dict(open_items.select("person_id", "nhs_number").iter_rows())
    allocated = set(allocations.select(pl.col("person_id").cast(pl.String),
                                       pl.col("team_id").cast(pl.String)).iter_rows())
    seen = 0
    for path in (base / "hist_lists").glob("*.xlsx"):
        team_id = path.name.split("_")[0]
        for r in _rows(path, "NHS feedback"):
            seen += 1
            assert team_of[str(r["Person ID"])] == team_id
            assert (str(r["Person ID"]), team_id) in allocated  # the client's own team
            # the traced number in full (to type into the case system), this team's only
            number = str(r["NHS Number found (record it)"])
            assert len(number) == 10 and number.isdigit()
            assert number[-3:] == masked[str(r["Person ID"])][-3:]
    assert seen > 0 and seen == open_items.filter(pl.col("team_id").is_not_null()).height
    shared = "\n".join(str(c.value) for p in (base / "hist_lists").glob("unallocated*.xlsx")
                       for ws in openpyxl.load_workbook(p).worksheets
                       for row in ws.iter_rows() for c in row)
    assert not any(n in shared for n in masked.values())
