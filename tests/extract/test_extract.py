"""The extract against a real PostgreSQL server (psycopg, arrow-odbc, pyodbc) and SQLite."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from pipelines.source.extract import (
    ExtractError,
    can_limit_to_people,
    extract,
    load_queries,
)
from pipelines.source.tables import expected_schema, metadata
from tests.extract.conftest import (
    AGREEMENTS_EXPECTED,
    IN_SCOPE,
    PERIOD,
    ROWS,
    SQL_DIR,
    STEPS_EXPECTED,
)

pytestmark = pytest.mark.postgres


def _sorted(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {k: v.sort(v.columns) for k, v in frames.items()}


@pytest.fixture(scope="module")
def via_psycopg(pg_server, pg_db) -> dict[str, pl.DataFrame]:
    return extract(pg_server.sqlalchemy_url(pg_db), PERIOD, SQL_DIR)


def test_one_query_per_schema_table() -> None:
    names = {q.name for q in load_queries(SQL_DIR)}
    assert {t.name for t in metadata.sorted_tables} <= names


def test_period_scope(via_psycopg) -> None:
    f = via_psycopg
    assert set(f["persons"]["person_id"]) == IN_SCOPE
    assert set(f["workflow_steps"]["step_id"]) == STEPS_EXPECTED
    assert set(f["service_agreements"]["agreement_id"]) == AGREEMENTS_EXPECTED
    assert set(f["step_assessment_details"]["step_id"]) == {101, 301}
    assert set(f["step_contact_details"]["step_id"]) == {1001}
    assert set(f["carer_relationships"]["relationship_id"]) == {1}
    # financial assessments however old (funding status), up to the period end, people in scope
    assert f["financial_assessments"].rows() == [(1, 102, date(2019, 5, 1), "FULL")]
    # all history of the people in scope, none of anyone else
    assert set(f["person_support_reasons"]["psr_id"]) == {1, 2}
    assert set(f["person_addresses"]["address_id"]) == {1, 3}
    assert set(f["allocations"]["allocation_id"]) == {1}
    # reference tables whole; the person index covers everybody for feed matching
    assert f["lookup_codes"].height == len(ROWS["lookup_codes"])
    assert set(f["person_index"]["person_id"]) == {p["person_id"] for p in ROWS["persons"]}


def test_types_follow_the_schema(via_psycopg) -> None:
    for name, frame in via_psycopg.items():
        wanted = expected_schema(name)
        if wanted is not None:
            assert dict(frame.schema) == wanted, name
    persons = via_psycopg["persons"]
    assert persons.schema["date_of_birth"] == pl.Date
    assert persons.schema["person_id"] == pl.Int64
    sa_ = via_psycopg["service_agreements"]
    assert sa_.filter(pl.col("agreement_id") == 4001)["unit_cost"].item() == pytest.approx(21.35)
    assert via_psycopg["workflow_steps"].schema["is_carer_step"] == pl.Boolean
    assert via_psycopg["person_index"].columns == [
        "person_id",
        "nhs_number",
        "date_of_birth",
        "gender_code",
    ]


def test_odbc_engines_match_psycopg(pg_server, pg_db, via_psycopg) -> None:
    arrow = extract(pg_server.odbc_connection_string(pg_db), PERIOD, SQL_DIR)
    pyodbc = extract(pg_server.odbc_sqlalchemy_url(pg_db), PERIOD, SQL_DIR, engine="sqlalchemy")
    want = _sorted(via_psycopg)
    for got in (_sorted(arrow), _sorted(pyodbc)):
        assert got.keys() == want.keys()
        for name in want:
            assert got[name].equals(want[name]), name


def test_arrow_odbc_is_chosen_for_odbc_urls(pg_server, pg_db, via_psycopg) -> None:
    frames = extract(pg_server.odbc_sqlalchemy_url(pg_db), PERIOD, SQL_DIR, engine="arrow-odbc")
    assert _sorted(frames)["persons"].equals(_sorted(via_psycopg)["persons"])


def test_sqlite_matches_postgresql(sqlite_url, via_psycopg) -> None:
    lite = _sorted(extract(sqlite_url, PERIOD, SQL_DIR))
    want = _sorted(via_psycopg)
    for name in want:
        assert lite[name].equals(want[name]), name


def test_arrow_odbc_needs_an_odbc_source(sqlite_url) -> None:
    with pytest.raises(ExtractError, match="ODBC"):
        extract(sqlite_url, PERIOD, SQL_DIR, engine="arrow-odbc")


def test_a_council_query_missing_a_column_is_named(tmp_path, sqlite_url) -> None:
    (tmp_path / "teams.sql").write_text("SELECT t.team_id FROM teams t\n")
    with pytest.raises(ExtractError, match=r"teams\.sql.*team_name"):
        extract(sqlite_url, PERIOD, tmp_path)


def test_a_broken_query_names_its_file_and_is_not_retried(tmp_path, sqlite_url) -> None:
    (tmp_path / "teams.sql").write_text("SELECT t.team_id FROM no_such_view t\n")
    calls: list[str] = []
    with pytest.raises(ExtractError, match=r"teams\.sql"):
        extract(sqlite_url, PERIOD, tmp_path, progress=lambda *a: calls.append(a[0]))
    assert calls == []


def test_the_config_sql_folder_is_accepted(sqlite_url) -> None:
    frames = extract(sqlite_url, PERIOD, SQL_DIR.parent)
    assert set(frames["persons"]["person_id"]) == IN_SCOPE


def test_an_unknown_bind_is_named_before_anything_runs(tmp_path, sqlite_url) -> None:
    (tmp_path / "teams.sql").write_text(
        "SELECT t.team_id, t.team_name, t.service_area FROM teams t WHERE t.x < :as_at\n"
    )
    with pytest.raises(ExtractError, match=r"teams\.sql.*:as_at"):
        extract(sqlite_url, PERIOD, tmp_path)


def test_sqlite_reads_one_consistent_view(tmp_path) -> None:
    """A write from another connection during the extract is not half-seen in SQLite either."""
    import sqlite3

    from tests.extract.conftest import load_rows

    db = tmp_path / "council.db"
    load_rows(f"sqlite:///{db}")
    outcome: list[str] = []

    def write_meanwhile(name: str, done: int, total: int) -> None:
        if done != 1:
            return
        other = sqlite3.connect(db, timeout=0.2)
        try:
            other.execute("INSERT INTO persons (person_id, created_on) VALUES (50, '2024-01-01')")
            other.execute(
                "INSERT INTO workflow_steps (step_id, person_id, step_type_code, status_code, "
                "started_on, completed_on, is_carer_step) "
                "VALUES (5001, 50, 'ASSESS', 'COMP', '2024-05-01', '2024-05-02', 0)"
            )
            other.commit()
            outcome.append("written")
        except sqlite3.OperationalError:  # the extract's read transaction holds the file
            outcome.append("blocked")
        finally:
            other.close()

    frames = extract(f"sqlite:///{db}", PERIOD, SQL_DIR, progress=write_meanwhile)
    assert outcome in (["written"], ["blocked"])
    assert 50 not in frames["persons"]["person_id"].to_list()
    assert 5001 not in frames["workflow_steps"]["step_id"].to_list()


def test_a_database_error_does_not_quote_the_row_it_failed_on(tmp_path, pg_server, pg_db) -> None:
    """PostgreSQL names the value a cast failed on; that value is a row's data (here an NHS
    number) and the message reaches the terminal and logs: it is withheld."""
    (tmp_path / "teams.sql").write_text(
        "SELECT CAST(p.nhs_number || 'x' AS bigint) AS team_id, 'a' AS team_name, "
        "'b' AS service_area FROM persons p WHERE p.nhs_number IS NOT NULL\n"
    )
    with pytest.raises(ExtractError, match=r"teams\.sql.*invalid input syntax") as err:
        extract(pg_server.sqlalchemy_url(pg_db), PERIOD, tmp_path)
    assert "(value withheld)" in str(err.value)
    nhs = [p["nhs_number"] for p in ROWS["persons"] if p["nhs_number"]]
    assert nhs and not any(n in str(err.value) for n in nhs)


def test_person_ids_read_only_those_peoples_rows(pg_server, pg_db, sqlite_url, via_psycopg) -> None:
    # the build's second pass for feed people: the server returns their rows only, the same
    # rows the full read holds for them, through every engine
    people = sorted(IN_SCOPE)[:2]
    tables = {"persons", "person_addresses", "allocations"}
    want = {
        n: via_psycopg[n].filter(pl.col("person_id").is_in(people)).sort(via_psycopg[n].columns)
        for n in tables
    }
    ids = {n: people for n in tables}
    for url in (
        pg_server.sqlalchemy_url(pg_db),
        pg_server.odbc_connection_string(pg_db),
        sqlite_url,
    ):
        got = _sorted(extract(url, PERIOD, SQL_DIR, only=tables, person_ids=ids))
        for n in tables:
            assert got[n].equals(want[n]), (url.split(":")[0], n)


def test_a_query_that_cannot_be_wrapped_reads_every_row(tmp_path, sqlite_url) -> None:
    (tmp_path / "persons.sql").write_text(
        "WITH p AS (SELECT * FROM persons) SELECT p.person_id, p.nhs_number, p.first_name, "
        "p.last_name, p.date_of_birth, p.date_of_death, p.gender_code, p.ethnicity_code, "
        "p.created_on FROM p ORDER BY p.person_id\n"
    )
    assert not can_limit_to_people(load_queries(tmp_path)[0])
    one = sorted(IN_SCOPE)[:1]
    frames = extract(sqlite_url, PERIOD, tmp_path, person_ids={"persons": one})
    assert frames["persons"].height > 1  # all rows: the caller keeps the people it wants


def test_psycopg_copy_keeps_native_types_of_extra_columns(tmp_path, pg_server, pg_db) -> None:
    # psycopg reads through COPY as text; a column the schema does not type keeps the type
    # the driver gives it (row-wise read), as before
    (tmp_path / "teams.sql").write_text(
        "SELECT t.team_id, t.team_name, t.service_area, 7 AS extra_n FROM teams t\n"
    )
    frames = extract(pg_server.sqlalchemy_url(pg_db), PERIOD, tmp_path)
    assert frames["teams"].schema["extra_n"] == pl.Int64
    assert frames["teams"].schema["team_id"] == pl.Int64
