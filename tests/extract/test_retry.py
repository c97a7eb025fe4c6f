"""A connection lost mid-extract is retried; the result is all-or-nothing.

The connection is really killed: ``pg_terminate_backend`` from another session, between two
tables (through the progress callback) and while a query is running.
"""

from __future__ import annotations

import shutil
import threading
import time

import psycopg
import pytest

from pipelines.source.extract import ExtractError, extract
from tests.extract.conftest import PERIOD, SQL_DIR

pytestmark = pytest.mark.postgres


def _kill_extract_sessions(pg_server, db: str) -> int:
    """Terminate every other session on ``db``; returns how many were killed."""
    with psycopg.connect(pg_server.url_psycopg("postgres"), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (db,),
        ).fetchall()
    return sum(1 for (ok,) in rows if ok)


class KillAfterFirstTable:
    """A progress callback that kills the extract's sessions after the first table, N times."""

    def __init__(self, pg_server, db: str, times: int) -> None:
        self.pg_server, self.db, self.times = pg_server, db, times
        self.kills = 0
        self.starts = 0

    def __call__(self, name: str, done: int, total: int) -> None:
        if done == 1:
            self.starts += 1
            if self.kills < self.times and _kill_extract_sessions(self.pg_server, self.db):
                self.kills += 1  # a round of kills: every connection the extract reads on


def _urls(pg_server, db):
    return {
        "psycopg": (pg_server.sqlalchemy_url(db), "auto"),
        "arrow-odbc": (pg_server.odbc_connection_string(db), "auto"),
        "pyodbc": (pg_server.odbc_sqlalchemy_url(db), "sqlalchemy"),
    }


@pytest.mark.parametrize("path", ["psycopg", "arrow-odbc", "pyodbc"])
def test_connection_killed_between_tables_is_retried(pg_server, pg_db, path) -> None:
    url, engine = _urls(pg_server, pg_db)[path]
    clean = extract(url, PERIOD, SQL_DIR, engine=engine)
    killer = KillAfterFirstTable(pg_server, pg_db, times=1)
    frames = extract(url, PERIOD, SQL_DIR, engine=engine, progress=killer, backoff=0.05)
    assert killer.kills == 1
    assert killer.starts == 2  # the second attempt started again from the first table
    assert frames.keys() == clean.keys()
    for name in clean:
        assert (
            frames[name].sort(frames[name].columns).equals(clean[name].sort(clean[name].columns))
        ), name


def test_every_attempt_lost_gives_an_error_and_no_frames(pg_server, pg_db) -> None:
    killer = KillAfterFirstTable(pg_server, pg_db, times=99)
    result = None
    with pytest.raises(ExtractError, match=r"after 3 attempts.*nothing was extracted"):
        result = extract(
            pg_server.sqlalchemy_url(pg_db),
            PERIOD,
            SQL_DIR,
            retries=2,
            progress=killer,
            backoff=0.01,
        )
    assert result is None
    assert killer.starts == 3


@pytest.mark.parametrize("path", ["psycopg", "arrow-odbc", "pyodbc"])
def test_connection_killed_while_a_query_runs(pg_server, pg_db, tmp_path, path) -> None:
    """A query still running when its backend is terminated: the next attempt succeeds."""
    url, engine = _urls(pg_server, pg_db)[path]
    (tmp_path / "teams.sql").write_text(
        "SELECT t.team_id, t.team_name, t.service_area\n"
        "FROM teams t CROSS JOIN (SELECT pg_sleep(0.6) AS slept) s\n"
    )
    (tmp_path / "persons.sql").write_text((SQL_DIR / "persons.sql").read_text())
    shutil.copytree(SQL_DIR / "include", tmp_path / "include")  # its people_in_scope
    killed: list[int] = []

    def killer() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not killed:
            with psycopg.connect(pg_server.url_psycopg("postgres"), autocommit=True) as conn:
                running = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                    "AND state = 'active' AND query LIKE %s",
                    (pg_db, "%pg_sleep%"),
                ).fetchone()[0]
            if running:
                killed.append(_kill_extract_sessions(pg_server, pg_db))
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        frames = extract(url, PERIOD, tmp_path, engine=engine, backoff=0.05)
    finally:
        thread.join()
    assert killed and killed[0] >= 1
    assert frames["teams"].height == 1
    assert set(frames) == {"persons", "teams"}


@pytest.mark.parametrize("path", ["psycopg", "arrow-odbc", "pyodbc"])
def test_all_tables_come_from_one_snapshot(pg_server, pg_db, path) -> None:
    """Rows committed by someone else during the extract are not half-seen (REPEATABLE READ)."""
    url, engine = _urls(pg_server, pg_db)[path]
    pg = pg_server.url_psycopg(pg_db)

    def write_meanwhile(name: str, done: int, total: int) -> None:
        if done == 1:  # after the first table: a new person with a step in the period
            with psycopg.connect(pg, autocommit=True) as conn:
                conn.execute(
                    "INSERT INTO persons (person_id, created_on) VALUES (50, '2024-01-01')"
                )
                conn.execute(
                    "INSERT INTO workflow_steps (step_id, person_id, step_type_code, "
                    "status_code, started_on, completed_on, is_carer_step) "
                    "VALUES (5001, 50, 'ASSESS', 'COMP', '2024-05-01', '2024-05-02', false)"
                )

    try:
        frames = extract(url, PERIOD, SQL_DIR, engine=engine, progress=write_meanwhile)
        after = extract(url, PERIOD, SQL_DIR, engine=engine)
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute("DELETE FROM workflow_steps WHERE step_id = 5001")
            conn.execute("DELETE FROM persons WHERE person_id = 50")
    assert 50 not in frames["persons"]["person_id"].to_list()
    assert 5001 not in frames["workflow_steps"]["step_id"].to_list()
    assert 50 in after["persons"]["person_id"].to_list()  # the next extract sees them


def test_parallel_connections_read_one_snapshot(pg_server, pg_db, tmp_path) -> None:
    """The queries run at once on several connections, and every connection reads the first
    one's snapshot even while another session commits all the time (without the shared
    snapshot, each connection would see the rows committed up to its own first query)."""
    pg = pg_server.url_psycopg(pg_db)
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS scratch_commits (n int)")
    for i in range(6):  # each waits a moment, so they overlap on the connections
        (tmp_path / f"q{i}.sql").write_text(
            "SELECT pg_current_snapshot()::text AS snap_seen, pg_backend_pid() AS backend_pid, "
            "(SELECT count(*) FROM scratch_commits) AS rows_seen FROM pg_sleep(0.2)\n"
        )
    writing = threading.Event()
    stop = threading.Event()

    def commit_all_the_time() -> None:
        with psycopg.connect(pg, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO scratch_commits VALUES (1)")
                writing.set()

    writer = threading.Thread(target=commit_all_the_time)
    writer.start()
    try:
        writing.wait(5)
        frames = extract(pg_server.sqlalchemy_url(pg_db), PERIOD, tmp_path, connections=3)
        one = extract(pg_server.sqlalchemy_url(pg_db), PERIOD, tmp_path, connections=1)
    finally:
        stop.set()
        writer.join()
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute("DROP TABLE scratch_commits")
    seen = {(f["snap_seen"][0], f["rows_seen"][0]) for f in frames.values()}
    backends = {f["backend_pid"][0] for f in frames.values()}
    assert len(backends) == 3  # three connections read at once
    assert len(seen) == 1  # one snapshot: the same commits seen by all
    assert len({f["backend_pid"][0] for f in one.values()}) == 1
    assert list(frames) == [f"q{i}" for i in range(6)]  # the files' order, whoever read them


def test_parallel_and_one_connection_read_the_same_frames(pg_server, pg_db) -> None:
    url = pg_server.sqlalchemy_url(pg_db)
    many = extract(url, PERIOD, SQL_DIR, connections=4)
    one = extract(url, PERIOD, SQL_DIR, connections=1)
    assert list(many) == list(one)
    for name, frame in one.items():
        assert many[name].schema == frame.schema, name
        assert many[name].sort(frame.columns).equals(frame.sort(frame.columns)), name
