"""A connection lost mid-extract is retried; the result is all-or-nothing.

The connection is really killed: ``pg_terminate_backend`` from another session, between two
tables (through the progress callback) and while a query is running.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from pipelines.extract import ExtractError, extract
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
    """A progress callback that kills the extract's session after the first table, N times."""

    def __init__(self, pg_server, db: str, times: int) -> None:
        self.pg_server, self.db, self.times = pg_server, db, times
        self.kills = 0
        self.starts = 0

    def __call__(self, name: str, done: int, total: int) -> None:
        if done == 1:
            self.starts += 1
            if self.kills < self.times:
                self.kills += _kill_extract_sessions(self.pg_server, self.db)


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


def test_connection_killed_while_a_query_runs(pg_server, pg_db, tmp_path) -> None:
    """A query still running when its backend is terminated: the next attempt succeeds."""
    (tmp_path / "teams.sql").write_text(
        "SELECT t.team_id, t.team_name, t.service_area\n"
        "FROM teams t CROSS JOIN (SELECT pg_sleep(0.6) AS slept) s\n"
    )
    (tmp_path / "persons.sql").write_text((SQL_DIR / "persons.sql").read_text())
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
        frames = extract(pg_server.sqlalchemy_url(pg_db), PERIOD, tmp_path, backoff=0.05)
    finally:
        thread.join()
    assert killed and killed[0] >= 1
    assert frames["teams"].height == 1
    assert set(frames) == {"persons", "teams"}
