"""The sample council's provider feeds: a clean sample reads without a finding, and every feed
defect the sample injects (its manifest) is found by the contract check or the matching."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import polars as pl

from pipelines.period import Period
from pipelines.sample import small_council
from pipelines.source.extract import extract
from pipelines.source.feeds import read_feeds

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "data" / "sample" / "contracts"
SQL_DIR = ROOT / "sql" / "extract"
ROOT_KINDS = ROOT / "data" / "sample" / "defect_kinds.csv"


def _data_rows(path: Path) -> int:
    """Data rows of a feed file, counted independently of pipelines.source.feeds."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path, read_only=True)
        rows = [r for r in wb.active.iter_rows(values_only=True) if any(v is not None for v in r)]
        wb.close()
        return len(rows) - 1
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp1252")
    return sum(1 for r in csv.reader(text.splitlines()) if r) - 1


def _persons(info) -> pl.DataFrame:
    period = Period.containing(info.reference_date)
    return extract(info.url, period, SQL_DIR)["person_index"]


def test_a_clean_sample_reads_without_findings(tmp_path: Path) -> None:
    info = small_council(tmp_path, people=300, defects=0)
    files = sorted(p for p in info.feeds_dir.iterdir() if p.is_file())
    rows_in = sum(_data_rows(p) for p in files)
    result = read_feeds(info.feeds_dir, CONTRACTS, tmp_path / "quarantine", _persons(info))
    assert result.quarantined == []
    assert sorted(result.processed) == [p.name for p in files]
    assert result.unmatched.height == 0
    assert result.conflicts.height == 0
    assert result.row_errors.height == 0
    assert sum(f.height for f in result.frames.values()) == rows_in > 0
    assert {"carers", "equipment"} == set(result.frames)
    assert all(f["_person_id"].null_count() == 0 for f in result.frames.values())


def test_the_sample_feed_defects_are_found(tmp_path: Path) -> None:
    # 800 people: enough feed rows in the defect window (April-June 2025) for every feed defect
    # kind (at 500 and 600, seed 1 leaves too few carers' rows with a gender for both rounds)
    info = small_council(tmp_path, people=800)
    manifest = pl.read_csv(info.manifest, infer_schema=False)
    feed = manifest.filter(pl.col("detected_by").is_in(["feed_matching", "feed_contract"]))
    # every feed defect kind of the list of record is injected (a skip here hid a generator
    # that stopped injecting them)
    kinds = pl.read_csv(ROOT_KINDS).filter(
        pl.col("detected_by").is_in(["feed_matching", "feed_contract"])
    )["kind"]
    assert set(kinds) and set(kinds) <= set(feed["kind"]), sorted(set(kinds) - set(feed["kind"]))
    n_files = sum(1 for p in info.feeds_dir.iterdir() if p.is_file())
    result = read_feeds(info.feeds_dir, CONTRACTS, tmp_path / "quarantine", _persons(info))
    assert len(result.processed) + len(result.quarantined) == n_files
    quarantined = {q.file for q in result.quarantined}
    unmatched = {f"{r['file']}:{r['line']}" for r in result.unmatched.iter_rows(named=True)}
    conflicts = {
        (f"{r['file']}:{r['line']}", r["kind"]) for r in result.conflicts.iter_rows(named=True)
    }
    missed = []
    for r in feed.iter_rows(named=True):
        key, kind = r["record_key"], r["kind"]
        if kind == "malformed_feed_file":
            found = Path(key.split(":")[0]).name in quarantined
        elif kind == "feed_unmatched_person":
            found = key in unmatched
        else:
            found = (key, kind) in conflicts
        if not found:
            missed.append((kind, key))
    assert missed == []
