"""Where the sample goes: SQLite (the embedded default), PostgreSQL (COPY), or any SQLAlchemy URL.

Tables are created from ``pipelines.source.tables.metadata`` (the same DDL for every dialect)
and filled chunk by chunk, so the England size never holds the whole council in memory.
"""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.schema import CreateIndex, CreateTable

from cld_schema.errors import CldError
from pipelines.source.tables import metadata

TABLE_ORDER = [t.name for t in metadata.sorted_tables]


class TargetError(CldError, ValueError):
    """The target cannot be written (bad URL, unreachable server, file in the way)."""


def is_url(path_or_url: str | Path) -> bool:
    return isinstance(path_or_url, str) and "://" in path_or_url


def _columns(name: str) -> list[str]:
    return [c.name for c in metadata.tables[name].columns]


class Target:
    """Writes chunks of tables; ``close()`` finishes (indexes, commit)."""

    def write(self, name: str, frame: pl.DataFrame) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class SqliteTarget(Target):
    """A fresh SQLite file, written with ``executemany`` in one transaction per chunk.

    The DDL comes from SQLAlchemy; bulk rows go through the standard ``sqlite3`` module because
    it is several times faster than an ORM-level insert. Dates are stored as ISO text, which is
    what SQLAlchemy's SQLite ``Date`` type reads back.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(self.path.suffix + ".tmp")
        tmp.unlink(missing_ok=True)
        self.tmp = tmp
        engine = create_engine(f"sqlite:///{tmp}")
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                conn.execute(CreateTable(table))
        engine.dispose()
        self.conn = sqlite3.connect(tmp)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        cols = _columns(name)
        frame = _plain(frame.select(cols))
        sql = f"INSERT INTO {name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self.conn.executemany(sql, frame.iter_rows())
        self.conn.commit()

    def close(self) -> None:
        for table in metadata.sorted_tables:
            for index in _indexes(table):
                cols = ", ".join(c.name for c in index.columns)
                self.conn.execute(f"CREATE INDEX {index.name} ON {table.name} ({cols})")
        self.conn.commit()
        self.conn.close()
        self.tmp.replace(self.path)  # the file appears whole or not at all


class PostgresTarget(Target):
    """PostgreSQL through psycopg ``COPY ... FROM STDIN`` (CSV), the fast bulk path."""

    def __init__(self, url: str, replace: bool = False):
        self.engine = _engine(url)
        with self.engine.begin() as conn:
            _refuse_existing(conn, url, replace)
            metadata.drop_all(conn)
            for table in metadata.sorted_tables:
                conn.execute(CreateTable(table))
        self.raw = self.engine.raw_connection()

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        cols = _columns(name)
        buf = io.BytesIO()
        frame.select(cols).write_csv(buf, include_header=False, null_value="")
        cur = self.raw.cursor()
        with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN (FORMAT csv)") as cp:
            cp.write(buf.getvalue())
        self.raw.commit()

    def close(self) -> None:
        cur = self.raw.cursor()
        for table in metadata.sorted_tables:
            for index in _indexes(table):
                cur.execute(CreateIndex(index).compile(self.engine).string)
            cur.execute(f"ANALYZE {table.name}")
        self.raw.commit()
        self.raw.close()
        self.engine.dispose()


class SqlAlchemyTarget(Target):
    """Any other database SQLAlchemy reaches (e.g. SQL Server): batched executemany inserts."""

    def __init__(self, url: str, replace: bool = False):
        self.engine = _engine(url)
        with self.engine.begin() as conn:
            _refuse_existing(conn, url, replace)
            metadata.drop_all(conn)
            metadata.create_all(conn)

    def write(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        table = metadata.tables[name]
        rows = frame.select(_columns(name)).to_dicts()
        with self.engine.begin() as conn:
            for i in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[i : i + 20_000])

    def close(self) -> None:
        self.engine.dispose()


def _refuse_existing(conn: Any, url: str, replace: bool) -> None:
    """A database that already holds the sample's tables is replaced only when asked."""
    from sqlalchemy import inspect

    if replace:
        return
    names = set(inspect(conn).get_table_names())
    present = [t.name for t in metadata.sorted_tables if t.name in names]
    if not present:
        return
    people = ""
    if "persons" in present:
        n = conn.execute(select(func.count()).select_from(metadata.tables["persons"])).scalar()
        people = f" ({n:,} people)"
    shown = make_url(url).render_as_string(hide_password=True)
    raise TargetError(
        f"{shown} already holds the sample's tables{people}: add --replace to overwrite "
        f"{len(present)} table(s), or load into another database"
    )


def _engine(url: str) -> Engine:
    try:
        return create_engine(url)
    except ImportError as exc:  # the driver is not installed: say what to install
        from pipelines.source.extract import install_hint

        raise TargetError(
            f"cannot use {make_url(url).render_as_string(hide_password=True)}: the database "
            f"driver (Python module {exc.name or '?'}) is not installed; {install_hint(exc.name)}"
        ) from None
    except Exception as exc:  # bad URL: say which, without the password
        raise TargetError(
            f"cannot use {make_url(url).render_as_string(hide_password=True)}: {exc}"
        ) from None


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text, booleans as 0/1: what sqlite3 stores without adapters."""
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            casts.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Int8))
    return frame.with_columns(casts) if casts else frame


def open_target(path_or_url: str | Path, replace: bool = False) -> Target:
    """The writer for a SQLite path or URL, PostgreSQL (psycopg) URL or any other URL.

    A server that cannot be reached gives a :class:`TargetError` naming the URL without its
    password."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return _open_target(path_or_url, replace)
    except SQLAlchemyError as exc:
        shown = make_url(str(path_or_url)).render_as_string(hide_password=True)
        first = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        raise TargetError(f"cannot load the sample into {shown}: {first}") from None


def _open_target(path_or_url: str | Path, replace: bool = False) -> Target:
    if not is_url(path_or_url):
        return SqliteTarget(Path(path_or_url))
    url = str(path_or_url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        db = make_url(url).database
        if not db:
            raise TargetError("an in-memory SQLite database cannot hold the sample: give a file")
        return SqliteTarget(Path(db))
    if backend == "postgresql" and make_url(url).get_driver_name() == "psycopg":
        return PostgresTarget(url, replace)
    return SqlAlchemyTarget(url, replace)


def _indexes(table) -> list:
    """A table's indexes by name: ``Table.indexes`` is a set, whose order changes from run to
    run, and with it the order of the CREATE INDEX statements in the file and the DDL."""
    return sorted(table.indexes, key=lambda i: i.name)


def render_ddl(dialect: str = "mssql") -> str:
    """The CREATE TABLE / CREATE INDEX statements for a dialect (e.g. SQL Server 2016+)."""
    from sqlalchemy.dialects import mssql, postgresql, sqlite

    dialects = {"mssql": mssql, "postgresql": postgresql, "sqlite": sqlite}
    if dialect not in dialects:
        raise TargetError(f"unknown dialect {dialect!r}: use one of {', '.join(dialects)}")
    d = dialects[dialect].dialect()
    if dialect == "mssql":  # modern output (DATE, OFFSET/FETCH) as for SQL Server 2016+
        d.server_version_info = (16, 0)
        d._setup_version_attributes()
    parts = []
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=d)).strip() + ";")
        for index in _indexes(table):
            parts.append(str(CreateIndex(index).compile(dialect=d)).strip() + ";")
    return "\n\n".join(parts) + "\n"


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLE_ORDER}
