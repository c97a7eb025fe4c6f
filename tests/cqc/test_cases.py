"""The 50-case draw and its printable summaries, on the sample council (its planted
transition, autism, learning-disability, mental-health, carer and older cases) and in
headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import load_config
from pipelines.cqc import cases
from pipelines.cqc.pack import Pack, from_config
from pipelines.period import Period
from pipelines.sample import small_council
from tests.flows.conftest import write_config
from tests.outputs import chromium


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("cqcsample")
    return small_council(base, people=1500, defects=0), base


@pytest.fixture(scope="module")
def pack(sample) -> Pack:
    info, base = sample
    cfg = load_config(write_config(base / "cfg", sample_db=info.db, feeds=info.feeds_dir))
    return from_config(cfg, Period.parse("2025-26Q4"))


def test_every_figure_counts_exactly_the_planted_cases(sample, pack: Pack) -> None:
    """The sample's manifest (pipelines/sample/cqc.py) says which planted people each figure
    counts, with their days; the pack counts exactly those among the planted people, and
    every figure is non-trivial on the whole sample."""
    info, _ = sample
    man = json.loads(info.cqc_manifest.read_text(encoding="utf-8"))
    assert man["as_at"] == pack.as_at.isoformat()
    planted = set(range(man["person_ids"]["from"], man["person_ids"]["to"] + 1))
    assert len(planted) == man["people"]
    assert set(man["figures"]) == set(pack.items)
    for fid, it in pack.items.items():
        want = {int(k): v for k, v in man["figures"][fid].items()}
        counted = it.filter(pl.col("counted"))
        got = {p: d for p, d in counted.select("person_id", "days").rows() if p in planted}
        assert got == want, fid
        assert man["planted"][fid] == len(want) > 0
        assert counted.height >= len(want)
    strata = cases.pool(pack).filter(pl.col("person_id").is_in(list(planted)))
    by = dict(strata.select("person_id", "stratum").rows())
    for stratum, people in man["strata"].items():
        assert {by.get(p) for p in people} == {stratum}, stratum


def test_draw_has_the_strata_and_is_reproducible(pack: Pack) -> None:
    a = cases.draw(pack, 1)
    assert a.height == 50
    assert a["person_id"].n_unique() == 50
    drawn_as = a["drawn_as"].to_list()
    for s in cases.STRATA:
        # 8 per stratum, counting fills made for a short stratum
        assert sum(1 for d in drawn_as if d == s or d.startswith(f"{s} (filled")) == 8, s
    assert drawn_as.count("longest waiting") == 2
    longest = a.filter(pl.col("drawn_as") == "longest waiting")["person_id"].to_list()
    waiting = pl.concat([pack.items[f] for f in ("W1", "W2", "W3")])
    top = waiting.filter(~pl.col("person_id").is_in(a.filter(
        pl.col("drawn_as") != "longest waiting")["person_id"].implode()))["days"].max()
    assert waiting.filter(pl.col("person_id").is_in(longest))["days"].max() == top
    assert a.equals(cases.draw(pack, 1))
    b = cases.draw(pack, 2)
    assert set(b["person_id"]) != set(a["person_id"])


def test_short_stratum_is_filled_from_the_largest(pack: Pack) -> None:
    pool = cases.pool(pack)
    sizes = pool.group_by("stratum").len()
    largest = sizes.filter(pl.col("stratum").is_not_null()).sort("len").tail(1)["stratum"][0]
    thin = pack
    thin_items = cases.pool(thin).filter(pl.col("stratum") == "transition")
    assert thin_items.height >= 1
    # drop all but 3 transition people from the pool: 5 fills come from the largest stratum
    keep = set(thin_items["person_id"].head(3))
    original = cases.pool

    def fewer(p: Pack) -> pl.DataFrame:
        got = original(p)
        return got.filter((pl.col("stratum") != "transition")
                          | pl.col("person_id").is_in(list(keep)))

    cases.pool = fewer
    try:
        d = cases.draw(pack, 1)
    finally:
        cases.pool = original
    fills = d.filter(pl.col("drawn_as").str.starts_with("transition (filled"))
    assert fills.height == 5 and set(fills["stratum"]) == {largest}
    assert d.height == 50


@pytest.mark.skipif(not chromium.available() and not os.environ.get("CI"),
                    reason="Debian chromium missing")
def test_case_summaries_render_offline(pack: Pack, tmp_path: Path) -> None:
    drawn = cases.draw(pack, 1)
    index = cases.write_summaries(pack, drawn, tmp_path / "cases")
    assert len(list((tmp_path / "cases").glob("case_*.html"))) == 50
    shot = Path(__file__).resolve().parents[2] / "docs" / "img" / "cqc_case_summary.png"
    visit = chromium.visit((tmp_path / "cases" / "case_01.html").as_uri(), screenshot=shot)
    assert not visit.problems, visit.problems
    assert [r for r in visit.requests if not r.startswith("file:")] == []
    assert "Case 1: person" in visit.text and "OFFICIAL-SENSITIVE" in visit.text
    whole = chromium.visit(index.as_uri())
    assert not whole.problems and whole.text.count("OFFICIAL-SENSITIVE") == 50
    # printed, each case is one page
    pdf = tmp_path / "cases.pdf"
    subprocess.run([chromium.CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-first-run", "--disable-background-networking",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}",
                    index.as_uri()], check=True, capture_output=True, timeout=120)
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == 50
    listed = cases.case_list(pack, drawn)
    masked = cases.masked(listed)
    assert not set(masked["person id"]) & set(listed["person id"])
