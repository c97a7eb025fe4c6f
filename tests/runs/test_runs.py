"""The whole quarterly and nightly jobs from the shell (``pipelines.runs``, ``cld run``), on
the real sample council: build, checks, history, comparison, report and team lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cld_schema.errors import CldError
from pipelines import runs
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.history import History, HistoryError
from pipelines.period import Period
from pipelines.sample import small_council
from tests.flows.conftest import write_config

PERIOD = Period.parse("2025-26Q3")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("clean")
    info = small_council(base / "sample", defects=0)
    return base, info


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("defective")
    info = small_council(base / "sample")
    return base, info


def _cfg(folder: Path, info) -> object:
    return load_config(write_config(folder, sample_db=info.db, feeds=info.feeds_dir))


def _runs(cfg) -> list[dict]:
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        return h.runs().to_dicts()


def test_clean_quarter_is_placed_recorded_and_compared(clean, tmp_path: Path) -> None:
    _, info = clean
    cfg = _cfg(tmp_path, info)
    first = runs.quarterly(cfg, PERIOD, exceptions=True)
    assert first.ready and first.facts["errors"] == 0
    placed = Path(first.facts["submission file"])
    assert placed == tmp_path / "out" / "cld_999_2025-26Q3_R2.csv" and placed.exists()
    assert Path(first.facts["DQ report"]).exists()
    assert first.facts["compared with"] == "(no earlier submission)"
    assert first.facts["SALT/ASCOF figures"] > 0 and Path(first.facts["measures file"]).exists()
    assert "SALT and ASCOF preview" in Path(first.facts["DQ report"]).read_text()
    teams = list(Path(first.facts["exception lists"]).glob("*.xlsx"))
    assert teams, "every team gets a workbook (all clear ones too)"
    second = runs.quarterly(cfg, PERIOD, exceptions=False)
    assert second.facts["compared with"] == f"submission {first.facts['submission id']}"
    assert second.facts["events changed"] == 0 and second.facts["events added"] == 0
    # people read words, not key names ("events dropped_left_window")
    assert "events dropped because they left the reporting window" in second.facts
    assert not [k for k in second.facts if "_" in k]
    recorded = _runs(cfg)
    assert [r["kind"] for r in recorded] == ["build", "build"]
    assert not list((tmp_path / "out").glob(".staging-*"))


def test_blocked_quarter_is_recorded_but_not_placed(defective, tmp_path: Path) -> None:
    _, info = defective
    cfg = _cfg(tmp_path, info)
    with pytest.raises(runs.BlockedSubmission) as caught:
        runs.quarterly(cfg, PERIOD)
    outcome = caught.value.outcome
    assert outcome is not None and not outcome.ready and outcome.facts["errors"] > 0
    assert outcome.facts["submission file"] == "(not written)"
    assert not (tmp_path / "out" / "cld_999_2025-26Q3_R2.csv").exists()
    assert Path(outcome.facts["DQ report"]).exists()
    assert [r["kind"] for r in _runs(cfg)] == ["build"]
    assert _runs(cfg)[0]["shown_status"] == "blocked"  # `cld history runs` (usertest P5)
    # build anyway: written, and still reported as not ready
    anyway = runs.quarterly(cfg, PERIOD, build_anyway=True, exceptions=False)
    assert not anyway.ready and Path(anyway.facts["submission file"]).exists()


def test_dry_run_records_and_places_nothing(clean, tmp_path: Path) -> None:
    _, info = clean
    cfg = _cfg(tmp_path, info)
    outcome = runs.quarterly(cfg, PERIOD, dry_run=True)
    assert outcome.ready and outcome.facts["history"] == "(dry run: not recorded)"
    assert not list((tmp_path / "out").glob("cld_*.csv"))
    assert not (tmp_path / "out" / "history.duckdb").exists() or _runs(cfg) == []


def test_failed_recording_puts_the_earlier_file_back(clean, tmp_path: Path) -> None:
    _, info = clean
    cfg = _cfg(tmp_path, info)
    first = runs.quarterly(cfg, PERIOD, exceptions=False)
    placed = Path(first.facts["submission file"])
    placed.write_bytes(placed.read_bytes() + b"\r\n")  # mark the file in place
    before = placed.read_bytes()

    def busy(*args, **kwargs):  # the history refuses the run at the very end
        raise HistoryError("another run holds the history")

    with pytest.raises(HistoryError):
        runs.quarterly(cfg, PERIOD, exceptions=False, steps=runs.Steps(record=busy))
    assert placed.read_bytes() == before  # the new file was placed, then put back
    assert not list((tmp_path / "out").glob(".staging-*"))
    assert len(_runs(cfg)) == 1


def test_nightly_records_findings_and_delivers_lists(defective, tmp_path: Path) -> None:
    _, info = defective
    cfg = _cfg(tmp_path, info)
    outcome = runs.nightly(cfg, Period.parse("2025-26Q4").end)
    assert outcome.facts["errors"] > 0 and outcome.facts["delivered"] == outcome.facts["teams"]
    recorded = _runs(cfg)
    assert [r["kind"] for r in recorded] == ["nightly"]
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        assert h.previous_submission() is None  # nightly builds are not submissions
    delivered = list((tmp_path / "out" / "exceptions").rglob("*.xlsx"))
    assert len(delivered) >= outcome.facts["teams"]


def test_cli_run_quarterly_exit_codes(defective, clean, tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    _, bad = defective
    cfg = write_config(tmp_path / "bad", sample_db=bad.db, feeds=bad.feeds_dir)
    r = runner.invoke(app, ["--config", str(cfg), "run", "quarterly", "--period", str(PERIOD)])
    assert r.exit_code == 1, r.output
    assert "DQ report:" in r.output and "blocked:" in r.output
    _, good = clean
    cfg = write_config(tmp_path / "good", sample_db=good.db, feeds=good.feeds_dir)
    r = runner.invoke(app, ["--config", str(cfg), "run", "quarterly", "--period", str(PERIOD)])
    assert r.exit_code == 0, r.output
    assert "ready to submit" in r.output
    r = runner.invoke(app, ["--config", str(cfg), "run", "quarterly", "--period", "2025Q9"])
    # main() turns a CldError into a one-line message and exit code 2
    assert isinstance(r.exception, CldError) and "YYYY-YYQn" in str(r.exception)


def test_files_left_in_quarantine_are_reported_by_every_later_run(defective, tmp_path) -> None:
    """usertest P16: after the first run moved the broken feed files out of the feeds folder,
    later runs said "quarantined feed files: 0" and their DQ report listed none."""
    import shutil

    _, info = defective
    feeds = tmp_path / "feeds"
    shutil.copytree(info.feeds_dir, feeds)
    (feeds / "carers_zz_broken.csv").write_text("", encoding="utf-8")  # breaks its contract
    cfg = load_config(write_config(tmp_path, sample_db=info.db, feeds=feeds))
    # a dry run keeps nothing: the broken files are listed, not used, and left in place
    dry = runs.quarterly(cfg, PERIOD, dry_run=True)
    said = dry.facts["quarantined feed files"]
    assert "dry run" in said and "left in the feeds folder" in said
    assert (feeds / "carers_zz_broken.csv").exists()
    assert not (tmp_path / "out" / "quarantine").exists() or not any(
        (tmp_path / "out" / "quarantine").rglob("carers_zz_broken.csv"))
    first = runs.quarterly(cfg, PERIOD, build_anyway=True)  # a real run quarantines them
    n = first.facts["quarantined feed files"]
    assert isinstance(n, int) and n >= 1 and not (feeds / "carers_zz_broken.csv").exists()
    again = runs.quarterly(cfg, PERIOD, dry_run=True)
    said = again.facts["quarantined feed files"]
    assert isinstance(said, str) and said.startswith(f"{n} (") and "still in quarantine since" in said
    report = Path(again.facts["DQ report"]).read_text()
    assert "carers_zz_broken.csv" in report and "still in quarantine" in report
