"""The sample loads into a real PostgreSQL server, renders SQL Server DDL, and runs from the CLI."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.sample import generate
from pipelines.sample.targets import render_ddl
from pipelines.source.tables import metadata


@pytest.mark.postgres
def test_postgres_load_matches_sqlite(pg_server, tmp_path, clean_council):
    pg_server.create_database("sample_pg")
    url = pg_server.sqlalchemy_url("sample_pg")
    info = generate(url, people=800, seed=7, defects=0, out_dir=tmp_path / "out")
    assert info.db is None
    engine = create_engine(url)
    with engine.connect() as conn, sqlite3.connect(clean_council.db) as lite:
        for table in metadata.sorted_tables:
            n_pg = conn.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar_one()
            n_lite = lite.execute(f"SELECT COUNT(*) FROM {table.name}").fetchone()[0]
            assert n_pg == n_lite == info.counts[table.name], table.name
        total = conn.execute(text("SELECT SUM(unit_cost) FROM service_agreements")).scalar_one()
        lite_total = lite.execute("SELECT SUM(unit_cost) FROM service_agreements").fetchone()[0]
        assert float(total) == pytest.approx(lite_total)
        dead = conn.execute(
            text(
                "SELECT COUNT(*) FROM persons WHERE date_of_death IS NOT NULL "
                "AND date_of_death > date_of_birth"
            )
        ).scalar_one()
        assert dead > 0
    engine.dispose()


def test_mssql_ddl_renders_every_table():
    ddl = render_ddl("mssql")
    for table in metadata.sorted_tables:
        assert f"CREATE TABLE {table.name} (" in ddl
    assert "DATE" in ddl and "BIT" in ddl and "IDENTITY" not in ddl


def test_cli_writes_the_default_files(tmp_path, monkeypatch):
    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\n[source]\nsample_db = "out/sample/council.db"\n')
    result = CliRunner().invoke(
        app, ["--config", str(cfg), "sample", "--people", "300", "--seed", "2"]
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "out" / "sample"
    assert (out / "council.db").exists() and (out / "defects.csv").exists()
    assert any((out / "feeds").iterdir()) and any((out / "feedback").iterdir())
    result = CliRunner().invoke(app, ["--config", str(cfg), "sample", "--ddl", "mssql"])
    assert result.exit_code == 0 and "CREATE TABLE persons" in result.output
    result = CliRunner().invoke(app, ["--config", str(cfg), "sample", "--size", "gigantic"])
    from cld_schema.errors import CldError

    assert isinstance(result.exception, CldError)
    assert "unknown size 'gigantic'" in str(result.exception)  # --size checked before the refusal


def test_cli_refuses_to_replace_an_existing_sample_unless_asked(tmp_path):
    """P8: a second ``cld sample`` on the default SQLite target stops in one line and leaves the
    sample as it was; ``--replace`` makes the new one."""
    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\n[source]\nsample_db = "out/sample/council.db"\n')
    base = ["--config", str(cfg), "sample", "--people", "60", "--defects", "0"]
    assert CliRunner().invoke(app, [*base, "--seed", "2"]).exit_code == 0
    db = tmp_path / "out" / "sample" / "council.db"
    before = db.read_bytes()
    result = CliRunner().invoke(app, [*base, "--seed", "3"])
    from cld_schema.errors import CldError

    assert isinstance(result.exception, CldError)
    text = str(result.exception)
    assert "already holds a sample council: add --replace" in text and "\n" not in text
    assert db.read_bytes() == before
    result = CliRunner().invoke(app, [*base, "--seed", "3", "--replace"])
    assert result.exit_code == 0, result.output
    assert db.read_bytes() != before


@pytest.mark.postgres
def test_generic_sqlalchemy_path_loads_a_server(pg_server, tmp_path, monkeypatch):
    """The batched-insert path used for servers without COPY (e.g. SQL Server), on PostgreSQL."""
    from pipelines.sample import generator, targets

    pg_server.create_database("sample_generic")
    url = pg_server.sqlalchemy_url("sample_generic")
    monkeypatch.setattr(generator, "open_target", lambda u, replace=False: targets.SqlAlchemyTarget(str(u), replace))
    info = generate(url, people=120, seed=3, defects=0, out_dir=tmp_path / "out")
    engine = create_engine(url)
    with engine.connect() as conn:
        for name in ("persons", "workflow_steps", "service_agreements"):
            n = conn.execute(text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
            assert n == info.counts[name] > 0
    engine.dispose()


def test_unreachable_server_is_a_clear_error(tmp_path):
    from pipelines.sample.targets import TargetError

    url = "postgresql+psycopg://someone:s3cret@127.0.0.1:1/nowhere"
    with pytest.raises(TargetError, match="cannot load the sample into") as err:
        generate(url, people=60, out_dir=tmp_path / "out")
    assert "s3cret" not in str(err.value)


@pytest.mark.postgres
def test_cli_refuses_to_overwrite_a_loaded_database_unless_replace(pg_server, tmp_path):
    """`cld sample --to URL` once silently turned a loaded council into a smaller one."""
    pg_server.create_database("sample_twice")
    url = pg_server.sqlalchemy_url("sample_twice")
    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\n', encoding="utf-8")
    base = ["--config", str(cfg), "sample", "--to", url, "--defects", "0", "--out", str(tmp_path / "o")]

    def persons() -> int:
        engine = create_engine(url)
        with engine.connect() as conn:
            n = conn.execute(text("SELECT COUNT(*) FROM persons")).scalar_one()
        engine.dispose()
        return n

    first = CliRunner().invoke(app, [*base, "--people", "150", "--seed", "4"])
    assert first.exit_code == 0, first.output
    before = persons()
    again = CliRunner().invoke(app, [*base, "--people", "60"])
    from cld_schema.errors import CldError

    assert isinstance(again.exception, CldError), again.output
    message = str(again.exception)
    assert "already holds the sample's tables" in message and "--replace" in message
    assert f"{before:,} people" in message
    assert persons() == before, "the loaded council must be untouched"
    replaced = CliRunner().invoke(app, [*base, "--people", "60", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert persons() < before


def test_missing_database_driver_says_what_to_install(tmp_path, monkeypatch):
    """usertest P2: after the README's install, ``cld sample --to postgresql+psycopg://...``
    said only "No module named 'psycopg'". psycopg is now a main dependency; a driver that is
    missing all the same gets one line naming the package and the pip command for this venv."""
    import sys
    import tomllib
    from pathlib import Path

    from cld_schema.errors import CldError
    from pipelines.source.extract import ExtractError, resolve_source

    root = Path(__file__).resolve().parents[2]
    deps = tomllib.loads((root / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "psycopg[binary]==3.3.9" in [d.split("#")[0].strip() for d in deps]
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as in a venv without it
    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\n')
    r = CliRunner().invoke(app, ["--config", str(cfg), "sample", "--to",
                                 "postgresql+psycopg://cld:s3cret@127.0.0.1:9/council",
                                 "--out", str(tmp_path / "s")])
    assert isinstance(r.exception, CldError), r.output
    text = str(r.exception)
    assert "\n" not in text and "s3cret" not in text
    assert f"{sys.executable} -m pip install 'psycopg[binary]'" in text, text
    with pytest.raises(ExtractError) as err:
        resolve_source("postgresql+psycopg://cld:s3cret@127.0.0.1:9/council")
    assert "pip install 'psycopg[binary]'" in str(err.value)


def test_indexes_are_created_in_name_order(clean_council):
    # Table.indexes is a set: without the sort the order differed between runs (two tables have
    # two indexes, so an unsorted order fails here three times in four)
    ddl = render_ddl("sqlite")
    with sqlite3.connect(clean_council.db) as conn:
        stored = [n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid"
        )]  # fmt: skip
    for table in metadata.sorted_tables:
        names = sorted(i.name for i in table.indexes)
        assert [n for n in stored if n in names] == names, table.name
        at = [ddl.index(f"CREATE INDEX {n} ") for n in names]
        assert at == sorted(at), table.name


def test_to_another_database_keeps_the_samples_files_without_replace(tmp_path):
    """`cld sample --to URL` writes its feeds, feedback and manifest beside the embedded
    sample's: without --replace (or --out) it once overwrote them, pairing the SQLite sample
    with another seed's feeds."""
    from cld_schema.errors import CldError

    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\n', encoding="utf-8")
    first = CliRunner().invoke(app, ["--config", str(cfg), "sample", "--people", "80",
                                     "--defects", "0"])
    assert first.exit_code == 0, first.output
    manifest = tmp_path / "out" / "sample" / "defects.csv"
    before = manifest.read_bytes()
    other = f"sqlite:///{tmp_path / 'other.db'}"
    again = CliRunner().invoke(app, ["--config", str(cfg), "sample", "--to", other,
                                     "--people", "60", "--seed", "2"])
    assert isinstance(again.exception, CldError), again.output
    assert "--replace" in str(again.exception) and "--out DIR" in str(again.exception)
    assert manifest.read_bytes() == before and not (tmp_path / "other.db").exists()
    elsewhere = CliRunner().invoke(app, ["--config", str(cfg), "sample", "--to", other,
                                         "--people", "60", "--out", str(tmp_path / "o")])
    assert elsewhere.exit_code == 0, elsewhere.output
    assert manifest.read_bytes() == before
