"""Every extract query renders for SQL Server 2016+ and parses as T-SQL (no server needed)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
import sqlglot
from sqlalchemy.dialects import mssql

from pipelines.source.extract import _binds, _positional, load_queries
from tests.extract.conftest import PERIOD, SQL_DIR

QUERIES = load_queries(SQL_DIR)
BINDS = _binds(PERIOD)

# Dialect-specific syntax a council's server may not have (portable SQL only).
NOT_PORTABLE = re.compile(
    r"(?i)\bLIMIT\b|\bTOP\b|\bILIKE\b|::|\bNOW\s*\(|\bGETDATE\b|\bDATEADD\b|\bINTERVAL\b|"
    r"\bIFNULL\b|\bISNULL\b|\bNVL\b|\bSTRFTIME\b|\bCURRENT_DATE\b"
)


def _mssql_dialect() -> sa.engine.Dialect:
    d = mssql.dialect()
    d.server_version_info = (13, 0)  # SQL Server 2016
    d._setup_version_attributes()
    return d


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.name)
def test_query_parses_as_tsql(query) -> None:
    stmt = sa.text(query.sql)
    used = {k: v for k, v in BINDS.items() if k in stmt.compile().params}
    literal = stmt.bindparams(**used).compile(
        dialect=_mssql_dialect(), compile_kwargs={"literal_binds": True}
    )
    tree = sqlglot.parse_one(str(literal), read="tsql")  # raises ParseError on bad T-SQL
    assert tree.find(sqlglot.exp.Select) is not None
    assert "'" + BINDS["period_end"].isoformat() + "'" in str(literal) or not used
    # the ODBC form (? markers, positional values) parses too and binds every marker
    sql, params = _positional(query.sql, BINDS)
    sqlglot.parse_one(sql, read="tsql")
    assert sql.count("?") == len(params)
    assert not NOT_PORTABLE.search(query.sql), query.name


def test_a_tsql_syntax_error_would_be_caught() -> None:
    with pytest.raises(sqlglot.errors.ParseError):
        sqlglot.parse_one("SELECT a FROM t WHERE (a = 1", read="tsql")
