"""The sample council, loaded into SQLite and into the suite's PostgreSQL, extracts the same."""

from __future__ import annotations

import json

import polars as pl
import pytest
import sqlalchemy as sa

from pipelines.period import Period
from pipelines.sample import generate, small_council
from pipelines.source.extract import _binds, extract
from tests.extract.conftest import SQL_DIR

pytestmark = pytest.mark.postgres

PEOPLE, SEED = 300, 3


@pytest.fixture(scope="module")
def sample_sqlite(tmp_path_factory):
    return small_council(tmp_path_factory.mktemp("sample"), people=PEOPLE, seed=SEED)


@pytest.fixture(scope="module")
def sample_pg(pg_server, tmp_path_factory) -> str:
    pg_server.create_database("sample_small")
    url = pg_server.sqlalchemy_url("sample_small")
    generate(url, size="small", people=PEOPLE, seed=SEED, out_dir=tmp_path_factory.mktemp("pg_out"))
    return "sample_small"


def test_sample_in_postgresql_extracts_as_in_sqlite(sample_sqlite, sample_pg, pg_server) -> None:
    period = Period.containing(sample_sqlite.reference_date)
    lite = extract(sample_sqlite.url, period, SQL_DIR)
    pg = extract(pg_server.sqlalchemy_url(sample_pg), period, SQL_DIR)
    odbc = extract(pg_server.odbc_connection_string(sample_pg), period, SQL_DIR)
    assert lite.keys() == pg.keys() == odbc.keys()
    assert lite["workflow_steps"].height > 0 and lite["service_agreements"].height > 0
    planted = json.loads(sample_sqlite.cqc_manifest.read_text(encoding="utf-8"))["people"]
    assert lite["person_index"].height == PEOPLE + planted  # + the CQC pack's planted cases
    for name in lite:
        assert lite[name].height == pg[name].height == odbc[name].height, name
        a, b, c = (f[name].sort(f[name].columns) for f in (lite, pg, odbc))
        assert a.equals(b) and b.equals(c), name


def test_sample_scope_keeps_what_the_transform_needs(sample_sqlite) -> None:
    period = Period.containing(sample_sqlite.reference_date)
    f = extract(sample_sqlite.url, period, SQL_DIR)
    people = set(f["persons"]["person_id"])
    steps, sa_ = f["workflow_steps"], f["service_agreements"]
    # the step each step of the window followed from is extracted too (one level back)
    lookback = _binds(period)["lookback_start"]
    window = steps.filter(
        (pl.col("started_on") <= period.end)
        & (pl.col("completed_on").is_null() | (pl.col("completed_on") >= lookback))
    )
    assert 0 < window.height < steps.height
    assert set(window["previous_step_id"].drop_nulls()) <= set(steps["step_id"])
    assert set(sa_["source_step_id"].drop_nulls()) <= set(steps["step_id"])
    # every person named by an extracted step, service or relationship is in persons
    named = (
        set(steps["person_id"])
        | set(f["service_agreements"]["person_id"])
        | set(f["service_agreements"]["cared_for_person_id"].drop_nulls())
        | set(f["carer_relationships"]["carer_person_id"])
        | set(f["carer_relationships"]["cared_for_person_id"])
    )
    assert named <= people
    # details only of extracted steps; attributes only of extracted people
    assert set(f["step_review_details"]["step_id"]) <= set(steps["step_id"])
    assert set(f["person_support_reasons"]["person_id"]) <= people
    # nothing the period needs is dropped: compare with the whole tables read directly
    whole = _whole_tables(sample_sqlite.url, ["service_agreements", "workflow_steps"])
    active = whole["service_agreements"].filter(
        (pl.col("start_date") <= period.end)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= period.start))
    )
    assert active.height > 0
    assert set(active["agreement_id"]) <= set(sa_["agreement_id"])
    completed = whole["workflow_steps"].filter(
        pl.col("completed_on").is_between(period.start, period.end)
    )
    assert completed.height > 0
    assert set(completed["step_id"]) <= set(steps["step_id"])


def _whole_tables(url: str, names: list[str]) -> dict[str, pl.DataFrame]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            out = {
                n: pl.read_database(f"SELECT * FROM {n}", conn, infer_schema_length=None)
                for n in names
            }
    finally:
        engine.dispose()
    return {
        n: f.with_columns(
            pl.col(c).str.to_date() for c in f.columns if c.endswith(("_date", "_on"))
        )
        for n, f in out.items()
    }
