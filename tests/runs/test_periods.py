"""Runs follow the data, as a council uses them (issue 11): the default periods, a dry run's
report and lists, a period with no events, and which submission a build is compared with.

All on the small sample council (data up to 2026-03-31), with today's real date as well."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import runs
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.history import History
from pipelines.period import Period
from pipelines.sample import DEFAULT_REFERENCE, small_council
from tests.flows.conftest import write_config


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory):
    return small_council(tmp_path_factory.mktemp("clean") / "sample", defects=0)


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory):
    return small_council(tmp_path_factory.mktemp("defective") / "sample")


def _config(folder: Path, info, reference: date | None = DEFAULT_REFERENCE) -> Path:
    return write_config(
        folder, sample_db=info.db, feeds=info.feeds_dir,
        reference_date=reference.isoformat() if reference else None,
    )  # fmt: skip


def _history_runs(cfg) -> list[dict]:
    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        return []
    with History.open(path) as h:
        return h.runs().to_dicts()


def _delivered(folder: Path) -> list[Path]:
    """What delivery left: its report, or team folders beside the runs' list folders."""
    exceptions = folder / "out" / "exceptions"
    reports = list(exceptions.rglob("delivery_report.csv")) if exceptions.exists() else []
    return reports


def test_dry_run_writes_the_report_and_lists_and_records_nothing(defective, tmp_path) -> None:
    cfg_file = _config(tmp_path, defective)
    r = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["--config", str(cfg_file), "run", "quarterly", "--dry-run"]
    )
    assert r.exit_code == 0, r.output
    # The default quarter: the latest one ended by the sample's reference date.
    assert "building 2025-26Q4" in r.output
    report = tmp_path / "out" / "reports" / "dq_report_2025-26Q4-dry-run.html"
    assert report.is_file() and "2025-26Q4" in report.read_text(encoding="utf-8")
    lists = tmp_path / "out" / "exceptions" / "2025-26Q4-dry-run"
    assert len(list(lists.glob("*.xlsx"))) >= 10  # every team of the directory
    assert "see the DQ report and the team lists" in r.output
    assert f"DQ report: {report}" in r.output
    cfg = load_config(cfg_file)
    assert not cfg.path(cfg.paths.history_db).exists(), "a dry run records nothing"
    assert not list((tmp_path / "out").glob("cld_*.csv")) and _delivered(tmp_path) == []


def test_with_the_real_date_the_empty_months_are_named_and_nothing_is_sent(
    defective, tmp_path
) -> None:
    """No reference date: today's date (2026-12-02 when written) is past the sample's data."""
    cfg = load_config(_config(tmp_path, defective, reference=None))
    today = date.today()
    dry = runs.quarterly(cfg, dry_run=True)
    assert dry.period == str(Period.latest_ended(today))
    assert "fail the national complete-month test" in dry.facts["months without events"]

    said: list[str] = []
    with pytest.raises(runs.NoEvents) as err:
        runs.nightly(cfg, progress=said.append)
    line = str(err.value)
    assert len(line.splitlines()) == 1 and "the team lists are not sent" in line
    window = Period.parse("2025-26Q4")  # the sample's data end with 2025-26
    assert f"{window.end:%Y-%m}" not in line.split("(")[1]  # its last month has data
    # Said before the lists were written (and nothing delivered after it), exactly once.
    assert said.count(line) == 1
    assert said.index(line) < said.index("writing the team exception lists")
    assert _delivered(tmp_path) == []
    [recorded] = _history_runs(cfg)
    assert recorded["kind"] == "nightly" and recorded["period"] == str(Period.containing(today))


def test_nightly_cli_on_the_real_date_exits_1_with_one_line(defective, tmp_path) -> None:
    cfg_file = _config(tmp_path, defective, reference=None)
    r = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["--config", str(cfg_file), "run", "nightly"])
    assert r.exit_code == 1
    assert r.output.count("fail the national complete-month test") == 2  # progress + verdict
    assert "Traceback" not in r.output and _delivered(tmp_path) == []


def test_the_sample_reference_date_gives_a_nightly_run_with_data(defective, tmp_path) -> None:
    cfg = load_config(_config(tmp_path, defective))
    outcome = runs.nightly(cfg)
    assert outcome.facts["rolling year"] == "2025-04-01 to 2026-03-31"
    assert "months without events" not in outcome.facts
    assert outcome.facts["delivered"] == outcome.facts["teams"] and _delivered(tmp_path)


def _compared(outcome) -> str:
    return outcome.facts["compared with"]


def test_a_build_is_compared_with_the_quarter_before_never_a_later_one(clean, tmp_path) -> None:
    """Q4 then Q2, then Q3 and a resubmission of Q4: each compared as a council expects."""
    cfg = load_config(_config(tmp_path, clean))
    q4 = runs.quarterly(cfg, Period.parse("2025-26Q4"), exceptions=False)
    q2 = runs.quarterly(cfg, Period.parse("2025-26Q2"), exceptions=False)
    assert _compared(q2) == "(no earlier submission)"  # the only earlier one is a later quarter
    report = Path(q2.facts["DQ report"]).read_text(encoding="utf-8")
    assert f"Submission {q4.submission_id} (2025-26Q4" not in report
    q3 = runs.quarterly(cfg, Period.parse("2025-26Q3"), exceptions=False)
    assert _compared(q3) == f"submission {q2.submission_id}"  # the quarter before
    again = runs.quarterly(cfg, Period.parse("2025-26Q4"), exceptions=False)
    assert _compared(again) == f"submission {q4.submission_id}"  # a resubmission: same quarter
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        assert h.previous_submission(before=q2.submission_id) is None
        assert h.previous_submission(before=again.submission_id).id == q4.submission_id


def test_in_time_order_q4_is_compared_with_q2(clean, tmp_path) -> None:
    cfg = load_config(_config(tmp_path, clean))
    q2 = runs.quarterly(cfg, Period.parse("2025-26Q2"), exceptions=False)
    q4 = runs.quarterly(cfg, Period.parse("2025-26Q4"), exceptions=False)
    # No Q3 in history: the nearest earlier quarter.
    assert _compared(q4) == f"submission {q2.submission_id}"
    assert _compared(q2) == "(no earlier submission)"
