"""The sample council exercises every SALT/ASCOF measure (pipelines/sample/measure_journeys.py):
on an R1 and an R2 period every figure has a non-trivial numerator and denominator, and the
breakdowns add up to the totals."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.build import build
from pipelines.config import load_config
from pipelines.measures import MEASURE_IDS, MEASURES, Edition, compute
from pipelines.period import Period
from pipelines.sample import small_council
from tests.flows.conftest import write_config

PERIODS = {"2025-26Q1": "R1", "2025-26Q3": "R2", "2025-26Q4": "R2"}
FAMILIES = ("setting: ", "PSR: ", "sequel: ", "support: ")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("measures_sample")
    info = small_council(base, people=2000, defects=0)
    cfg = load_config(write_config(base / "cfg", sample_db=info.db, feeds=info.feeds_dir))
    out = {}
    for per, release in PERIODS.items():
        p = Period.parse(per)
        built = build(cfg, p, out=base / f"{per}.csv")
        assert built.summary["release"] == release
        assert not [u for u in built.summary["unmapped"] if "CARERSUP" in str(u)]
        out[per] = compute([Edition(built.frame, p, per, release)], p)
    return out


def _figs(run) -> dict[tuple[str, str], tuple]:
    return {(m, g): (n, d) for m, g, n, d, _ in run.figures().iter_rows()}


@pytest.mark.parametrize("period", ["2025-26Q1", "2025-26Q4"])
def test_every_measure_is_non_trivial(runs, period):
    figs = _figs(runs[period])
    units = {m.id: m.unit for m in MEASURES}
    for mid in MEASURE_IDS:
        groups = [g for (m, g) in figs if m == mid and g in ("18-64", "65+", "Total")]
        assert groups, mid
        for g in groups:
            n, d = figs[(mid, g)]
            assert n > 0, (mid, g)
            if units[mid] == "percent":
                assert d is not None and d > n, (mid, g, n, d)  # neither 0% nor 100%


def test_the_interesting_cases_are_there(runs):
    q4 = _figs(runs["2025-26Q4"])
    n, d = q4[("ASCOF_2A", "Total")]
    assert n < d  # some reablement is followed by long-term support within a week
    assert q4[("SALT_STS002B", "Total")][0] > 0  # reablement for existing clients
    assert q4[("ASCOF_3D_1B", "Total")][0] > q4[("ASCOF_3D_2B", "Total")][0]  # carers' budgets
    people = runs["2025-26Q4"].results["ASCOF_2A"].people
    details = " ".join(people["detail"].to_list())
    for sequel in ("Long term support: Community", "(sequel 4a)", "(sequel 4b)"):
        assert sequel in details  # followed by long-term support / by nothing / by a request
    assert q4[("ASCOF_2C", "65+")][0] > 0 and q4[("ASCOF_2B", "18-64")][0] > 0
    # repeat admissions: more people started residential/nursing care than are new to it
    inp = runs["2025-26Q4"].inputs
    care = inp.main.filter(
        pl.col("Service_Type").is_in(["LONG_TERM_RESIDENTIAL", "LONG_TERM_NURSING"])
        & (pl.col("start") >= inp.period.start)
    )
    started = care.select("person").n_unique()
    assert started > q4[("ASCOF_2B", "18-64")][0] + q4[("ASCOF_2C", "65+")][0]


def test_accommodation_changes_between_submissions(runs):
    a = runs["2025-26Q3"].inputs.persons.select("person", pl.col("accom").alias("a"))
    b = runs["2025-26Q4"].inputs.persons.select("person", pl.col("accom").alias("b"))
    moved = a.join(b, on="person").filter(pl.col("a") != pl.col("b"))
    assert moved.height > 0


@pytest.mark.parametrize("period", list(PERIODS))
def test_breakdowns_add_up_to_totals(runs, period):
    run = runs[period]
    figs = _figs(run)
    for mid, res in run.results.items():
        total = figs.get((mid, "Total"))
        if total is None:
            continue
        # every family of breakdown rows sums to the total
        for fam in FAMILIES:
            rows = [figs[(mid, f.group)][0] for f in res.figures if f.group.startswith(fam)]
            if rows:
                assert sum(rows) == total[0], (mid, fam)
        # the age bands, and whoever of no band the total counts, make the total
        bands = [figs[(mid, g)] for g in ("18-64", "65+") if (mid, g) in figs]
        if len(bands) == 2:
            other = res.people.filter(~pl.col("group").is_in(["18-64", "65+"]))
            counted = other.filter(pl.col("in_denominator").fill_null(True))
            extra_n = counted.filter(pl.col("in_numerator")).height
            assert bands[0][0] + bands[1][0] + extra_n == total[0], mid
            if total[1] is not None:
                extra_d = other.filter(pl.col("in_denominator").fill_null(False)).height
                assert bands[0][1] + bands[1][1] + extra_d == total[1], mid
