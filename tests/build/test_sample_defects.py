"""Defects the sample injects that the build itself must surface (detected_by ``transform`` and
``feed_contract`` / ``feed_matching`` in the manifest): unmapped local codes in the summary with
the code and field, broken feed files in quarantine, unmatched feed rows counted."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.build import build
from pipelines.config import load_config
from pipelines.period import Period
from pipelines.sample import generate
from tests.build.test_sample_build import _config


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("defects")
    info = generate(base / "sample" / "council.db", people=600, seed=11, defects=1)
    cfg = load_config(_config(base, info.db, info.feeds_dir))
    manifest = pl.read_csv(info.manifest, infer_schema=False)
    return manifest, build(cfg, Period.parse(info.defect_periods[-1]))


def test_every_unmapped_code_defect_is_reported(built) -> None:
    manifest, res = built
    wanted = manifest.filter(pl.col("kind") == "unmapped_local_code")
    assert wanted.height >= 1
    reported = {(u["field"], u["code"]) for u in res.summary["unmapped"]}
    for field, detail in wanted.select("cld_field", "detail").iter_rows():
        code = detail.split("=", 1)[1]
        assert (field, code) in reported, (field, code)


def test_broken_feed_files_are_quarantined_and_unmatched_rows_counted(built) -> None:
    manifest, res = built
    broken = set(manifest.filter(pl.col("kind") == "malformed_feed_file")["record_key"])
    assert broken
    assert {q["file"] for q in res.summary["feeds"]["quarantined"]} == broken
    unmatched = manifest.filter(pl.col("kind") == "feed_unmatched_person").height
    assert res.summary["feeds"]["unmatched_rows"] >= unmatched >= 1
    qdir = Path(res.summary["feeds"]["quarantined"][0]["moved_to"]).parent
    assert all((qdir / f"{name}.reason.txt").exists() for name in broken)
