"""The history store: every run, submission, finding and feedback item, in one DuckDB file.

Why DuckDB: a whole quarter's CLD rows for a council (or all of England) can be kept per
submission and any two compared with SQL in seconds, in a single file a council can copy.

Atomicity: a run opens one DuckDB transaction; everything it adds is staged in it and commits
together when the ``with h.run(...)`` block ends. An exception rolls the transaction back (and
a one-line 'failed' run is recorded); a killed process never commits, and DuckDB's write-ahead
log makes sure nothing of it is visible afterwards.

Concurrency: DuckDB lets one process at a time open the file for writing, so a second process is
refused at :meth:`History.open`. Within one process family (threads, several ``History`` objects,
a forked child) a lock file next to the database, holding the pid, refuses a second run; a lock
left by a killed run is stale (its pid is gone) and is taken over.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from checks import findings as F
from cld_schema.errors import CldError
from pipelines.config import PROJECT_ROOT
from pipelines.version import code_version

SQL_DIR = PROJECT_ROOT / "sql" / "history"
MIGRATIONS_DIR = SQL_DIR / "migrations"
RUN_KINDS = ("build", "check", "nightly", "feedback")
# Internal submission_rows columns (everything else is a CLD field).
ROW_META = ("submission_id", "row_no", "team_id", "team_name", "event_key", "row_hash")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


class HistoryError(CldError):
    """A problem with the history database the user can act on (message says what to do)."""


class HistoryBusy(HistoryError):
    """Another run (or another process) is using the history database."""


@cache
def sql(name: str) -> str:
    """The text of ``sql/history/<name>`` (SQL lives in files, never built from values)."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


# Tables that take keyed rows (sql/history/keyed_new_rows.sql): names fixed here, never input.
ROWS_TABLES = ("submission_rows", "cmp_a_rows")


def insert_keyed_rows(con: Any, table: str, submission_id: int) -> None:
    """Insert the registered ``_new_rows`` frame into ``table`` with event keys and hashes."""
    if table not in ROWS_TABLES:
        raise ValueError(f"not a rows table: {table!r}")
    con.execute(f"INSERT INTO {table} BY NAME\n" + sql("keyed_new_rows.sql"),
                {"submission_id": submission_id})


def migrations() -> list[tuple[int, str, Path]]:
    """The migration files in order: (version, name, path) from ``NNNN_name.sql``."""
    found = []
    for p in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = re.match(r"^(\d{4})_(\w+)\.sql$", p.name)
        if m:
            found.append((int(m.group(1)), m.group(2), p))
    return found


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open history database (0 when empty)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return first(con, "SELECT coalesce(max(version), 0) FROM schema_version")[0]


def migrate(con: duckdb.DuckDBPyConnection, upto: int | None = None) -> int:
    """Apply the migrations newer than the database's version, each in its own transaction.

    ``upto`` stops at a version (the upgrade test builds an old database with it).
    """
    current = schema_version(con)
    latest = migrations()[-1][0]
    if current > latest:
        raise HistoryError(
            f"the history database is at schema version {current}, newer than this code "
            f"({latest}): upgrade the pipeline before using it"
        )
    for version, name, path in migrations():
        if version <= current or (upto is not None and version > upto):
            continue
        con.begin()
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO schema_version VALUES (?, ?, ?)", [version, name, _now()])
            con.commit()
        except Exception:
            con.rollback()
            raise
        current = version
    return current


def first(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None
) -> tuple[Any, ...] | None:
    """The first row of a query, or None. Fetches every row: DuckDB 2 refuses other work on a
    connection while a result from ``execute`` is unfinished."""
    rows = con.execute(query, params or {}).fetchall()
    return rows[0] if rows else None


def fetch_frame(
    con: duckdb.DuckDBPyConnection, query: str, params: dict[str, Any] | None = None
) -> pl.DataFrame:
    """Run a query with bound parameters and return a polars frame (via Arrow)."""
    return con.sql(query, params=params or {}).pl()


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def strip_secrets(source: str | None) -> str | None:
    """A source description safe to store: passwords removed from URLs and ODBC strings."""
    if source is None:
        return None
    text = re.sub(r"(://[^:/@\s]+):[^@\s]*@", r"\1:***@", source)
    text = re.sub(r"(?i)\b(pwd|password|passwd)=([^;&\s]*)", r"\1=***", text)
    return text


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class RunLock:
    """The run lock: an OS lock (``flock``) on ``<db>.lock``, which also names the pid, host
    and kind of the run holding it.

    The operating system releases the lock when its holder ends, however it ends (killed,
    crashed, the disk full), so a lock whose holder is gone is simply taken over: an empty or
    garbled lock file, or one left by a killed run, never blocks a later run.
    """

    def __init__(self, db_path: Path):
        self.path = db_path.with_name(db_path.name + ".lock")
        self.held = False
        self._fd: int | None = None

    def acquire(self, kind: str) -> None:
        import fcntl

        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            except OSError as exc:
                raise HistoryError(
                    f"cannot create the run lock {self.path} ({exc.strerror}): the history "
                    "folder must be writable"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._busy() from None
            # The file may have been removed (released) between open and flock: then the
            # lock is on a file nobody else will see; take the one at the path instead.
            try:
                same = os.stat(self.path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            info = {"pid": os.getpid(), "host": socket.gethostname(), "kind": kind,
                    "started_at": _now().isoformat()}  # fmt: skip
            with contextlib.suppress(OSError):  # a full disk: the lock holds all the same
                os.ftruncate(fd, 0)
                os.pwrite(fd, json.dumps(info).encode(), 0)
            self._fd = fd
            self.held = True
            return
        raise HistoryBusy(f"could not take the run lock {self.path}; try again")

    def _busy(self) -> HistoryBusy:
        try:
            other = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            other = {}
        pid, host = other.get("pid"), other.get("host")
        where = f" on {host}" if host and host != socket.gethostname() else ""
        who = f" (pid {pid}{where}, started {other.get('started_at', '?')})" if pid else ""
        return HistoryBusy(
            f"another {other.get('kind', '')} run is in progress{who}: wait for it to "
            "finish, then run again".replace("another  run", "another run")
        )

    def release(self) -> None:
        if self.held and self._fd is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            os.close(self._fd)
            self._fd = None
            self.held = False


@dataclass(frozen=True)
class SubmissionInfo:
    """One stored submission and the run that built it."""

    id: int
    run_id: int
    path: str | None
    sha256: str | None
    rows: int
    release: str | None
    sent_to_portal: bool
    period: str | None
    kind: str
    created_at: dt.datetime


@dataclass
class Run:
    """A run in progress: what it adds is staged in the open transaction (see module doc)."""

    history: History
    id: int
    kind: str
    period: str | None
    release: str | None
    source: str | None
    started_at: dt.datetime
    counts: dict[str, Any] = field(default_factory=dict)
    submissions: int = 0
    submission_rows: int = 0
    findings: int = 0
    # what is recorded when the block ends without an exception ("failed" for an attempt
    # that was recorded but did not do its job, e.g. a quarantined feedback file)
    status: str = "ok"
    error: str | None = None

    placements: list[tuple[Path, Path]] = field(default_factory=list)  # (staged, final)

    def place(self, staged: Path | str, final: Path | str) -> Path:
        """Move ``staged`` to ``final`` when this run commits, and only then (see
        :class:`Placement`); returns ``final``. Record the final path with
        :meth:`add_submission`: its digest is taken from the staged file."""
        self.history._require_active(self)
        self.placements.append((Path(staged), Path(final)))
        return Path(final)

    def add_submission(self, path: Path | str | None, frame: pl.DataFrame) -> int:
        """Store a built submission (file path and its CLD frame); returns the submission id."""
        return self.history._add_submission(self, path, frame)

    def add_findings(self, findings: pl.DataFrame) -> int:
        """Store a findings table (docs/contracts.md section 3); returns rows stored."""
        return self.history._add_findings(self, findings)

    def add_waiting(self, rows: pl.DataFrame) -> int:
        """Store the waiting-now figures (pipelines.cqc.trend.waiting_rows: counts only)."""
        self.history._require_active(self)
        con = self.history.con
        con.register("_new_waiting", rows)
        try:
            con.execute(sql("insert_waiting.sql"), {"run_id": self.id})
        finally:
            con.unregister("_new_waiting")
        return rows.height


class History:
    """The history database. Open with :meth:`open`; use as a context manager."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path):
        self.con = con
        self.path = path
        self._lock = RunLock(path)
        self._active: Run | None = None

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        memory_limit: str | None = None,
        temp_directory: Path | str | None = None,
        threads: int | None = None,
        migrate_to: int | None = None,
    ) -> History:
        """Open (creating and upgrading as needed) the history database at ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, str] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if temp_directory:
            config["temp_directory"] = str(temp_directory)
        if threads:
            config["threads"] = str(threads)
        try:
            con = duckdb.connect(str(path), config=config)
        except duckdb.IOException as exc:
            raise _busy_or_broken(path, exc) from None
        try:
            migrate(con, upto=migrate_to)
        except duckdb.Error as exc:
            con.close()
            raise _busy_or_broken(path, exc) from None
        except Exception:
            con.close()
            raise
        return cls(con, path)

    def close(self) -> None:
        if self._active is not None:
            with contextlib.suppress(duckdb.Error):
                self.con.rollback()
            self._lock.release()
            self._active = None
        self.con.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def run(
        self,
        kind: str,
        period: str | None = None,
        release: str | None = None,
        source: str | None = None,
        started_at: dt.datetime | None = None,
    ) -> Iterator[Run]:
        """An atomic run: all it adds commits at the end, or nothing does. ``started_at``: when
        the job began (its build and checks come before recording), so the run's duration is
        its wall time; default now."""
        if kind not in RUN_KINDS:
            raise HistoryError(f"unknown run kind {kind!r}: use one of {', '.join(RUN_KINDS)}")
        if self._active is not None:
            raise HistoryBusy(f"run {self._active.id} is still in progress in this process")
        self._lock.acquire(kind)
        try:
            self.settle()
            run_id = self._next_id("runs")
            began = _now() if started_at is None else started_at.replace(microsecond=0)
            run = Run(self, run_id, kind, period and str(period), release, strip_secrets(source),
                      began)  # fmt: skip
            self.con.begin()
            self._active = run
        except BaseException:
            self._lock.release()
            raise
        committed = False
        try:
            yield run
            self._insert_run(run, run.status, run.error)
            placement = Placement(self.path, run.placements)
            placement.place()
            try:
                self.con.commit()
            except BaseException:
                placement.undo()  # not recorded: the output folder stays as it was
                raise
            committed = True
            placement.finish()
        except BaseException as exc:
            if committed:  # e.g. Ctrl-C just after the commit: what is recorded stays placed
                raise
            with contextlib.suppress(duckdb.Error):
                self.con.rollback()
            self._record_failed(run, exc)
            if isinstance(exc, duckdb.Error):
                raise _write_failed(self.path, exc) from None
            raise
        finally:
            self._active = None
            self._lock.release()

    def settle_pending(self) -> str | None:
        """:meth:`settle` under the run lock, if a killed run left a placement journal."""
        if not Placement.journal_of(self.path).exists():
            return None
        self._lock.acquire("settle")
        try:
            return self.settle()
        finally:
            self._lock.release()

    def settle(self) -> str | None:
        """Finish or undo a placement a killed run left half done (its journal is next to
        the database): the output folder then holds what history records. Returns what was
        done, or None when there was nothing to settle. Call with the run lock held."""
        journal = Placement.journal_of(self.path)
        if not journal.exists():
            return None
        try:
            moves = json.loads(journal.read_text(encoding="utf-8"))["moves"]
        except (OSError, ValueError, KeyError):
            journal.unlink(missing_ok=True)
            return None
        recorded = any(
            first(self.con, sql("submission_by_file.sql"), {"path": m["final"], "sha": m["sha256"]})
            for m in moves
            if m.get("sha256")
        )
        p = Placement(self.path, [])
        p.moves = [(Path(m["final"]), Path(m["backup"]) if m.get("backup") else None,
                    m.get("sha256")) for m in moves]  # fmt: skip
        if recorded:
            p.finish()
            return "kept the files of the last recorded run"
        p.undo()
        return "put back the files of the last recorded run"

    def _next_id(self, table: str) -> int:
        return first(self.con, sql(f"next_id/{table}.sql"))[0]

    def _insert_run(self, run: Run, status: str, error: str | None) -> None:
        self.con.execute(
            sql("insert_run.sql"),
            {
                "id": run.id, "kind": run.kind, "period": run.period, "release": run.release,
                "source": run.source, "started_at": run.started_at, "ended_at": _now(),
                "status": status, "error": error, "submissions": run.submissions,
                "submission_rows": run.submission_rows, "findings": run.findings,
                "counts": json.dumps(run.counts, default=str), "code_version": code_version(),
            },
        )  # fmt: skip

    def _record_failed(self, run: Run, exc: BaseException) -> None:
        """Note the failure (type only: messages can carry personal data). Best effort."""
        run.submissions = run.submission_rows = run.findings = 0
        with contextlib.suppress(duckdb.Error):
            self._insert_run(run, "failed", type(exc).__name__)

    # -- adding ----------------------------------------------------------------------------
    def _require_active(self, run: Run) -> None:
        if self._active is not run:
            raise HistoryError("this run has ended; add to history inside `with h.run(...)`")

    def _add_submission(self, run: Run, path: Path | str | None, frame: pl.DataFrame) -> int:
        self._require_active(run)
        rows = _submission_frame(frame)
        self._ensure_field_columns([c for c in rows.columns if c not in ROW_META])
        sub_id = self._next_id("submissions")
        p = Path(path) if path is not None else None
        staged = next((st for st, fin in run.placements if p is not None and fin == p), p)
        digest = file_sha256(staged) if staged is not None and staged.is_file() else None
        self.con.execute(
            sql("insert_submission.sql"),
            {"id": sub_id, "run_id": run.id, "path": str(p) if p else None, "sha256": digest,
             "rows": rows.height, "release": run.release, "created_at": _now(),
             "fields": json.dumps([c for c in rows.columns if c not in ROW_META])},
        )  # fmt: skip
        self.con.register("_new_rows", rows)
        try:
            insert_keyed_rows(self.con, "submission_rows", sub_id)
        finally:
            self.con.unregister("_new_rows")
        run.submissions += 1
        run.submission_rows += rows.height
        return sub_id

    def _ensure_field_columns(self, names: list[str]) -> None:
        """Add a column for a CLD field a newer release brings (identifier checked, not data)."""
        have = {r[0] for r in self.con.execute(sql("row_columns.sql")).fetchall()}
        added = False
        for name in names:
            if name in have:
                continue
            if not _IDENT.match(name):
                raise HistoryError(f"not a CLD field name: {name!r}")
            self.con.execute(f'ALTER TABLE submission_rows ADD COLUMN "{name}" VARCHAR')
            added = True
        if added:
            # The field hash covers every field column: stored rows need it again.
            self.con.execute(sql("rehash_rows.sql"))

    def _add_findings(self, run: Run, findings: pl.DataFrame) -> int:
        self._require_active(run)
        if "rule_id" not in findings.columns:
            raise HistoryError("findings frame has no rule_id column (docs/contracts.md §3)")
        # the findings contract's columns and types; history stamps its own run id
        cols = [
            (pl.col(c) if c in findings.columns else pl.lit(None)).cast(dtype).alias(c)
            for c, dtype in F.SCHEMA.items()
            if c != "run_id"
        ]
        frame = findings.select(pl.lit(run.id, pl.Int32).alias("run_id"), *cols)
        self.con.register("_new_findings", frame)
        try:
            self.con.execute(sql("insert_findings.sql"))
        finally:
            self.con.unregister("_new_findings")
        run.findings += frame.height
        return frame.height

    # -- reading ---------------------------------------------------------------------------
    def query(self, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
        """Run a stored query (``sql/history/<name>``) and return a polars frame."""
        return fetch_frame(self.con, sql(name), params)

    def runs(self) -> pl.DataFrame:
        return self.query("runs.sql")

    def waiting_trend(self, grain: str = "week") -> pl.DataFrame:
        """The waiting-now figures over time (one point per week or month), by team."""
        return self.query("waiting_trend.sql", {"grain": grain})

    def submissions(self) -> pl.DataFrame:
        return self.query("submissions.sql")

    def submission(self, sub_id: int) -> SubmissionInfo:
        rows = self.con.execute(sql("submission.sql"), {"id": sub_id}).fetchall()
        if not rows:
            raise HistoryError(f"no submission {sub_id} in history (see `cld history runs`)")
        return SubmissionInfo(*rows[0])

    def latest_submission(self, before: int | None = None) -> SubmissionInfo | None:
        """The newest submission (optionally older than submission ``before``)."""
        row = first(self.con, sql("latest_submission.sql"), {"before": before})
        return self.submission(row[0]) if row else None

    def previous_submission(
        self, period: str | None = None, before: int | None = None
    ) -> SubmissionInfo | None:
        """What a build of quarter ``period`` compares against: an earlier submission of the
        same quarter (a resubmission), else the latest of the nearest earlier quarter, never a
        later one; within a quarter the one sent to the portal wins (``previous_submission.sql``).
        ``before``: only older submissions, and its quarter when ``period`` is not given."""
        if period is None and before is not None:
            period = self.submission(before).period
        row = first(
            self.con,
            sql("previous_submission.sql"),
            {"period": None if period is None else str(period), "before": before},
        )
        return self.submission(row[0]) if row else None

    def submission_frame(self, sub_id: int) -> pl.DataFrame:
        """A stored submission as a CLD-shaped frame (fields as text, ``_row``, ``_team_*``)."""
        self.submission(sub_id)
        fields = json.loads(first(self.con, sql("submission_fields.sql"), {"id": sub_id})[0])
        frame = fetch_frame(self.con, sql("submission_frame.sql"), {"id": sub_id})
        frame = frame.rename({"row_no": "_row", "team_id": "_team_id", "team_name": "_team_name"})
        return frame.select(*fields, pl.col("_row").cast(pl.UInt32), "_team_id", "_team_name")

    def mark_sent(self, sub_id: int) -> SubmissionInfo:
        """Record that submission ``sub_id`` is the one uploaded to the portal."""
        self.submission(sub_id)
        if self._active is not None:
            raise HistoryBusy("a run is in progress in this process; mark it sent afterwards")
        self.con.execute(sql("mark_sent.sql"), {"id": sub_id, "at": _now()})
        return self.submission(sub_id)

    def trend(self, team_id: str | None = None) -> pl.DataFrame:
        """Findings per rule and team for every finished run, oldest first."""
        return self.query("trend.sql", {"team_id": None if team_id is None else str(team_id)})

    def open_feedback(self, team_id: str | None = None) -> pl.DataFrame:
        """Outstanding NHS-number feedback items with their age (NHS number masked)."""
        return self.query(
            "feedback/open_items.sql",
            {"team_id": None if team_id is None else str(team_id), "today": dt.date.today()},
        )

    def feedback_items(self, team_id: str | None = None) -> pl.DataFrame:
        """Every NHS-number feedback item (of one team) with its ``action_needed`` flag: true
        while the team must act (open or conflict), false once the record holds the number
        found. NHS number masked as in :meth:`open_feedback`."""
        return self.query(
            "feedback/items.sql",
            {"team_id": None if team_id is None else str(team_id), "today": dt.date.today()},
        )

    def feedback_numbers(self, team_id: str | None = None) -> pl.DataFrame:
        """``id`` → ``nhs_number_found`` in full for the items a team must act on: only for
        the owning team's own exception list (never logs, results or shared outputs)."""
        return self.query("feedback/numbers.sql",
                          {"team_id": None if team_id is None else str(team_id)})

    def tables(self) -> list[str]:
        return [r[0] for r in self.con.execute(sql("tables.sql")).fetchall()]


def _submission_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as submission_rows wants it: CLD fields as text plus row_no and team."""
    fields = [c for c in frame.columns if not c.startswith("_")]
    if not fields:
        raise HistoryError("the submission frame has no CLD field columns")
    if "_row" in frame.columns and not frame["_row"].is_unique().all():
        raise HistoryError("the submission frame's _row numbers are not unique")
    row_no = pl.col("_row") if "_row" in frame.columns else pl.int_range(pl.len())
    team_id = pl.col("_team_id") if "_team_id" in frame.columns else pl.lit(None)
    team_name = pl.col("_team_name") if "_team_name" in frame.columns else pl.lit(None)
    return frame.select(
        row_no.cast(pl.Int32).alias("row_no"),
        team_id.cast(pl.String).alias("team_id"),
        team_name.cast(pl.String).alias("team_name"),
        *[pl.col(c).cast(pl.String) for c in fields],
    )


class Placement:
    """Files a run puts in the output folder, moved in the instant before its commit.

    Each move is a rename within the folder's filesystem, so a file is never half there; what
    a move replaces is kept beside it (``.<name>.before-<token>``) until the commit has
    succeeded, and put back when it fails. A journal next to the history database lists the
    moves while they are pending: a run killed between the moves and the end of its commit
    leaves it, and the next run settles it (:meth:`History.settle`), by whether history
    recorded the files.
    """

    def __init__(self, db_path: Path, pairs: list[tuple[Path, Path]]) -> None:
        self.journal = self.journal_of(db_path)
        self.pairs = pairs
        self.moves: list[tuple[Path, Path | None, str | None]] = []  # final, backup, sha256

    @staticmethod
    def journal_of(db_path: Path) -> Path:
        return db_path.with_name(db_path.name + ".placing.json")

    def place(self) -> None:
        if not self.pairs:
            return
        token = os.urandom(4).hex()
        plan = []
        for staged, final in self.pairs:
            backup = final.with_name(f".{final.name}.before-{token}") if final.exists() else None
            plan.append((staged, final, backup, file_sha256(staged)))
        self._write_journal([(f, b, h) for _, f, b, h in plan])
        try:
            for staged, final, backup, digest in plan:
                final.parent.mkdir(parents=True, exist_ok=True)
                if backup is not None:
                    os.replace(final, backup)
                self.moves.append((final, backup, digest))
                os.replace(staged, final)
        except BaseException:
            self.undo()
            raise

    def _write_journal(self, moves: list[tuple[Path, Path | None, str]]) -> None:
        body = json.dumps({"pid": os.getpid(), "moves": [
            {"final": str(f), "backup": str(b) if b else None, "sha256": h} for f, b, h in moves
        ]})  # fmt: skip
        tmp = self.journal.with_name(self.journal.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.journal)

    def undo(self) -> None:
        """Put back what the moves replaced (a new file with no predecessor is removed)."""
        for final, backup, digest in reversed(self.moves):
            if backup is not None and backup.exists():
                os.replace(backup, final)
            elif backup is None and final.exists() and digest and file_sha256(final) == digest:
                final.unlink()
        self.moves.clear()
        self.journal.unlink(missing_ok=True)

    def finish(self) -> None:
        """The run is recorded: drop the replaced files and the journal."""
        for _final, backup, _digest in self.moves:
            if backup is not None:
                with contextlib.suppress(OSError):
                    backup.unlink()
        self.moves.clear()
        with contextlib.suppress(OSError):
            self.journal.unlink()


def _write_failed(path: Path, exc: duckdb.Error) -> HistoryError:
    """A write to history that failed (full disk, read-only or damaged file), on one line."""
    text = " ".join(str(exc).split())
    if "space left" in text.lower() or "disk full" in text.lower():
        return HistoryError(
            f"the disk holding the history database {path} is full: nothing of this run was "
            "recorded; free some space there and run again"
        )
    return HistoryError(
        f"could not write the history database {path} ({text[:200]}): nothing of this run "
        "was recorded; check the disk and the file, then run again"
    )


def _busy_or_broken(path: Path, exc: duckdb.Error) -> HistoryError:
    """Turn DuckDB's file-lock error into a message that says what is going on."""
    text = str(exc)
    if "lock" in text.lower():
        m = re.search(r"PID (\d+)", text)
        who = f" (pid {m.group(1)})" if m else ""
        return HistoryBusy(
            f"the history database {path} is in use by another process{who}: a run or another "
            f"cld command has it open; try again when it has finished"
        )
    one = " ".join(text.split())[:240]
    if "read-only" in one.lower():
        return HistoryError(
            f"cannot open the history database {path}: it is on a read-only disk or folder; "
            "make it writable or point [paths] history_db elsewhere"
        )
    return HistoryError(
        f"cannot open the history database {path} ({one}): if it is damaged, move it aside "
        "and restore the last backup (a new, empty history is made when none is there)"
    )
