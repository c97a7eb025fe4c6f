"""End-to-end builds: the golden-journey council loaded into a real database (SQLite, PostgreSQL
through psycopg, PostgreSQL through ODBC), provider files with one broken file, the CLI."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from pipelines.build import BuildError, build
from pipelines.cli import app
from pipelines.config import load_config
from pipelines.period import Period
from pipelines.source.tables import metadata
from tests.transform.test_journeys import EXPECTED, MAPPINGS, TABLES
from tests.transform.world import world

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2024-25Q3"

CARERS_OK = """Record ID,Carer NHS Number,Carer Council ID,Carer Surname,Carer Date of Birth,\
Carer Postcode,Cared For Council ID,Activity Type,Activity Start Date,Activity End Date,\
Support Type,Outcome,Hours Caring per Week
CC1,,4,Ames,02/02/1945,,1,ASSESSMENT,01/06/2024,05/06/2024,,SUPPORT_PLAN,
CC5,,999,Nobody,,,,ASSESSMENT,01/06/2024,05/06/2024,,,
"""
# 'Order No' instead of 'Order Number', and a date that is not a date: breaks the contract
EQUIPMENT_BAD = """Order No,NHS Number,Client ID,Client Surname,Date of Birth,Item Code,\
Item Description,Quantity,Status,Delivery Date,Installation Date,Collection Date,Unit Cost
EQ1,,1,Ames,06/05/1940,BATH01,Bath lift,1,INSTALLED,yesterday,,,120.5
"""


def load_world(url: str, tables: dict | None = None) -> None:
    engine = sa.create_engine(url)
    frames = world(**(tables or TABLES))
    with engine.begin() as conn:
        metadata.create_all(conn)
        for table in metadata.sorted_tables:
            rows = frames[table.name].to_dicts()
            if rows:
                conn.execute(table.insert(), rows)
    engine.dispose()


def write_config(base: Path, db: Path) -> Path:
    feeds = base / "feeds"
    feeds.mkdir(exist_ok=True)
    (feeds / "carers_2024-06.csv").write_text(CARERS_OK, encoding="utf-8")
    (feeds / "equipment_2024-06.csv").write_text(EQUIPMENT_BAD, encoding="utf-8")
    cfg = base / "cld.toml"
    cfg.write_text(
        f"""
[council]
la_code = "999"
name = "Journeys"
[paths]
output_dir = "{base / 'out'}"
quarantine_dir = "{base / 'quarantine'}"
mappings_dir = "{MAPPINGS}"
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
    return cfg


@pytest.fixture(scope="module")
def sqlite_build(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("build")
    db = base / "council.db"
    load_world(f"sqlite:///{db}")
    cfg = load_config(write_config(base, db))
    return base, cfg, build(cfg, Period.parse(PERIOD))


def test_file_and_summary_written(sqlite_build) -> None:
    base, _cfg, res = sqlite_build
    assert res.path == base / "out" / "cld_999_2024-25Q3_R1.csv"
    assert res.summary_path == base / "out" / "cld_999_2024-25Q3_R1.summary.json"
    back = pl.read_csv(res.path, encoding="windows-1252", infer_schema=False)
    refs = set(back.get_column("Event Reference").drop_nulls().to_list())
    assert refs == {k for k in EXPECTED if not k.startswith("relationship")} | {"CC1"}
    assert back.height == len(EXPECTED) + 1


def test_summary_counts_without_personal_data(sqlite_build) -> None:
    _base, _cfg, res = sqlite_build
    s = json.loads(res.summary_path.read_text(encoding="utf-8"))
    assert s["rows"] == len(EXPECTED) + 1
    assert s["rows_by_event_type_and_month"]["Service"]["open"] == 4
    assert s["unmapped"] == [{"mapping": "gender.csv", "field": "Gender", "code": "X9", "rows": 2}]
    assert s["excluded"]["out_of_scope_step_type"] == 2
    assert s["feeds"]["processed"] == ["carers_2024-06.csv"]
    assert s["feeds"]["unmatched_rows"] == 1
    assert set(s["seconds"]) == {"extract", "feeds", "transform", "write"}
    text = res.summary_path.read_text(encoding="utf-8")
    for pid in ("9434765919", "Alice", "Ames", "1940-05-06", "OL2 2BB"):
        assert pid not in text


def test_bad_feed_file_lands_in_quarantine_with_a_reason(sqlite_build) -> None:
    base, _cfg, res = sqlite_build
    assert [q.file for q in res.quarantined] == ["equipment_2024-06.csv"]
    s = res.summary
    assert s["feeds"]["quarantined"][0]["file"] == "equipment_2024-06.csv"
    assert "Order Number" in s["feeds"]["quarantined"][0]["reason"]
    moved = list((base / "quarantine").rglob("equipment_2024-06.csv"))
    reasons = list((base / "quarantine").rglob("equipment_2024-06.csv.reason.txt"))
    assert len(moved) == 1 and len(reasons) == 1
    assert not (base / "feeds" / "equipment_2024-06.csv").exists()


@pytest.mark.postgres
def test_postgres_psycopg_and_odbc_give_the_same_file(sqlite_build, pg_server, tmp_path) -> None:
    _base, cfg, res = sqlite_build
    pg_server.create_database("build_journeys")
    load_world(pg_server.sqlalchemy_url("build_journeys"))
    expected = res.path.read_bytes()
    via_psycopg = build(
        cfg, Period.parse(PERIOD), source=pg_server.sqlalchemy_url("build_journeys"), out=tmp_path / "pg.csv"
    )
    assert via_psycopg.path.read_bytes() == expected
    via_odbc = build(
        cfg, Period.parse(PERIOD), source=pg_server.odbc_connection_string("build_journeys"),
        out=tmp_path / "odbc.csv",
    )
    assert via_odbc.path.read_bytes() == expected


def test_release_2_and_database_headers_and_gzip(sqlite_build, tmp_path: Path) -> None:
    _base, cfg, _res = sqlite_build
    res = build(cfg, Period.parse(PERIOD), release="R2", header_style="database", out=tmp_path / "r2.csv",
                gzip=True)
    assert res.path.name == "r2.csv.gz"
    raw = gzip.decompress(res.path.read_bytes())
    back = pl.read_csv(raw, encoding="windows-1252", infer_schema=False)
    assert "Client_Type" in back.columns and "First_Name" not in back.columns
    assert "Service user" in back.get_column("Client_Type").to_list()


def test_missing_sample_database_is_a_clear_error(tmp_path: Path) -> None:
    cfg = load_config(write_config(tmp_path, tmp_path / "nope.db"))
    with pytest.raises(BuildError, match="does not exist: run `cld sample`"):
        build(cfg, Period.parse(PERIOD))
    assert not (tmp_path / "nope.db").exists()


def test_cli_build(sqlite_build, tmp_path: Path) -> None:
    base, _cfg, _res = sqlite_build
    out = tmp_path / "cli.csv"
    r = CliRunner().invoke(
        app, ["--config", str(base / "cld.toml"), "build", "--period", PERIOD, "--out", str(out)]
    )
    assert r.exit_code == 0, r.output
    assert f"submission file: {out}" in r.output
    assert out.exists() and (tmp_path / "cli.summary.json").exists()
    assert "9434765919" not in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2024-25Q5"], "is not of the form"),
        (["--period", PERIOD, "--release", "R3"], "--release 'R3'"),
        (["--period", PERIOD, "--source", "postgresql+psycopg://u@127.0.0.1:1/none"],
         "cannot read the case-management database"),
    ],
)
def test_cli_errors_are_clear(sqlite_build, args: list[str], message: str,
                              monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import pipelines.source.extract as extract_mod

    monkeypatch.setattr(extract_mod.time, "sleep", lambda s: None)  # no waiting between retries
    base, _cfg, _res = sqlite_build
    from pipelines.cli import main

    monkeypatch.setattr("sys.argv", ["cld", "--config", str(base / "cld.toml"), "build", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_unwritable_value_fails_the_build_and_keeps_the_old_file(sqlite_build, tmp_path) -> None:
    _base, cfg, res = sqlite_build
    tables = dict(TABLES)
    tables["persons"] = [
        {**p, "last_name": "Nguyễn"} if p["person_id"] == 4 else p for p in TABLES["persons"]
    ]
    db = tmp_path / "bad.db"
    load_world(f"sqlite:///{db}", tables)
    before = res.path.read_bytes()
    with pytest.raises(BuildError, match=r"not written: row \d+, field Last_Name") as err:
        build(cfg, Period.parse(PERIOD), source=f"sqlite:///{db}", out=res.path)
    assert "Nguy" not in str(err.value)
    assert res.path.read_bytes() == before
