"""Extract: read the case-management database into typed polars frames, one per SQL file.

The SQL lives in ``sql/extract/*.sql`` (one file per source table, named after it), so a council
adapts the FROM/JOINs to its own Mosaic views without touching Python. Each query may use the
binds ``:period_start``, ``:period_end`` and ``:lookback_start`` (``period_start`` minus
:data:`LOOKBACK_MONTHS` months); values are always bound, never formatted into the SQL.

Read engines:

* ``sqlalchemy`` – any SQLAlchemy URL (SQLite sample, ``postgresql+psycopg``, ``mssql+pyodbc``,
  ``postgresql+pyodbc``), results built into polars frames (``postgresql+psycopg`` reads each
  query through ``COPY (…) TO STDOUT`` as CSV, in the same transaction: a third of the CPU);
* ``arrow-odbc`` – straight from the ODBC driver into Arrow (about 3x faster than pyodbc over the
  same driver), used by ``auto`` when the source is an ODBC URL or an ODBC connection string.

Every frame gets the column types of :mod:`pipelines.source.tables` (ids Int64, dates Date,
codes String, money Float64, flags Boolean), whatever the engine, so the stages after this one
see the same frames from every source.

The extract is all-or-nothing: every table comes from one attempt, in one transaction
(``REPEATABLE READ`` on PostgreSQL, so the tables agree with each other). A lost connection is
retried with exponential backoff from the first table; if every attempt fails an
:class:`ExtractError` is raised and nothing is returned.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote_plus

import polars as pl
import sqlalchemy as sa
from sqlalchemy.connectors.pyodbc import PyODBCConnector
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.base import PGDialect

from cld_schema.errors import CldError
from pipelines.period import Period
from pipelines.source.tables import column_types as _column_types

log = logging.getLogger(__name__)

Engine = Literal["auto", "sqlalchemy", "arrow-odbc"]
Progress = Callable[[str, int, int], None]

LOOKBACK_MONTHS = 12  # steps and services this long before the period start are also read
# arrow-odbc transit buffer: rows per fetch. 16k rows keeps the buffer small (it is sized by
# the widest possible row) without costing speed.
_ODBC_BATCH = 16_384
BIND_NAMES = ("period_start", "period_end", "lookback_start")
# PostgreSQL: queries read at once, each on its own connection (one shared snapshot). Three
# keep a small server's cores busy while this process reads the results as they come.
CONNECTIONS = 3


class ExtractError(CldError):
    """The extract could not be completed; the message says which query and why."""


class SourceUnavailable(ExtractError):
    """The connection was lost on every attempt (the database is down or unreachable): the one
    extract failure worth trying again later (the quarterly flow retries the build on it)."""


class _Retryable(Exception):
    """A lost connection or similar transient failure: worth another attempt."""


# --------------------------------------------------------------------------------------------
# PostgreSQL through pyodbc: SQLAlchemy ships no such dialect, but councils (and the test
# suite) reach PostgreSQL through unixODBC too. The connector does the ODBC part.
class PGDialect_pyodbc(PyODBCConnector, PGDialect):
    """``postgresql+pyodbc://``: PostgreSQL's SQL dialect over a pyodbc connection."""

    supports_statement_cache = True
    supports_native_boolean = True

    def _get_server_version_info(self, connection: Any) -> tuple[int, ...]:
        raw = connection.exec_driver_sql("SHOW server_version").scalar()
        return tuple(int(x) for x in re.findall(r"\d+", str(raw))[:2])

    def get_isolation_level_values(self, dbapi_connection: Any) -> list[str]:
        return [*super().get_isolation_level_values(dbapi_connection), "AUTOCOMMIT"]

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        # pyodbc handles AUTOCOMMIT itself; the others are plain PostgreSQL statements.
        if level == "AUTOCOMMIT":
            dbapi_connection.autocommit = True
            return
        dbapi_connection.autocommit = False
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {level}")
        cursor.close()
        dbapi_connection.commit()

    def get_isolation_level(self, dbapi_connection: Any) -> str:
        if dbapi_connection.autocommit:
            return "AUTOCOMMIT"
        cursor = dbapi_connection.cursor()
        cursor.execute("SHOW transaction_isolation")
        value = cursor.fetchone()[0]
        cursor.close()
        return str(value).upper()

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        # SQLSTATE class 08 (connection exception) and 57P0x (server shut the session down)
        if re.search(r"\b(08\w{3}|57P0\d)\b", str(e)):
            return True
        return super().is_disconnect(e, connection, cursor)

    def do_ping(self, dbapi_connection: Any) -> bool:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        return True


registry.register("postgresql.pyodbc", __name__, "PGDialect_pyodbc")


# --------------------------------------------------------------------------------------------
# Queries and target types


@dataclass(frozen=True)
class Query:
    """One extract query: the file it came from and its SQL text."""

    name: str
    path: Path
    sql: str


_COMMENT_OR_QUOTED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|/\*.*?\*/", re.S)


def strip_comments(sql: str) -> str:
    """Drop ``--`` and ``/* */`` comments (not inside quotes).

    Why: a ``:name`` written in a comment would otherwise count as a bind for SQLAlchemy but
    not for the ODBC driver, and the parameter counts would disagree.
    """
    return _COMMENT_OR_QUOTED.sub(lambda m: m.group(0) if m.group(0)[0] in "'\"" else " ", sql)


# `-- include: name` on a line of its own: replaced by ``include/<name>.sql`` from the query's
# folder (fixed text, re-indented like the directive) before comments are stripped.
_INCLUDE = re.compile(r"(?m)^([ \t]*)--[ \t]*include:[ \t]*(\S*)[ \t]*$")
_INCLUDE_NAME = re.compile(r"[a-z][a-z0-9_]*")


def expand_includes(path: Path, text: str) -> str:
    """``text`` (the query file ``path``) with each ``-- include: name`` line replaced by the
    text of ``include/name.sql`` beside it. Only fixed text from that folder, never values; an
    unknown include, a bad name or an include inside an include is an :class:`ExtractError`
    naming the file."""
    folder = path.parent / "include"

    def one(m: re.Match[str]) -> str:
        indent, name = m.groups()
        if not _INCLUDE_NAME.fullmatch(name):
            raise ExtractError(
                f"{path}: include name {name!r} must be lower-case letters, digits and _"
            )
        inc = folder / f"{name}.sql"
        if not inc.is_file():
            raise ExtractError(f"{path}: unknown include {name!r} (no file {inc})")
        body = inc.read_text(encoding="utf-8").rstrip()
        if _INCLUDE.search(body):
            raise ExtractError(f"{inc}: an include file cannot include another")
        return "\n".join(indent + line if line.strip() else "" for line in body.splitlines())

    return _INCLUDE.sub(one, text)


def load_queries(sql_dir: Path | str) -> list[Query]:
    """Every ``*.sql`` in ``sql_dir`` (sorted); the file stem names the frame it produces.

    ``sql_dir`` may also be the config's ``[paths] sql_dir`` (``sql/``): its ``extract/``
    subfolder is then used. ``-- include: name`` lines are expanded first
    (:func:`expand_includes`, files in ``include/``, which is not itself a query folder).
    """
    folder = Path(sql_dir)
    if not folder.is_dir():
        raise ExtractError(f"extract SQL folder not found: {folder}")
    if not any(folder.glob("*.sql")) and (folder / "extract").is_dir():
        folder = folder / "extract"
    queries = []
    for path in sorted(folder.glob("*.sql")):
        text = expand_includes(path, path.read_text(encoding="utf-8"))
        sql = strip_comments(text).strip().rstrip(";").strip()
        if not sql:
            raise ExtractError(f"{path}: the file is empty")
        unknown = sorted(set(sa.text(sql).compile().params) - set(BIND_NAMES))
        if unknown:
            raise ExtractError(
                f"{path}: unknown bind parameter(s) {', '.join(':' + u for u in unknown)}; "
                f"use {', '.join(':' + b for b in BIND_NAMES)}"
            )
        queries.append(Query(path.stem, path, sql))
    if not queries:
        raise ExtractError(f"no .sql files in {folder}")
    return queries


# A second pass for a few people (the build's feed people outside the extract's scope) asks
# the server for their rows only. Above this many ids, or for a query that cannot be wrapped
# in a derived table (a WITH, an ORDER BY, a frame without person_id), every row is read and
# the caller keeps theirs, as before.
MAX_PERSON_IDS = 5000
_UNWRAPPABLE = re.compile(r"(?is)^\s*with\b|\border\s+by\b")


def for_people(q: Query, person_ids: list[int]) -> Query:
    """``q`` limited to rows whose ``person_id`` is one of ``person_ids``.

    The ids are Python ints (from an Int64 column), written as integer literals: a bind per id
    would exceed SQL Server's 2,100 parameters, and a literal made by ``int`` is only digits.
    """
    ids = ", ".join(str(int(i)) for i in person_ids)
    sql = f"SELECT * FROM (\n{q.sql}\n) cld_q WHERE cld_q.person_id IN ({ids})"
    return Query(q.name, q.path, sql)


def can_limit_to_people(q: Query) -> bool:
    return not _UNWRAPPABLE.search(q.sql)


_TRUE = ["1", "t", "true", "y", "yes"]


def _cast(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """Give ``frame`` the schema's types, whatever types the engine returned."""
    per_table, by_name = _column_types()
    wanted = per_table.get(name)
    if wanted is not None:
        missing = [c for c in wanted if c not in frame.columns]
        if missing:
            raise ExtractError(
                f"{name}.sql must return the columns of table {name}; missing: "
                + ", ".join(missing)
            )
    exprs = []
    for col, dtype in frame.schema.items():
        target = (wanted or {}).get(col) or by_name.get(col)
        if target is None or dtype == target:
            continue
        exprs.append((col, target, _convert(pl.col(col), dtype, target).alias(col)))
    try:
        out = frame.with_columns(e for _, _, e in exprs) if exprs else frame
    except pl.exceptions.PolarsError:
        # Name the column and the type, never the value (polars quotes it: it can be a date
        # of birth or an NHS number).
        bad = []
        for col, target, expr in exprs:
            try:
                frame.select(expr)
            except pl.exceptions.PolarsError:
                bad.append(f"{col} (wanted {target})")
        raise ExtractError(
            f"{name}.sql returned values of the wrong type in column(s) "
            f"{', '.join(bad) or '?'}: change the query so they are"
        ) from None
    if wanted is not None:  # schema order first, any extra columns after
        out = out.select([*wanted, *[c for c in out.columns if c not in wanted]])
    return out


def _convert(expr: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    if target == pl.Date():
        if source == pl.String():
            return expr.str.slice(0, 10).str.to_date("%Y-%m-%d")
        if isinstance(source, pl.Datetime):
            return expr.dt.date()
    if target == pl.Boolean() and source == pl.String():
        low = expr.str.strip_chars().str.to_lowercase()
        return pl.when(expr.is_null()).then(None).otherwise(low.is_in(_TRUE))
    if target == pl.String() and source.is_numeric():
        return expr.cast(pl.Int64).cast(pl.String) if source.is_integer() else expr.cast(pl.String)
    return expr.cast(target)


# --------------------------------------------------------------------------------------------
# Sources


@dataclass(frozen=True)
class Source:
    """Where to read from: a SQLAlchemy URL, and the ODBC connection string when there is one."""

    url: str
    backend: str  # sqlite | postgresql | mssql | other
    odbc: str | None  # ODBC connection string (for arrow-odbc), if the source is ODBC
    lock_timeout: float = 60.0  # seconds a query waits for a table another session locked
    connections: int = 1  # PostgreSQL: connections reading at once (one shared snapshot)


def _odbc_backend(conn_str: str) -> str:
    """Which database an ODBC connection string reaches, from its DRIVER (or DSN) name."""
    m = re.search(r"(?i)\b(?:driver|dsn)\s*=\s*\{?([^};]*)", conn_str)
    driver = (m.group(1) if m else conn_str).lower()
    if "postgres" in driver:
        return "postgresql"
    if "sql server" in driver or "freetds" in driver or "tds" in driver:
        return "mssql"
    return "other"


# Python module a SQLAlchemy driver imports -> the pip requirement that provides it.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]",
    "psycopg2": "psycopg2-binary",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
    "pymysql": "pymysql",
    "MySQLdb": "mysqlclient",
    "oracledb": "oracledb",
}


def install_hint(module: str | None) -> str:
    """What to run to put a missing database driver into this environment (one phrase)."""
    import sys

    top = (module or "").split(".")[0]
    package = DRIVER_PACKAGES.get(top, top or "the driver's package")
    return f"install it with: {sys.executable} -m pip install '{package}'"


def _check_driver(parsed: sa.URL) -> None:
    """The URL's dialect and its Python driver must be there (named, never the URL: it can
    hold a password)."""
    try:
        dialect = parsed.get_dialect()
    except sa.exc.NoSuchModuleError:
        raise ExtractError(
            f"the database URL names '{parsed.drivername}', which is not a database SQLAlchemy "
            "knows: check the part before '://' (e.g. mssql+pyodbc, postgresql+psycopg)"
        ) from None
    load = getattr(dialect, "import_dbapi", None) or getattr(dialect, "dbapi", None)
    if load is None:
        return
    try:
        load()
    except ImportError as exc:
        module = exc.name or "its driver"
        raise ExtractError(
            f"the database driver for '{parsed.drivername}' is not installed (Python module "
            f"{module}): {install_hint(exc.name)}, or use a driver that is, e.g. mssql+pyodbc"
        ) from None


def resolve_source(url: str) -> Source:
    """Understand a SQLAlchemy URL or a bare ODBC connection string (``DRIVER=...;...``)."""
    text = url.strip()
    if "://" not in text and re.search(r"(?i)\b(driver|dsn)\s*=", text):
        backend = _odbc_backend(text)
        dialect = "mssql" if backend == "mssql" else "postgresql"
        from urllib.parse import quote_plus

        return Source(f"{dialect}+pyodbc:///?odbc_connect={quote_plus(text)}", backend, text)
    try:
        parsed = sa.make_url(text)
    except sa.exc.ArgumentError:
        raise ExtractError(
            "the database URL is neither a SQLAlchemy URL nor an ODBC connection string"
        ) from None
    _check_driver(parsed)
    backend = parsed.get_backend_name()
    odbc = None
    if parsed.get_driver_name() == "pyodbc":
        if "odbc_connect" in parsed.query:
            odbc = unquote_plus(str(parsed.query["odbc_connect"]))
        else:  # host/dsn form: let SQLAlchemy's own dialect build the connection string
            dialect = parsed.get_dialect()()
            args, _ = dialect.create_connect_args(parsed)
            odbc = args[0] if args else None
    return Source(text, backend, odbc)


def _binds(period: Period) -> dict[str, date]:
    start = period.start
    months = start.year * 12 + start.month - 1 - LOOKBACK_MONTHS
    return {
        "period_start": start,
        "period_end": period.end,
        "lookback_start": date(months // 12, months % 12 + 1, 1),
    }


_LOST = re.compile(
    r"(?i)state:\s*(08\w{3}|57P0\d|40001|HYT00)|\b08S01\b|\b08001\b|\b08003\b|\b57P0\d\b|"
    r"terminating connection|server closed the connection|connection (is |was )?(closed|lost|"
    r"reset|refused)|broken pipe|could not connect|database is locked|could not serialize|"
    r"deadlock|communication link failure|no connection to the server|ssl syscall"
)


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return bool(_LOST.search(str(exc)))


_DB_MODULES = {"sqlalchemy", "pyodbc", "psycopg", "sqlite3", "arrow_odbc"}


def _from_database(exc: BaseException) -> bool:
    """An error raised by the database layer (not a bug in this module)."""
    return type(exc).__module__.split(".")[0] in _DB_MODULES


# Database messages that quote the offending value (a row's data: an NHS number, a name, a
# date of birth); the value is replaced, the rest of the message kept.
_QUOTED_VALUE = re.compile(
    r"""(?ix)
    (invalid\ input\ (?:syntax|value)\ for\ [^:]{1,60}:\s*   # PostgreSQL casts
    | field\ value\ out\ of\ range:\s*                      # PostgreSQL dates
    | converting\ the\ [\w ]{1,30}?\ value\s+                 # SQL Server conversions
    | value\s+(?=["'][^"']*["']\s+is\ out\ of\ range)        # PostgreSQL ranges
    | DETAIL:.*?\)=                                          # key (column)=(value)
    )
    (?:"[^"]*"|'[^']*'|\([^)]*\))
    """
)


def _first_line(exc: BaseException) -> str:
    """The database's message on one line (ODBC drivers spread it over several), without
    any value from the data it quotes (the text reaches logs and the terminal)."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    text = _QUOTED_VALUE.sub(r"\1(value withheld)", text)
    return text[:400] if text else type(exc).__name__


# --------------------------------------------------------------------------------------------
# Engines


def _read_sqlalchemy(
    source: Source, queries: list[Query], binds: dict[str, date], progress: Progress | None
) -> dict[str, pl.DataFrame]:
    engine = sa.create_engine(source.url, poolclass=sa.pool.NullPool)
    if source.backend == "sqlite":
        _sqlite_read_transaction(engine)
    options: dict[str, Any] = {}
    if source.backend == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
        if source.connections > 1 and len(queries) > 1:
            try:
                parallel = _read_postgresql_parallel(engine, source, queries, binds, progress)
            finally:
                engine.dispose()
            if parallel is not None:
                return parallel
            engine = sa.create_engine(source.url, poolclass=sa.pool.NullPool)
    frames: dict[str, pl.DataFrame] = {}
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**options) if options else conn
            with conn.begin():
                if source.backend == "postgresql":  # a locked table: fail, do not hang
                    ms = max(int(source.lock_timeout * 1000), 1)
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
                for i, q in enumerate(queries, 1):
                    frames[q.name] = _run_sqlalchemy(conn, q, binds)
                    if progress:
                        progress(q.name, i, len(queries))
    finally:
        engine.dispose()
    return frames


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)+")


def _begin_repeatable_read(stack: ExitStack, engine: sa.Engine) -> sa.Connection:
    """A new connection in a ``REPEATABLE READ`` transaction, committed (or rolled back on an
    error) and closed when ``stack`` closes."""
    conn = stack.enter_context(engine.connect())
    conn = conn.execution_options(isolation_level="REPEATABLE READ")
    stack.enter_context(conn.begin())
    return conn


def _query_costs(conn: sa.Connection, queries: list[Query], binds: dict[str, date]) -> list[float]:
    """The planner's total cost of each query (0 when it cannot say): the longest start first,
    so the last query to finish is a short one."""
    costs = []
    for q in queries:
        stmt = sa.text(q.sql)
        params = {k: v for k, v in binds.items() if k in stmt.compile().params}
        try:
            with conn.begin_nested():
                plan = conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {q.sql}"), params).scalar()
            costs.append(float(plan[0]["Plan"]["Total Cost"]))
        except (sa.exc.DBAPIError, LookupError, TypeError, ValueError):
            costs.append(0.0)
    return costs


def _read_postgresql_parallel(
    engine: sa.Engine,
    source: Source,
    queries: list[Query],
    binds: dict[str, date],
    progress: Progress | None,
) -> dict[str, pl.DataFrame] | None:
    """The queries over ``source.connections`` connections at once, every one reading the
    same snapshot: the first exports its ``REPEATABLE READ`` snapshot
    (``pg_export_snapshot()``) and the others import it (``SET TRANSACTION SNAPSHOT``), as
    ``pg_dump --jobs`` does, so the tables agree with each other exactly as in one
    transaction. The server runs several queries at once while this process waits on the
    sockets (and reads one result while the next is still coming).

    None when the server cannot export a snapshot (the caller then reads in one transaction).
    Fewer connections when the server refuses more (its ``max_connections``)."""
    ms = max(int(source.lock_timeout * 1000), 1)
    with ExitStack() as stack:
        first = _begin_repeatable_read(stack, engine)
        first.exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
        try:  # not in a savepoint: a subtransaction cannot export its snapshot
            snapshot = str(first.exec_driver_sql("SELECT pg_export_snapshot()").scalar())
        except sa.exc.DBAPIError as exc:
            if _is_transient(exc):
                raise
            log.info("the server exports no snapshot (%s): one connection", _first_line(exc))
            return None
        if not _SNAPSHOT_ID.fullmatch(snapshot):
            return None
        conns = [first]
        for _ in range(source.connections - 1):
            with ExitStack() as one:
                try:
                    conn = _begin_repeatable_read(one, engine)
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ms}ms'")
                except sa.exc.DBAPIError as exc:
                    if _is_transient(exc):
                        raise
                    # e.g. the server's max_connections reached: go on with those open
                    log.info("extract: %d connection(s) (%s)", len(conns), _first_line(exc))
                    break
                stack.enter_context(one.pop_all())
            conns.append(conn)
        costs = _query_costs(first, queries, binds)
        todo: queue.SimpleQueue[Query] = queue.SimpleQueue()
        for _, q in sorted(zip(costs, queries, strict=True), key=lambda cq: -cq[0]):
            todo.put(q)
        frames: dict[str, pl.DataFrame] = {}
        finished: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        stop = threading.Event()
        failed: list[BaseException] = []  # the first error stops the others

        def work(conn: sa.Connection) -> None:
            try:
                while not stop.is_set():
                    try:
                        q = todo.get_nowait()
                    except queue.Empty:
                        return
                    frames[q.name] = _run_sqlalchemy(conn, q, binds)
                    finished.put(q.name)
            except BaseException as exc:
                failed.append(exc)
                stop.set()
                raise
            finally:
                finished.put(None)

        with ThreadPoolExecutor(len(conns), thread_name_prefix="cld-extract") as pool:
            for conn in conns:
                pool.submit(work, conn)
            running, done = len(conns), 0
            try:
                while running:  # progress is told here, in the caller's thread
                    name = finished.get()
                    if name is None:
                        running -= 1
                        continue
                    done += 1
                    if progress and not stop.is_set():
                        progress(name, done, len(queries))
            except BaseException:
                stop.set()
                raise
        if failed:
            raise failed[0]
    return {q.name: frames[q.name] for q in queries}


def _sqlite_read_transaction(engine: sa.Engine) -> None:
    """Make SQLite read every table inside one real transaction (one consistent view).

    Why: Python's sqlite3 only opens a transaction before writes, so each SELECT would
    otherwise see the file as it is at that moment. SQLAlchemy's documented recipe: the driver
    stops managing transactions and an explicit BEGIN is sent when SQLAlchemy begins one.
    """

    @sa.event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def _run_sqlalchemy(conn: sa.Connection, q: Query, binds: dict[str, date]) -> pl.DataFrame:
    stmt = sa.text(q.sql)
    params = {k: v for k, v in binds.items() if k in stmt.compile().params}
    try:
        if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
            copied = _copy_psycopg(conn, q, params)
            if copied is not None:
                return _cast(copied, q.name)
        result = conn.execute(stmt, params)
        columns = list(result.keys())
        rows = result.fetchall()
    except sa.exc.DBAPIError as exc:
        if _is_transient(exc):
            raise _Retryable(f"{q.name}.sql: {_first_line(exc)}") from exc
        text = _first_line(exc)
        if "lock timeout" in text.lower():
            raise ExtractError(
                f"{q.name}.sql waited too long for a table another session has locked ({text}): "
                "try again when the case system's job has finished, or raise [source] lock_timeout"
            ) from None
        raise ExtractError(f"{q.path}: the query failed: {text}") from None
    return _cast(_frame_from_rows(columns, rows), q.name)


def _copy_psycopg(conn: sa.Connection, q: Query, params: dict[str, date]) -> pl.DataFrame | None:
    """One query through PostgreSQL's ``COPY (…) TO STDOUT`` as CSV, read by polars as text
    (``_cast`` then gives the schema's types): several times less CPU than building Python
    rows. Same connection and transaction as the other queries. None when a returned column
    has no schema type (its type would then be polars' guess): the caller reads it row-wise.
    """
    import psycopg

    compiled = sa.text(q.sql).compile(dialect=conn.dialect)
    sql = f"COPY (\n{compiled.string}\n) TO STDOUT WITH (FORMAT csv, HEADER true)"
    raw = conn.connection.driver_connection
    buf = bytearray()
    try:
        with raw.cursor() as cur, cur.copy(sql, params) as copy:
            for block in copy:
                buf += block
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(sql, params, exc, psycopg.Error) from exc
    frame = pl.read_csv(bytes(buf), infer_schema=False, raise_if_empty=False)
    per_table, by_name = _column_types()
    wanted = per_table.get(q.name) or {}
    if any(c not in wanted and c not in by_name for c in frame.columns):
        return None
    return frame


def _frame_from_rows(columns: list[str], rows: list[Any]) -> pl.DataFrame:
    """Rows from a DB-API cursor into a frame (types are fixed afterwards by ``_cast``)."""
    return pl.DataFrame(
        rows or None,
        schema=columns,
        orient="row",
        strict=False,
        infer_schema_length=None,
    )


def _read_arrow_odbc(
    source: Source, queries: list[Query], binds: dict[str, date], progress: Progress | None
) -> dict[str, pl.DataFrame]:
    import arrow_odbc
    import pyarrow as pa

    try:
        conn = arrow_odbc.connect(source.odbc, autocommit=False)
    except arrow_odbc.Error as exc:
        if _is_transient(exc):
            raise _Retryable(_first_line(exc)) from exc
        raise ExtractError(f"cannot connect through ODBC: {_first_line(exc)}") from None
    frames: dict[str, pl.DataFrame] = {}
    try:
        if source.backend == "postgresql":
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        for i, q in enumerate(queries, 1):
            sql, params = _positional(q.sql, binds)
            try:
                reader = conn.read_arrow_batches(
                    sql, parameters=params, batch_size=_ODBC_BATCH, max_text_size=4000
                )
                table = pa.Table.from_batches(list(reader), schema=reader.schema)
            except arrow_odbc.Error as exc:
                if _is_transient(exc) or not _odbc_alive(conn):
                    raise _Retryable(f"{q.name}.sql: {_first_line(exc)}") from exc
                raise ExtractError(f"{q.path}: the query failed: {_first_line(exc)}") from None
            frames[q.name] = _cast(pl.from_arrow(table), q.name)
            if progress:
                progress(q.name, i, len(queries))
        conn.commit()
    finally:
        del conn
    return frames


def _odbc_alive(conn: Any) -> bool:
    """Whether an ODBC connection still works after an error.

    Why: drivers word a lost connection in many ways (psqlODBC says "internal SAVEPOINT
    failed"); asking the connection itself tells a dead link from a bad query.
    """
    try:
        conn.rollback()
        conn.execute("SELECT 1")
    except Exception:
        return False
    return True


def _positional(sql: str, binds: dict[str, date]) -> tuple[str, list[str | None]]:
    """``:name`` binds into ODBC ``?`` markers and the matching positional string values."""
    from sqlalchemy.dialects.mssql import pyodbc as mssql_pyodbc

    compiled = sa.text(sql).compile(dialect=mssql_pyodbc.dialect(paramstyle="qmark"))
    names = compiled.positiontup or []
    # ODBC parameters travel as text. YYYYMMDD is the one date text SQL Server reads the same
    # under every language / DATEFORMAT setting (also for datetime columns); PostgreSQL too.
    return compiled.string, [binds[n].strftime("%Y%m%d") for n in names]


def choose_engine(source: Source, engine: Engine) -> str:
    """``auto`` reads ODBC sources with arrow-odbc and everything else with SQLAlchemy."""
    if engine == "auto":
        return "arrow-odbc" if source.odbc else "sqlalchemy"
    if engine == "arrow-odbc" and not source.odbc:
        raise ExtractError(
            "engine arrow-odbc needs an ODBC source (mssql+pyodbc URL or ODBC connection string)"
        )
    if engine not in ("sqlalchemy", "arrow-odbc"):
        raise ExtractError(f"unknown read engine {engine!r}: use auto, sqlalchemy or arrow-odbc")
    return engine


def extract(
    url: str,
    period: Period,
    sql_dir: Path | str,
    engine: Engine = "auto",
    retries: int = 3,
    progress: Progress | None = None,
    backoff: float = 1.0,
    only: set[str] | None = None,
    lookback_start: date | None = None,
    lock_timeout: float = 60.0,
    person_ids: dict[str, list[int]] | None = None,
    connections: int = CONNECTIONS,
) -> dict[str, pl.DataFrame]:
    """Run every query of ``sql_dir`` for ``period`` and return one typed frame per file.

    ``period`` is a parsed :class:`~pipelines.period.Period` (the CLI, the flows and
    ``pipelines.runs`` parse the user's text once; the stages never re-parse it).

    ``only`` limits the run to those queries (by file name); ``lookback_start`` replaces the
    ``:lookback_start`` bind (the build's second pass for people known through a feed).
    ``person_ids`` maps query names to the people whose rows are wanted: those queries return
    only their rows when they can be limited (:func:`can_limit_to_people`), else every row.

    ``retries`` is how many more attempts follow a lost connection; the wait doubles each time
    from ``backoff`` seconds. ``progress(name, done, total)`` is called after each query of an
    attempt (a retry starts again from the first query).

    ``connections``: PostgreSQL through psycopg reads that many queries at once, on as many
    connections sharing one snapshot (:func:`_read_postgresql_parallel`); other sources read
    one query after another.
    """
    queries = load_queries(sql_dir)
    if only is not None:
        queries = [q for q in queries if q.name in only]
    if person_ids:
        queries = [
            for_people(q, person_ids[q.name])
            if 0 < len(person_ids.get(q.name, ())) <= MAX_PERSON_IDS and can_limit_to_people(q)
            else q
            for q in queries
        ]
    source = dataclasses.replace(
        resolve_source(url), lock_timeout=lock_timeout, connections=max(int(connections), 1)
    )
    chosen = choose_engine(source, engine)
    read = _read_arrow_odbc if chosen == "arrow-odbc" else _read_sqlalchemy
    binds = _binds(period)
    if lookback_start is not None:
        binds["lookback_start"] = lookback_start
    last: Exception | None = None
    for attempt in range(retries + 1):
        if attempt:
            wait = backoff * 2 ** (attempt - 1)
            log.warning(
                "extract attempt %d failed (%s); retrying in %.1fs",
                attempt,
                _first_line(last),
                wait,
            )
            time.sleep(wait)
        try:
            return read(source, queries, binds, progress)
        except _Retryable as exc:
            last = exc
        except ExtractError:
            raise
        except Exception as exc:  # connecting, or committing/closing the transaction
            if _is_transient(exc):
                last = exc
                continue
            if _from_database(exc):
                raise ExtractError(f"database error: {_first_line(exc)}") from None
            raise
    raise SourceUnavailable(
        f"the extract failed after {retries + 1} attempts (connection lost each time); "
        f"nothing was extracted (last error: {_first_line(last) if last else '-'}). Check that "
        "the database server is running and reachable from here, then run again"
    )
