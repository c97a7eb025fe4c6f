"""Benchmark: comparing two submissions in the history database.

Run on demand (not part of the test suite):

    .venv/bin/python -m benchmarks.bench_history county   [--rows 300000]
    .venv/bin/python -m benchmarks.bench_history england  [--rows 13000000] [--memory-limit 2GB]

county:  two large-county submissions (~300k rows each) are synthesised as CLD frames in polars
         (the second is the first with 3% of rows dropped, 5% changed and 4% added), stored
         through ``History.run(...).add_submission``, then ``compare``
         (pipelines.history.compare) is timed in a fresh process (first call and best of 3).
         Target: at most 2 s.
england: two England-size submissions (~13M rows each) are synthesised directly in DuckDB SQL
         (too big to build as polars frames within the memory budget; the same perturbations),
         then one ``compare`` runs in a fresh process with DuckDB's memory_limit set
         and a temp directory to spill into. Peak memory is that process's max RSS
         (``resource.getrusage``). Target: at most 4 GB.

Both print one JSON line per measurement: wall time (first call, best of the calls), the CPU
time of the best call summed over DuckDB's threads (a figure the other processes on a shared
machine do not inflate: on an idle 2-core machine the wall time is at most about this), the
1-minute load average when measuring, and peak RSS. The databases go to a temporary folder;
``--keep DIR`` keeps them, and ``england --keep DIR`` on a folder that already holds the
database measures the comparison again without rebuilding it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.history import History  # noqa: E402
from pipelines.history.store import insert_keyed_rows, sql  # noqa: E402

CHILD = """
import json, os, resource, sys, time
from pipelines.history import History
from pipelines.history.compare import compare
db, a, b, repeat, memory_limit, temp_dir = sys.argv[1:7]

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

walls, cpus = [], []
load = os.getloadavg()[0]
with History.open(db, memory_limit=memory_limit or None, temp_directory=temp_dir or None) as h:
    for _ in range(int(repeat)):
        t, c0 = time.perf_counter(), cpu()
        c = compare(h, int(a), int(b))
        walls.append(time.perf_counter() - t)
        cpus.append(cpu() - c0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"first_s": round(walls[0], 3), "best_s": round(min(walls), 3),
                  "best_cpu_s": round(min(cpus), 3), "load_avg_1m": round(load, 1),
                  "peak_rss_mb": round(peak), "totals": c.totals(),
                  "warnings": len(c.warnings)}))
"""

PSR = [
    "Physical Support: Access & mobility only", "Physical Support: Personal care support",
    "Sensory Support: Support for visual impairment", "Support with Memory & Cognition",
    "Learning Disability Support", "Mental Health Support",
    "Social Support: Substance misuse support", "Social Support: Support to Carer",
    "Social Support: Support for Social Isolation/Other",
]  # fmt: skip
SERVICE_TYPES = ["Long Term Support: Nursing Care", "Long Term Support: Residential Care",
                 "Long Term Support: Community", "Short Term Support: ST-Max",
                 "Short Term Support: Other Short Term"]  # fmt: skip
OUTCOMES = ["Provision of service", "No services provided - needs identified but self funding",
            "Progress to assessment", "Progress to Reablement/ST-Max", "NFA"]  # fmt: skip


def synth_frame(n: int, seed: int, row_offset: int = 0) -> pl.DataFrame:
    """``n`` plausible CLD rows (R1 fields, text) for one council over 2024."""
    from cld_schema import load_spec

    spec = load_spec("R1")
    rng = np.random.default_rng(seed)
    people = max(n // 3, 1)
    person = rng.integers(0, people, n) + seed * 10_000_000
    kind = rng.choice(["Request", "Assessment", "Service", "Review"], n, p=[0.3, 0.2, 0.4, 0.1])
    start = np.datetime64("2024-01-01") + rng.integers(0, 366, n).astype("timedelta64[D]")
    length = rng.integers(0, 90, n).astype("timedelta64[D]")
    end = start + length
    open_service = (kind == "Service") & (rng.random(n) < 0.5)
    cols: dict[str, object] = {
        "LA_Code": "999",
        "Reporting_Period_Start_Date": "2024-01-01",
        "Reporting_Period_End_Date": "2024-12-31",
        "NHS_Number": (person * 7919 % 9_000_000_000 + 1_000_000_000).astype(str),
        "LA_Person_Unique_Identifier": person.astype(str),
        "First_Name": rng.choice(["Ann", "Bob", "Cath", "Dev", "Eli"], n),
        "Last_Name": rng.choice(["Smith", "Jones", "Patel", "Brown", "Khan"], n),
        "Gender": rng.choice(["Male", "Female"], n),
        "Date_of_Birth": (np.datetime64("1930-01-01") + (person % 20000).astype("timedelta64[D]"))
        .astype(str),
        "Client_Type": rng.choice(["Service User", "Carer"], n, p=[0.9, 0.1]),
        "Primary_Support_Reason": rng.choice(PSR, n),
        "Postcode": rng.choice(["ME14 1XX", "CT1 2YY", "TN23 3ZZ", "DA1 4AA"], n),
        "Event_Type": kind,
        "Event_Reference": (np.arange(n) + row_offset).astype(str),
        "Event_Start_Date": start.astype(str),
        "Event_End_Date": np.where(open_service, None, end.astype(str)),
        "Event_Outcome": rng.choice(OUTCOMES, n),
        "Request_Route_of_Access": np.where(kind == "Request", "Community / Other route", None),
        "Assessment_Type": np.where(kind == "Assessment", "Long Term Support Assessment", None),
        "Service_Type": np.where(kind == "Service", rng.choice(SERVICE_TYPES, n), None),
        "Service_Component": np.where(
            kind == "Service", rng.choice(["Home care", "Day care"], n), None
        ),
        "Unit_Cost": np.where(kind == "Service", rng.integers(10, 900, n).astype(str), None),
    }  # fmt: skip
    frame = pl.DataFrame([_text(k, v, n) for k, v in cols.items()])
    missing = [f for f in spec.field_names if f not in frame.columns]
    frame = frame.with_columns(pl.lit(None, pl.String).alias(f) for f in missing)
    team = person % 25
    return frame.select(spec.field_names).with_columns(
        (pl.int_range(pl.len(), dtype=pl.UInt32) + row_offset).alias("_row"),
        pl.Series("_team_id", team.astype(str)),
        pl.Series("_team_name", [f"Team {t}" for t in team]),
    )


def _text(name: str, values: object, n: int) -> pl.Series:
    """A text column from a constant, a numpy array or an object array holding None."""
    if not isinstance(values, np.ndarray):
        return pl.Series(name, [values] * n, dtype=pl.String)
    if values.dtype == object:
        return pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String)
    return pl.Series(name, values.astype(str), dtype=pl.String)


def perturb(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    """The next quarter's file: 3% of rows dropped, 5% changed, 4% new rows added."""
    rng = np.random.default_rng(seed)
    n = frame.height
    keep = rng.random(n) >= 0.03
    change = pl.Series(rng.random(n) < 0.05)
    changed = frame.with_columns(
        pl.when(change)
        .then(pl.lit("NFA"))
        .otherwise(pl.col("Event_Outcome"))
        .alias("Event_Outcome")
    ).filter(pl.Series(keep))
    new = synth_frame(int(n * 0.04), seed + 1, row_offset=n)
    return pl.concat([changed, new]).with_columns(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row")
    )


def run_child(db: Path, a: int, b: int, repeat: int, memory_limit: str, temp: Path | None) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), str(a), str(b), str(repeat), memory_limit,
         str(temp or "")],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_county(folder: Path, rows: int) -> dict:
    db = folder / "county.duckdb"
    old = synth_frame(rows, seed=1)
    new = perturb(old, seed=2)
    stored = []
    with History.open(db) as h:
        for period, frame in (("2024-25Q2", old), ("2024-25Q3", new)):
            t = time.perf_counter()
            with h.run("build", period, "R1") as run:
                run.add_submission(None, frame)
            stored.append(round(time.perf_counter() - t, 2))
    result = run_child(db, 1, 2, 3, "", None)
    return {"benchmark": "county", "rows_a": old.height, "rows_b": new.height,
            "store_s": stored, **result}  # fmt: skip


# Both build _new_rows, the table the store's own insert (sql/history/keyed_new_rows.sql)
# reads, so the rows are hashed and stored exactly as add_submission stores them.
ENGLAND_A = """
CREATE OR REPLACE TEMP TABLE _new_rows AS
SELECT (i + $offset)::INTEGER AS row_no,
       (i // 4 % 3000)::VARCHAR AS team_id, 'Team ' || (i // 4 % 3000) AS team_name,
       (100 + i // 85000)::VARCHAR AS LA_Code,
       '2024-01-01' AS Reporting_Period_Start_Date, '2024-12-31' AS Reporting_Period_End_Date,
       (1000000000 + hash(i // 4) % 8999999999)::VARCHAR AS NHS_Number,
       (i // 4 + $offset)::VARCHAR AS LA_Person_Unique_Identifier,
       ['Ann', 'Bob', 'Cath', 'Dev', 'Eli'][1 + (i // 4) % 5] AS First_Name,
       ['Smith', 'Jones', 'Patel', 'Brown', 'Khan'][1 + (i // 20) % 5] AS Last_Name,
       ['Male', 'Female'][1 + (i // 4) % 2] AS Gender,
       strftime(DATE '1930-01-01' + ((i // 4) % 20000)::INTEGER, '%Y-%m-%d') AS Date_of_Birth,
       'Service User' AS Client_Type,
       $psr[1 + (i // 4) % 9] AS Primary_Support_Reason,
       'ME14 ' || ((i // 4) % 9) || 'XX' AS Postcode,
       ['Request', 'Assessment', 'Service', 'Review'][(1 + hash(i, 'k') % 4)::BIGINT] AS Event_Type,
       i::VARCHAR AS Event_Reference,
       strftime(DATE '2024-01-01' + (hash(i, 's') % 366)::INTEGER, '%Y-%m-%d') AS Event_Start_Date,
       CASE WHEN hash(i, 'o') % 5 = 0 THEN NULL ELSE
       strftime(DATE '2024-01-01' + (hash(i, 's') % 366)::INTEGER + (hash(i, 'l') % 90)::INTEGER,
                '%Y-%m-%d') END AS Event_End_Date,
       $outcomes[(1 + hash(i, 'u') % 5)::BIGINT] AS Event_Outcome,
       'Community / Other route' AS Request_Route_of_Access,
       'Long Term Support Assessment' AS Assessment_Type,
       $service_types[(1 + hash(i, 't') % 5)::BIGINT] AS Service_Type,
       ['Home care', 'Day care'][(1 + hash(i, 'c') % 2)::BIGINT] AS Service_Component,
       (10 + hash(i, 'p') % 900)::VARCHAR AS Unit_Cost
FROM range($n) AS t(i)
"""

ENGLAND_B = """
CREATE OR REPLACE TEMP TABLE _new_rows AS
SELECT * EXCLUDE (submission_id, event_key, row_hash) REPLACE (
           CASE WHEN hash(row_no, 'chg') % 100 < 5 THEN 'NFA' ELSE Event_Outcome END
               AS Event_Outcome)
FROM submission_rows
WHERE submission_id = $from AND hash(row_no, 'drop') % 100 >= 3
"""


def _england_submission(h: History, period: str, build) -> int:
    with h.run("build", period, "R1") as run:
        sid = h._next_id("submissions")
        h.con.execute(
            sql("insert_submission.sql"),
            {"id": sid, "run_id": run.id, "path": None, "sha256": None, "rows": 0,
             "release": "R1", "fields": None, "created_at": time.strftime("%Y-%m-%d %H:%M:%S")},
        )  # fmt: skip
        build(sid)
    return sid


def _store_new_rows(h: History, sid: int) -> None:
    insert_keyed_rows(h.con, "submission_rows", sid)
    h.con.execute("DROP TABLE _new_rows")


def bench_england(folder: Path, rows: int, memory_limit: str) -> dict:
    from cld_schema import load_spec

    db = folder / "england.duckdb"
    fields = json.dumps(load_spec("R1").field_names)
    params = {"psr": PSR, "outcomes": OUTCOMES, "service_types": SERVICE_TYPES}
    t = time.perf_counter()
    if db.exists():  # kept from an earlier run (--keep): measure the comparison again
        with History.open(db) as h:
            counts = dict(h.con.execute("SELECT id, rows FROM submissions ORDER BY id").fetchall())
        a, b = sorted(counts)[:2]
        setup = None
    else:
        a, b, counts = _england_setup(db, folder, rows, memory_limit, fields, params)
        setup = round(time.perf_counter() - t, 1)
    result = run_child(db, a, b, 1, memory_limit, folder / "tmp")
    size_mb = round(db.stat().st_size / 2**20)
    return {"benchmark": "england", "rows_a": counts[a], "rows_b": counts[b],
            "setup_s": setup, "db_mb": size_mb, "memory_limit": memory_limit, **result}  # fmt: skip


def _england_setup(
    h_path: Path, folder: Path, rows: int, memory_limit: str, fields: str, params: dict
) -> tuple[int, int, dict[int, int]]:
    """Two England-size submissions written through the store's own insert SQL."""
    with History.open(h_path, memory_limit=memory_limit, temp_directory=folder / "tmp") as h:

        def build_a(sid: int) -> None:
            h.con.execute(ENGLAND_A, {**params, "n": rows, "offset": 0})
            _store_new_rows(h, sid)

        a = _england_submission(h, "2024-25Q2", build_a)

        def build_b(sid: int) -> None:
            h.con.execute(ENGLAND_B, {"from": a})
            _store_new_rows(h, sid)
            # 4% new rows, numbered after the old ones, for people not in the old file
            h.con.execute(ENGLAND_A, {**params, "n": int(rows * 0.04), "offset": rows})
            _store_new_rows(h, sid)

        b = _england_submission(h, "2024-25Q3", build_b)
        h.con.execute(
            "UPDATE submissions SET rows = (SELECT count(*) FROM submission_rows r "
            "WHERE r.submission_id = submissions.id), fields = $f",
            {"f": fields},
        )
        counts = dict(h.con.execute("SELECT id, rows FROM submissions ORDER BY id").fetchall())
    return a, b, counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("which", choices=["county", "england", "all"])
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit (england)")
    ap.add_argument("--keep", type=Path, default=None, help="Folder to keep the databases in")
    args = ap.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_history_"))
    folder.mkdir(parents=True, exist_ok=True)
    machine = {"machine": platform.platform(), "python": platform.python_version(),
               "cpus": os.cpu_count(), "date": time.strftime("%Y-%m-%d")}  # fmt: skip
    print(json.dumps(machine))
    try:
        if args.which in ("county", "all"):
            print(json.dumps(bench_county(folder, args.rows or 300_000)), flush=True)
        if args.which in ("england", "all"):
            print(json.dumps(bench_england(folder, args.rows or 13_000_000, args.memory_limit)),
                  flush=True)  # fmt: skip
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
