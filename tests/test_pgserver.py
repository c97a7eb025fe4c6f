"""The real-database harness itself: psycopg and ODBC both reach the suite's PostgreSQL."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.postgres


def test_psycopg_and_odbc_reach_the_server(pg_server) -> None:
    import psycopg
    import pyodbc

    pg_server.create_database("harness")
    with psycopg.connect(pg_server.url_psycopg("harness"), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (41), (1)")
    with pyodbc.connect(pg_server.odbc_connection_string("harness")) as conn:
        assert conn.cursor().execute("SELECT sum(x) FROM t").fetchone()[0] == 42
