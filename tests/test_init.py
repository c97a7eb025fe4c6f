"""``cld init``: a council's own folder that loads, builds from the council's database (the
suite's real PostgreSQL server) under the council's code, runs on the real date, and is never
written over."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines import council_init
from pipelines.config import load_config
from pipelines.period import Period

ROOT = Path(__file__).resolve().parents[1]
CLD = str(Path(sys.executable).with_name("cld"))
SAMPLE = ROOT / "data" / "sample"


def _cld(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLD, *args], capture_output=True, text=True, cwd=cwd, timeout=600,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_init_makes_a_folder_whose_config_is_the_councils(tmp_path: Path) -> None:
    folder = tmp_path / "testshire"
    p = _cld("init", str(folder), "--la-code", "318", "--name", "Testshire County Council",
             cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    cfg = load_config(folder / "cld.toml")
    assert (cfg.council.la_code, cfg.council.name) == ("318", "Testshire County Council")
    assert cfg.runs.reference_date is None  # a live database: the real date
    assert cfg.today() == date.today()
    # every file it names is in the folder (none left pointing at the sample's)
    for path in (cfg.paths.mappings_dir, cfg.paths.sql_dir, cfg.paths.feeds_dir,
                 cfg.paths.contracts_dir, cfg.checks.thresholds, cfg.delivery.directory,
                 cfg.feedback.layout):
        full = cfg.path(path)
        assert full.exists() and full.is_relative_to(folder.resolve()), path
    # the sample's tables to edit, the SQL, and an empty team directory
    mappings = {p.name for p in (SAMPLE / "mappings").iterdir()}
    assert mappings and {p.name for p in (folder / "mappings").iterdir()} == mappings
    assert (folder / "sql" / "extract" / "workflow_steps.sql").read_bytes() == (
        ROOT / "sql" / "extract" / "workflow_steps.sql").read_bytes()
    assert (folder / "team_directory.csv").read_text() == "team_id,team_name,email\n"
    assert "next:" in p.stdout and "CLD_DATABASE_URL" in p.stdout


def test_init_never_writes_over_a_councils_files(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert _cld("init", str(folder), "--la-code", "318", "--name", "A", cwd=tmp_path).returncode == 0
    (folder / "team_directory.csv").write_text("team_id,team_name,email\n7,Duty,d@x.example\n")
    before = _files(folder)
    p = _cld("init", str(folder), "--la-code", "111", "--name", "B", cwd=tmp_path)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "already holds cld.toml" in p.stderr, p.stderr
    assert _files(folder) == before
    # a folder with only some of them: nothing is added either
    other = tmp_path / "d"
    other.mkdir()
    (other / "mappings").mkdir()
    p = _cld("init", str(other), "--la-code", "318", "--name", "A", cwd=tmp_path)
    assert p.returncode == 2 and "already holds mappings" in p.stderr
    assert [x.name for x in other.iterdir()] == ["mappings"]


@pytest.mark.parametrize("code", ["31A", "1234", ""])
def test_init_refuses_a_code_that_is_not_a_cassr_code(tmp_path: Path, code: str) -> None:
    p = _cld("init", str(tmp_path / "c"), "--la-code", code, "--name", "A", cwd=tmp_path)
    assert p.returncode == 2 and "CASSR code" in p.stderr and "Traceback" not in p.stderr
    assert not (tmp_path / "c").exists()


def test_a_failed_init_takes_back_what_it_wrote(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(council_init.COPIED, "missing.yaml", tmp_path / "no-such.yaml")
    with pytest.raises(FileNotFoundError):
        council_init.init_council(tmp_path / "c", "318", "A")
    assert not (tmp_path / "c").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("kept")
    with pytest.raises(FileNotFoundError):
        council_init.init_council(tmp_path / "mine", "318", "A")
    assert [x.name for x in (tmp_path / "mine").iterdir()] == ["notes.txt"]


def test_an_inited_council_builds_from_its_postgresql_database_on_the_real_date(
    tmp_path: Path, pg_server
) -> None:
    """As a council starts: init, point CLD_DATABASE_URL at the case database (the sample
    council loaded into PostgreSQL stands in for it), build a quarter, then a dry run with
    no period, which takes the latest quarter ended by today's date."""
    from pipelines.sample import generate

    pg_server.create_database("inited")
    url = pg_server.sqlalchemy_url("inited")
    generate(url, people=300, seed=3, defects=0, out_dir=tmp_path / "sample")
    folder = tmp_path / "testshire"
    assert _cld("init", str(folder), "--la-code", "318", "--name", "Testshire",
                cwd=tmp_path).returncode == 0
    env = {"CLD_DATABASE_URL": url}
    cfg = str(folder / "cld.toml")
    p = _cld("--config", cfg, "build", "--period", "2025-26Q4", cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    # no provider files yet: said, not silently an empty feed
    assert "no provider files: the feeds folder" in p.stderr and "is empty" in p.stderr
    built = folder / "out" / "cld_318_2025-26Q4_R2.csv"
    codes = pl.read_csv(built, infer_schema=False)["LA Code"].unique().to_list()
    assert codes == ["318"]
    p = _cld("--config", cfg, "run", "quarterly", "--dry-run", cwd=tmp_path, env=env)
    today = str(Period.latest_ended(date.today()))
    assert today in p.stdout + p.stderr, p.stdout + p.stderr
    assert "Traceback" not in p.stderr


def test_a_forgotten_config_with_a_councils_database_is_said(tmp_path: Path) -> None:
    """CLD_DATABASE_URL set, no --config, no $CLD_CONFIG, no ./cld.toml: the sample council's
    config would be used with the council's database; it is said, first, on stderr."""
    env = {"CLD_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    p = _cld("build", "--period", "2025-26Q4", cwd=tmp_path, env=env)
    assert "using the sample council's config" in p.stderr and "CLD_CONFIG" in p.stderr
    folder = tmp_path / "c"
    assert _cld("init", str(folder), "--la-code", "318", "--name", "A", cwd=tmp_path).returncode == 0
    p = _cld("build", "--period", "2025-26Q4", cwd=tmp_path,
             env={**env, "CLD_CONFIG": str(folder / "cld.toml")})
    assert "using the sample council's config" not in p.stderr


def test_a_run_names_a_missing_mappings_folder_before_reading_anything(tmp_path: Path) -> None:
    folder = tmp_path / "c"
    assert _cld("init", str(folder), "--la-code", "318", "--name", "A", cwd=tmp_path).returncode == 0
    (folder / "mappings").rename(folder / "mappings-old")
    p = _cld("--config", str(folder / "cld.toml"), "run", "quarterly", "--period", "2025-26Q4",
             "--dry-run", cwd=tmp_path, env={"CLD_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:9/none"})
    assert p.returncode == 2, p.stdout + p.stderr
    assert p.stderr.count("\n") == 1 and "key [paths] mappings_dir: no such folder" in p.stderr
    assert "connection" not in p.stderr.lower()  # said before trying the database


def test_a_name_with_quotes_and_backslashes_is_kept_as_given(tmp_path: Path) -> None:
    name = 'Bath & "North East" Somerset \\ Council\nof test'
    council_init.init_council(tmp_path / "c", "800", name)
    cfg = load_config(tmp_path / "c" / "cld.toml")
    assert cfg.council.name == 'Bath & "North East" Somerset \\ Council of test'
    assert cfg.council.la_code == "800"
