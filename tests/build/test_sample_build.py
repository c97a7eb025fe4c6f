"""The sample council built three ways: SQLite (the embedded sample), PostgreSQL through psycopg
and PostgreSQL through ODBC (unixODBC + psqlodbc, read with arrow-odbc) give the same file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines.build import build
from pipelines.config import load_config
from pipelines.period import Period
from pipelines.sample import generate

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2025-26Q3"
PEOPLE, SEED = 300, 5


def _config(base: Path, db: Path, feeds: Path) -> Path:
    path = base / "cld.toml"
    path.write_text(
        f"""
[council]
la_code = "999"
[paths]
output_dir = "{base / 'out'}"
quarantine_dir = "{base / 'quarantine'}"
mappings_dir = "{ROOT / 'data' / 'sample' / 'mappings'}"
sql_dir = "{ROOT / 'sql'}"
feeds_dir = "{feeds}"
contracts_dir = "{ROOT / 'data' / 'sample' / 'contracts'}"
[source]
sample_db = "{db}"
[checks]
thresholds = "{ROOT / 'data' / 'sample' / 'thresholds.yaml'}"
[delivery]
directory = "{ROOT / 'data' / 'sample' / 'team_directory.csv'}"
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def sqlite_build(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("sample_build")
    info = generate(base / "sample" / "council.db", people=PEOPLE, seed=SEED, defects=0)
    cfg = load_config(_config(base, info.db, info.feeds_dir))
    return cfg, build(cfg, Period.parse(PERIOD))


def test_sample_build_is_a_valid_release_2_file(sqlite_build) -> None:
    _cfg, res = sqlite_build
    spec = load_spec("R2")
    assert res.summary["release"] == "R2"  # 2025-26 Q3 is after the switch
    frame = res.frame
    assert frame.height > PEOPLE  # several events per person
    assert set(frame.get_column("Event_Type").drop_nulls()) == {
        "Request", "Assessment", "Service", "Review"}
    for f in spec.field_names:
        allowed = spec.values(f)
        if allowed:
            bad = frame.filter(pl.col(f).is_not_null() & ~pl.col(f).is_in(allowed))
            assert bad.height == 0, (f, bad.get_column(f).unique().to_list()[:3])
    ends = frame.get_column("Event_End_Date").drop_nulls()
    assert ends.min() >= "2024-10-01" and ends.max() <= "2025-12-31"


@pytest.mark.postgres
def test_postgres_and_odbc_builds_match_sqlite(sqlite_build, pg_server, tmp_path) -> None:
    cfg, res = sqlite_build
    pg_server.create_database("sample_build")
    url = pg_server.sqlalchemy_url("sample_build")
    generate(url, people=PEOPLE, seed=SEED, defects=0, out_dir=tmp_path / "pg_sample")
    expected = res.path.read_bytes()
    via_psycopg = build(cfg, Period.parse(PERIOD), source=url, out=tmp_path / "psycopg.csv")
    assert via_psycopg.path.read_bytes() == expected
    via_odbc = build(
        cfg, Period.parse(PERIOD), source=pg_server.odbc_connection_string("sample_build"),
        out=tmp_path / "odbc.csv",
    )
    assert via_odbc.path.read_bytes() == expected


def test_sample_build_release_1_values_are_valid(sqlite_build, tmp_path: Path) -> None:
    cfg, _res = sqlite_build
    res = build(cfg, Period.parse("2024-25Q4"), out=tmp_path / "r1.csv")
    assert res.summary["release"] == "R1"
    spec = load_spec("R1")
    for f in spec.field_names:
        allowed = spec.values(f)
        if allowed:
            bad = res.frame.filter(pl.col(f).is_not_null() & ~pl.col(f).is_in(allowed))
            assert bad.height == 0, (f, bad.get_column(f).unique().to_list()[:3])
    assert res.frame.get_column("First_Name").null_count() < res.frame.height  # R1 has names
