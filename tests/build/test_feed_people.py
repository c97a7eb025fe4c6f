"""Provider-feed rows carry the person's details and team in every quarter.

The extract reads person details for people with case activity touching the window; someone
on a long equipment loan can have all of it before the window yet still be in the file
through the feed (the 2025-26Q4 sample: every such row had lost its ethnicity, support reason,
address and team). The build reads those people's details in a second pass. Built through the
real path: the sample council on the suite's PostgreSQL.
"""

from __future__ import annotations

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.build import build
from pipelines.config import load_config
from pipelines.period import Period
from pipelines.sample import generate
from tests.build.test_sample_build import _config

PEOPLE, SEED = 300, 5
QUARTERS = ("2025-26Q3", "2025-26Q4")  # Q4: two equipment people outside the window
PERSON_FIELDS = (
    "Ethnicity",
    "Gender",
    "Date_of_Birth",
    "Postcode",
    "Accommodation_Status",
    "Primary_Support_Reason",
)


@pytest.fixture(scope="module")
def pg_builds(pg_server, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("feed_people")
    pg_server.create_database("feed_people")
    url = pg_server.sqlalchemy_url("feed_people")
    info = generate(url, people=PEOPLE, seed=SEED, defects=0, out_dir=base / "sample")
    cfg = load_config(_config(base, base / "unused.db", info.feeds_dir))
    builds = {q: build(cfg, Period.parse(q), source=url, out=base / f"{q}.csv") for q in QUARTERS}
    with sa.create_engine(url).connect() as conn:
        alloc = pl.DataFrame(
            conn.execute(sa.text("SELECT person_id, start_date FROM allocations")).fetchall(),
            schema={"person_id": pl.Int64, "start_date": pl.Date},
            orient="row",
        )
    return builds, alloc


def _feed_rows(res) -> pl.DataFrame:
    return res.frame.filter(pl.col("_source").is_in(["carers_feed", "equipment_feed"]))


@pytest.mark.postgres
def test_feed_rows_keep_person_details_and_team_in_every_quarter(pg_builds) -> None:
    builds, alloc = pg_builds
    assert builds["2025-26Q4"].summary["feed_people_outside_scope"] > 0  # the case is there
    for q, res in builds.items():
        rows = _feed_rows(res)
        assert rows.height > 0, q
        for f in PERSON_FIELDS:
            assert rows.get_column(f).null_count() == 0, (q, f)
        # every feed row whose person had an allocation by the event start names a team
        starts = rows.select(
            pl.col("_person_id").cast(pl.Int64).alias("person_id"),
            pl.col("Event_Start_Date").str.to_date().alias("start"),
            "_team_id",
        )
        owned = starts.join(alloc, on="person_id").filter(pl.col("start_date") <= pl.col("start"))
        assert owned.height > 0
        assert owned.get_column("_team_id").null_count() == 0, q


@pytest.mark.postgres
def test_a_feed_person_reads_the_same_in_both_quarters(pg_builds) -> None:
    """People outside Q4's window are in Q3's: their details are the same in both files."""
    builds, _ = pg_builds
    q3, q4 = (_feed_rows(builds[q]) for q in QUARTERS)
    cols = ["LA_Person_Unique_Identifier", *PERSON_FIELDS, "_team_id"]
    both = (
        q3.select(cols)
        .unique()
        .join(q4.select(cols).unique(), on="LA_Person_Unique_Identifier", suffix="_q4")
    )
    assert both.height > 0
    for c in [*PERSON_FIELDS, "_team_id"]:
        same = both.filter(pl.col(c).eq_missing(pl.col(f"{c}_q4")))
        assert same.height == both.height, c
