"""How the extract understands a source (no database needed): SQL Server URLs go to arrow-odbc."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest

from pipelines.source.extract import ExtractError, choose_engine, resolve_source, strip_comments

ODBC18 = "DRIVER={ODBC Driver 18 for SQL Server};SERVER=mosaic-sql;DATABASE=Mosaic;Encrypt=yes;"


def test_odbc_connect_url_gives_the_connection_string_to_arrow_odbc() -> None:
    src = resolve_source("mssql+pyodbc:///?odbc_connect=" + quote_plus(ODBC18))
    assert src.backend == "mssql"
    assert src.odbc == ODBC18
    assert choose_engine(src, "auto") == "arrow-odbc"
    assert choose_engine(src, "sqlalchemy") == "sqlalchemy"


def test_host_form_url_is_turned_into_an_odbc_string() -> None:
    src = resolve_source(
        "mssql+pyodbc://reader:s3cret@mosaic-sql:1433/Mosaic"
        "?driver=ODBC+Driver+18+for+SQL+Server&TrustServerCertificate=yes"
    )
    assert src.backend == "mssql"
    assert "DRIVER={ODBC Driver 18 for SQL Server}" in src.odbc
    assert "Server=mosaic-sql,1433" in src.odbc and "Database=Mosaic" in src.odbc
    assert "TrustServerCertificate=yes" in src.odbc


def test_bare_connection_string_and_plain_urls() -> None:
    src = resolve_source(ODBC18)
    assert (src.backend, src.odbc) == ("mssql", ODBC18)
    assert src.url.startswith("mssql+pyodbc:///?odbc_connect=")
    lite = resolve_source("sqlite:///council.db")
    assert lite.odbc is None and choose_engine(lite, "auto") == "sqlalchemy"
    with pytest.raises(ExtractError, match="neither"):
        resolve_source("not a url")


def test_comments_go_but_quoted_text_stays() -> None:
    sql = "SELECT '--keep', \"a--b\" -- :period_end here\nFROM t /* :x */ WHERE c = ':y'"
    out = strip_comments(sql)
    assert ":period_end" not in out and ":x" not in out
    assert "'--keep'" in out and '"a--b"' in out and "':y'" in out
