"""Runs the corpus (tests/corpus/cases.py): every malformed input or fault gets the behaviour
its row names, and the checks common to every case."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from tests.corpus import cases as table
from tests.corpus.harness import (
    Result,
    assert_no_personal_data,
    assert_one_line_error,
    run_cld,
    run_cld_child,
)

ROOT = Path(__file__).resolve().parents[2]


class Workspace:
    """One case's own folder, with the shared council's inputs to copy from."""

    def __init__(self, dir: Path, council, shared) -> None:
        self.dir = dir
        self.council = council
        self.shared = shared
        self.env: dict[str, str] = {}
        self.personal: list[str] = list(shared["personal"])
        self.extra: dict[str, object] = {}
        self.cleanups: list = []

    @property
    def base_cld(self) -> bytes:
        return self.shared["base_cld"]

    def config(self, text: str | None = None, **replace: str) -> Path:
        """The council's cld.toml, with ``key = value`` lines replaced (``key="section.key"``
        written as ``section__key``), written into this case's folder; outputs go there."""
        body = text if text is not None else self.council.config.read_text(encoding="utf-8")
        if text is None:
            out = self.dir / "out"
            body = body.replace(str(self.council.folder / "out"), str(out))
        for key, value in replace.items():
            section, name = key.split("__")
            body = _set_key(body, section, name, value)
        path = self.dir / "cld.toml"
        path.write_text(body, encoding="utf-8")
        return path

    def service_row(self) -> int:
        return self.shared["service_row"]

    def workbook(self) -> bytes:
        path = self.dir / "book.xlsx"
        pl.DataFrame({"LA Code": ["999"]}).write_excel(path)
        return path.read_bytes()

    def parquet(self) -> bytes:
        path = self.dir / "p.parquet"
        pl.DataFrame({"LA Code": ["999"]}).write_parquet(path)
        return path.read_bytes()

    def feed_text(self, kind: str = "carers") -> str:
        return self.shared["feeds"][kind]

    def feed_workbook(self, fn) -> bytes:
        import csv
        import io

        rows = list(csv.reader(io.StringIO(self.feed_text())))
        header, body = fn(rows[0], rows[1:])
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for r in body:
            ws.append(r)
        path = self.dir / "feed.xlsx"
        self.dir.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return path.read_bytes()

    # -- history cases ----------------------------------------------------------------------
    @property
    def history(self) -> Path:
        return self.dir / "out" / "history.duckdb"

    def recorded(self, **replace: str) -> Path:
        """The council's recorded run (history and placed files) copied here, the paths
        history holds rewritten to this folder."""
        import duckdb

        shutil.copytree(self.council.folder / "out", self.dir / "out")
        con = duckdb.connect(str(self.history))
        con.execute("UPDATE submissions SET path = replace(path, ?, ?)",
                    [str(self.council.folder / "out"), str(self.dir / "out")])  # fmt: skip
        con.close()
        self.extra["history_before"] = _history_state(self.history)
        return self.config(**replace)

    def tmpfs(self, name: str, size: str) -> Path:
        import subprocess

        mnt = self.dir / name
        mnt.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                       check=True)  # fmt: skip
        self.cleanups.append(lambda: subprocess.run(["umount", "-l", str(mnt)], check=False))
        return mnt

    def remount_ro(self, mnt: Path) -> None:
        import subprocess

        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)

    def fill(self, mnt: Path, leave: int) -> Path:
        st = os.statvfs(mnt)
        free = st.f_bavail * st.f_frsize
        filler = mnt / "filler"
        with open(filler, "wb") as fh:
            fh.truncate(0)
            fh.write(b"\0" * max(free - leave, 0))
        return filler

    def hold_history(self) -> None:
        """Another process with the history open in a run (tests/history/child_run.py)."""
        import subprocess
        import sys

        child = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "history" / "child_run.py"), "hold",
             str(self.history)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "in run"

        def stop() -> None:
            child.stdin.write("done\n")
            child.stdin.close()
            child.wait(timeout=30)
            child.stdout.close()

        self.cleanups.append(stop)

    def hold_lock(self) -> None:
        """This process holds the run lock, as a run in progress does."""
        import fcntl
        import json

        lock = self.history.with_name(self.history.name + ".lock")
        fd = os.open(lock, os.O_CREAT | os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": os.uname().nodename,
                                 "kind": "build", "started_at": "2026-01-01T09:00:00"}).encode())
        self.cleanups.append(lambda: os.close(fd))

    def half_placed(self) -> None:
        """What a run killed between its file moves and its commit leaves: the new file in
        place, the recorded one beside it, the journal."""
        import hashlib
        import json

        final = next((self.dir / "out").glob("cld_*.csv"))
        backup = final.with_name(f".{final.name}.before-dead0000")
        os.replace(final, backup)
        final.write_bytes(backup.read_bytes() + b"999,unrecorded\r\n")
        sha = hashlib.sha256(final.read_bytes()).hexdigest()
        journal = self.history.with_name(self.history.name + ".placing.json")
        journal.write_text(json.dumps({"pid": 999999, "moves": [
            {"final": str(final), "backup": str(backup), "sha256": sha}]}))

    def kill_at(self, args: list[str], marker: str, sig: str) -> Result:
        """``cld ARGS`` as a child process, sent SIG<sig> the moment it prints ``marker``."""
        import signal
        import subprocess

        from tests.corpus.harness import CLD

        proc = subprocess.Popen([*CLD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, env={**os.environ, **self.env})  # fmt: skip
        out = []
        for line in proc.stdout:
            out.append(line)
            if marker in line:
                proc.send_signal(getattr(signal, f"SIG{sig}"))
                break
        rest, err = proc.communicate(timeout=120)
        self.extra["signal"] = sig
        self.extra["marker_seen"] = any(marker in ln for ln in out)
        tb = err if "Traceback (most recent call last)" in err else None
        return Result(proc.returncode, "".join(out) + rest, err, tb)

    # -- database cases ---------------------------------------------------------------------
    @property
    def pg(self):
        return self.shared["pg"]()

    def closed_port(self) -> int:
        from tests.flows.conftest import free_port

        return free_port()

    def pg_copy(self, *statements: str, empty: bool = False, odbc: bool = False,
                personal: list[str] | None = None) -> str:
        """A database of its own for this case: the council's copied (or an empty one), then
        ``statements`` run on it."""
        import psycopg

        name = "c_" + re.sub(r"\W", "_", self.dir.name)[-50:].lower()
        with psycopg.connect(self.pg.url_psycopg("postgres"), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}"')
            con.execute(f'CREATE DATABASE "{name}"' + ("" if empty else ' TEMPLATE "council"'))
        if statements:
            with psycopg.connect(self.pg.url_psycopg(name), autocommit=True) as con:
                for st in statements:
                    con.execute(st)
        self.personal += personal or []
        return self.pg.odbc_sqlalchemy_url(name) if odbc else self.pg.sqlalchemy_url(name)

    def pg_locked(self, table: str) -> str:
        """The council's database with ``table`` locked by another session for the case."""
        import psycopg

        url = self.pg_copy()
        name = url.rsplit("/", 1)[1]
        con = psycopg.connect(self.pg.url_psycopg(name))
        con.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        self.cleanups.append(con.close)
        self.extra["config"] = {"source__lock_timeout": "1"}
        return url

    def million_rows(self) -> bytes:
        return self.shared["million"]()


def _set_key(body: str, section: str, name: str, value: str | None) -> str:
    lines = body.splitlines()
    out, current, done = [], None, False
    for ln in lines:
        m = re.match(r"^\[(\w+)\]", ln)
        if m:
            if current == section and not done and value is not None:
                out.append(f"{name} = {value}")
                done = True
            current = m.group(1)
        if current == section and re.match(rf"^{name}\s*=", ln):
            if value is not None:
                out.append(f"{name} = {value}")
            done = True
            continue
        out.append(ln)
    if not done and value is not None:
        if current != section:
            out.append(f"[{section}]")
        out.append(f"{name} = {value}")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="session")
def shared(council, tmp_path_factory, request):
    """The base CLD file: the council's built file cut to its first 40 rows (plus a service
    row), and the personal values in it that must never be printed."""
    text = council.built.read_bytes().decode("cp1252")
    lines = text.splitlines(keepends=True)
    header = lines[0].rstrip("\r\n").split(",")
    rows = lines[1:41]
    service = next((ln for ln in lines[41:] if ",Service," in ln), None)
    if service:
        rows.append(service)
    base = "".join([lines[0], *rows])
    import csv
    import io

    parsed = list(csv.reader(io.StringIO(base)))
    h = parsed[0]
    personal = set()
    for r in parsed[1:]:
        for label in ("NHS Number", "Date of Birth", "Postcode"):
            v = r[h.index(label)]
            if v:
                personal.add(v)
    personal |= {"9434765919", "943 476 5919", "Smithson"}
    cache: dict[str, bytes] = {}

    def million() -> bytes:
        if "m" not in cache:
            # a narrow row (most fields blank) keeps the file near 100 MB
            body_line = [v if i < 12 else "" for i, v in enumerate(parsed[1])]
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\r\n")
            w.writerow(h)
            row = buf.getvalue()
            one = io.StringIO()
            csv.writer(one, lineterminator="\r\n").writerow(body_line)
            cache["m"] = (row + one.getvalue() * 999_999 + '999,"open quote\r\n').encode("cp1252")
        return cache["m"]

    feeds = {}
    for kind in ("carers", "equipment"):
        # the latest file with a few rows to edit (the newest month can hold just one)
        files = sorted(council.feeds.glob(f"{kind}_*.csv"))
        src = max(files, key=lambda f: (len(f.read_bytes().splitlines()) >= 5, f.name)).read_bytes()
        try:
            t = src.decode("utf-8-sig")
        except UnicodeDecodeError:
            t = src.decode("cp1252")
        t = t.replace("\r\n", "\n").replace("\n", "\r\n")
        feeds[kind] = "".join(t.splitlines(True)[:8])
    pg_cache: dict[str, object] = {}

    def pg():
        """The suite's PostgreSQL with the council loaded as database ``council`` (on first
        use: only the database cases need it)."""
        if "pg" not in pg_cache:
            server = request.getfixturevalue("pg_server")
            server.create_database("council")
            res = run_cld(["sample", "--people", "300", "--seed", "11", "--defects", "0",
                           "--to", server.sqlalchemy_url("council"),
                           "--out", str(tmp_path_factory.mktemp("pg-sample"))])
            assert res.code == 0 and res.traceback is None, res.text
            pg_cache["pg"] = server
        return pg_cache["pg"]

    service_row = len(rows) - 1 if service else 0
    del header
    return {"base_cld": base.encode("cp1252"), "personal": sorted(personal),
            "million": million, "service_row": service_row, "feeds": feeds,
            "pg": pg}  # fmt: skip


FEED_CASES = [c for c in table.CASES if c.area == table.FEED]
CHILD_CASES = [c for c in table.CASES if c.child]


@pytest.fixture(scope="session")
def children(council, shared, tmp_path_factory):
    """The cases run as child processes (kills), started together (a few at a time) so
    their builds overlap; each in its own folder."""
    from concurrent.futures import ThreadPoolExecutor

    def one(c):
        ws = Workspace(tmp_path_factory.mktemp(c.id), council, shared)
        try:
            args = c.make(ws)
            res = args if isinstance(args, Result) else run_cld_child(args, env=ws.env)
        except BaseException as exc:
            return ws, exc
        return ws, res

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip([c.id for c in CHILD_CASES], pool.map(one, CHILD_CASES), strict=True))


@pytest.fixture(scope="session")
def feed_build(council, shared, tmp_path_factory):
    """Every feed case's file in one feeds folder (with the council's own files), and one
    ``cld build`` over them all: it must finish and account for each file."""
    import json

    folder = tmp_path_factory.mktemp("feed-build")
    feeds = folder / "feeds"
    shutil.copytree(council.feeds, feeds)
    files = {}
    for c in FEED_CASES:
        ws = Workspace(folder / "cases" / c.id, council, shared)
        ws.dir.mkdir(parents=True)
        ff = c.make(ws)
        (feeds / ff.name).write_bytes(ff.data)
        files[c.id] = ff
    ws = Workspace(folder, council, shared)
    cfg = ws.config(paths__feeds_dir=f'"{feeds}"')
    res = run_cld(["-c", str(cfg), "build", "--period", council.period])
    summaries = list((folder / "out").glob("cld_*.summary.json"))
    summary = json.loads(summaries[0].read_text()) if summaries else None
    return {"result": res, "summary": summary, "files": files, "feeds": feeds,
            "quarantine": folder / "out" / "quarantine"}  # fmt: skip


def _verify_feed(c: table.Case, fb, personal: list[str]) -> None:
    res: Result = fb["result"]
    assert res.traceback is None, f"the build ended in a traceback:\n{res.traceback}"
    assert res.code == 0 and fb["summary"], f"the build did not finish:\n{res.err}"
    ff = fb["files"][c.id]
    feeds = fb["summary"]["feeds"]
    q = {x["file"]: x for x in feeds["quarantined"]}
    if c.expect.kind == "quarantined":
        assert ff.name in q, f"{ff.name} not quarantined (processed: {ff.name in feeds['processed']})"
        reason = q[ff.name]["reason"]
        assert re.search(c.expect.pattern, reason), f"reason {reason!r} !~ {c.expect.pattern!r}"
        moved = Path(q[ff.name]["moved_to"])
        assert moved.read_bytes() == ff.data, "the quarantined copy differs from the file"
        note = moved.with_name(moved.name + ".reason.txt").read_text(encoding="utf-8")
        assert reason in note
        assert not (fb["feeds"] / ff.name).exists()
        assert reason.count("\n") == 0
        for value in personal:
            assert value not in reason and value not in note
        assert reason in res.out  # the build says so
    else:
        assert ff.name in feeds["processed"], f"{ff.name}: {q.get(ff.name)}"
        assert (fb["feeds"] / ff.name).read_bytes() == ff.data, "a read file must stay as it was"


def _history_state(db: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        runs = con.execute("SELECT kind, status FROM runs ORDER BY id").fetchall()
        subs = con.execute(
            "SELECT path, sha256 FROM submissions WHERE path IS NOT NULL ORDER BY id"
        ).fetchall()
    finally:
        con.close()
    return {"runs": runs, "submissions": subs}


def assert_folder_holds_what_history_records(ws: Workspace, db: Path | None = None) -> dict:
    """The output folder holds, byte for byte, the file history last recorded at each path;
    nothing half placed is left beside it."""
    import hashlib

    db = db or ws.history
    state = _history_state(db)
    latest: dict[str, str] = {}
    for path, sha in state["submissions"]:
        latest[path] = sha
    for path, sha in latest.items():
        p = Path(path)
        assert p.exists(), f"history records {p.name}, the output folder does not hold it"
        assert hashlib.sha256(p.read_bytes()).hexdigest() == sha, f"{p.name} is not what history records"
    out = ws.dir / "out"
    assert not list(out.glob(".*.before-*")), "a replaced file was left beside the new one"
    assert not db.with_name(db.name + ".placing.json").exists(), "a placement left pending"
    unrecorded = {str(p) for p in out.glob("cld_*.csv")} - set(latest)
    assert not unrecorded, f"files history does not record: {sorted(unrecorded)}"
    return state


def _verify_history(c: table.Case, ws: Workspace, res: Result) -> None:
    e = c.expect
    before = ws.extra.get("history_before")
    if e.kind == "killed":
        sig = ws.extra["signal"]
        assert ws.extra["marker_seen"], f"the run never reached the stage:\n{res.out}\n{res.err}"
        if sig == "KILL":
            assert res.code == -9, (res.code, res.err)
            # A SIGKILL in the instant between the moves and the commit leaves a journal:
            # the next run settles it first (as hist-journal-left shows); do the same.
            from pipelines.history import History

            with History.open(ws.history) as h:
                h.settle_pending()
        else:
            assert res.code == {"TERM": 143, "INT": 130}[sig], (res.code, res.err)
            lines = res.err_lines()
            assert lines and lines[-1].startswith("error: "), res.err
            assert len([ln for ln in lines if ln.startswith("error:")]) == 1, res.err
        state = assert_folder_holds_what_history_records(ws)
        assert all(s in ("ok", "failed") for _, s in state["runs"])
        return
    if e.kind == "ran":
        assert res.code in (0, 1), f"exit {res.code}:\n{res.err}\n{res.out[-2000:]}"
        state = assert_folder_holds_what_history_records(ws)
        assert len(state["runs"]) == len(before["runs"]) + 1 and state["runs"][-1][1] == "ok"
        assert not list((ws.dir / "out").glob(".staging-*"))
        return
    if before is not None and ws.history.exists() and e.kind == "error":
        try:
            after = _history_state(ws.history)
        except Exception:
            return
        assert after == before, "a refused run changed history"
        assert_folder_holds_what_history_records(ws)


def _verify(c: table.Case, ws: Workspace, res: Result) -> None:
    e = c.expect
    assert res.traceback is None, f"traceback:\n{res.traceback}"
    if e.kind == "error":
        assert_one_line_error(res, e.pattern, str(ws.dir))
    elif e.kind == "checked":
        assert res.code in ((0, 1) if e.code is None else (e.code,)), (
            f"exit {res.code}:\n{res.err}\n{res.out[-3000:]}"
        )
        findings = pl.read_parquet(ws.dir / "o" / "findings.parquet")
        for rule in e.rules:
            assert rule in findings["rule_id"].to_list(), (
                f"no {rule} among {sorted(set(findings['rule_id']))}"
            )
    if c.area == table.HIST:
        _verify_history(c, ws, res)
    if c.area == table.FEEDBACK and "quarantined" in c.expect.pattern:
        src = ws.extra["feedback_file"]
        copies = [p for p in (ws.dir / "out" / "quarantine").rglob(f"*{src.name}")
                  if p.is_file() and p.name.endswith(src.name)]
        # one quarantine (pipelines/source/intake.py): an intact copy goes into the run's
        # quarantine folder with its reason; the file the user named stays where it is, as it
        # was (it may be another file given by mistake: a provider's, from the feeds folder)
        assert copies and copies[0].read_bytes() == ws.extra["feedback_bytes"], (
            "no intact copy kept"
        )
        assert src.read_bytes() == ws.extra["feedback_bytes"], "the named file was changed"
        assert list(copies[0].parent.glob("*reason*")), "no reason file beside it"
    assert_no_personal_data(res, ws.personal)
    check = ws.extra.get("verify")
    if callable(check):
        check(ws, res)
        at = ws.extra.get("history_checked_at")
        if at:
            state = assert_folder_holds_what_history_records(ws, at)
            assert state["runs"][-1] == ("build", "ok"), state["runs"]


@pytest.mark.parametrize("c", table.CASES, ids=[c.id for c in table.CASES])
def test_case(c: table.Case, council, shared, tmp_path, request) -> None:
    if c.root and os.geteuid() != 0:
        pytest.skip("needs root to mount a tiny tmpfs")
    if c.area == table.FEED:
        _verify_feed(c, request.getfixturevalue("feed_build"), shared["personal"])
        return
    if c.child:
        ws, res = request.getfixturevalue("children")[c.id]
        if isinstance(res, BaseException):
            raise res
        try:
            _verify(c, ws, res)
        finally:
            for fn in reversed(ws.cleanups):
                fn()
        return
    ws = Workspace(tmp_path, council, shared)
    try:
        args = c.make(ws)
        if isinstance(args, Result):
            res = args
        elif c.child:
            res = run_cld_child(args, env=ws.env)
        else:
            res = run_cld(args, env=ws.env)
        _verify(c, ws, res)
    finally:
        for fn in reversed(ws.cleanups):
            fn()


def test_corpus_size() -> None:
    assert len(table.CASES) >= 100


def test_docs_list_the_corpus() -> None:
    """docs/inputs.md is the corpus table as text: regenerate with python -m tests.corpus.docs."""
    from tests.corpus.docs import DOC, render

    assert DOC.read_text(encoding="utf-8") == render(), "run: python -m tests.corpus.docs"
