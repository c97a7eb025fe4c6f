"""Shared inputs for the corpus: one small sample council, its built file and a recorded
run, each made once per session and copied (never changed) by the cases."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.corpus.harness import run_cld


@dataclass
class Council:
    folder: Path
    config: Path
    db: Path
    feeds: Path
    period: str
    built: Path  # the submission file the build wrote
    history: Path  # a history with one recorded quarterly run (for feedback cases)
    feedback: Path  # the sample's own feedback file


@pytest.fixture(scope="session")
def council(tmp_path_factory: pytest.TempPathFactory) -> Council:
    from pipelines.sample import small_council
    from tests.flows.conftest import write_config

    folder = tmp_path_factory.mktemp("corpus-council")
    info = small_council(folder, people=300, seed=11, defects=2)
    feeds = folder / "feeds"
    shutil.copytree(info.feeds_dir, feeds)
    config = write_config(folder, sample_db=Path(info.db), feeds=feeds)
    period = info.defect_periods[-1]
    res = run_cld(["-c", str(config), "run", "quarterly", "--period", period, "--build-anyway"])
    assert res.traceback is None and res.code in (0, 1), res.text
    built = next((folder / "out").glob("cld_*.csv"))
    feedback = next(Path(info.feedback_dir).glob("*.csv"))
    return Council(folder, config, Path(info.db), feeds, period, built,
                   folder / "out" / "history.duckdb", feedback)  # fmt: skip
