"""Benchmark: the quarterly build of a large county from PostgreSQL.

Run on demand (not part of the test suite):

    .venv/bin/python -m benchmarks.bench_build [--size large] [--people N] [--period 2025-26Q3]
                                               [--engine auto|sqlalchemy|arrow-odbc] [--odbc]

It starts a throwaway PostgreSQL server (tests/pgserver.py), loads the sample council into it
(``pipelines.sample.generate(url, size=...)``, with its provider feeds), then runs
``pipelines.build.build`` in a child process so the peak memory (max RSS) is the build's alone.
Printed: seconds per stage (extract, feeds, transform, write), the peak RSS after each stage
(a running maximum), rows and file size, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
from pipelines.build import build
from pipelines.config import load_config

cfg_path, period, source = sys.argv[1:4]
peaks = {}

def peak_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)

def tick(stage, done, total):
    if total and done >= total:
        peaks[stage] = peak_mb()

t = time.perf_counter()
res = build(load_config(cfg_path), period, source=source, progress=tick)
total = time.perf_counter() - t
print(json.dumps({
    "seconds": res.summary["seconds"], "total_seconds": round(total, 2),
    "peak_rss_mb_after_stage": peaks, "peak_rss_mb": peak_mb(),
    "rows": res.summary["rows"], "people": res.summary["people"],
    "file_mb": round(res.path.stat().st_size / 2**20, 1),
    "unmapped_codes": len(res.summary["unmapped"]),
    "quarantined": len(res.summary["feeds"].get("quarantined", [])),
}))
"""

CONFIG = """
[council]
la_code = "999"
name = "Benchmark county"
[paths]
output_dir = "{base}/out"
quarantine_dir = "{base}/quarantine"
mappings_dir = "{root}/data/sample/mappings"
sql_dir = "{root}/sql"
feeds_dir = "{feeds}"
contracts_dir = "{root}/data/sample/contracts"
[source]
read_engine = "{engine}"
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="large")
    ap.add_argument("--people", type=int, default=None)
    ap.add_argument("--period", default="2025-26Q3")
    ap.add_argument("--engine", default="auto", choices=["auto", "sqlalchemy", "arrow-odbc"])
    ap.add_argument("--odbc", action="store_true", help="read through ODBC instead of psycopg")
    ap.add_argument("--work-mem", default="64MB", help="PostgreSQL work_mem for the extract")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from pipelines.sample import generate
    from tests.pgserver import PgServer

    server = PgServer.start()
    try:
        server.create_database("bench_build")
        url = server.sqlalchemy_url("bench_build")
        base = Path(tempfile.mkdtemp(prefix="cld-bench-build-"))
        t = time.perf_counter()
        info = generate(url, size=args.size, people=args.people, out_dir=base / "sample")
        load_s = time.perf_counter() - t
        # A council's database has planner statistics; a freshly bulk-loaded one may not yet
        # (autovacuum lags on a busy machine), and without them PostgreSQL picks nested-loop
        # plans for the extract's IN (...) filters that run for minutes.
        import psycopg

        with psycopg.connect(server.url_psycopg("bench_build"), autocommit=True) as conn:
            conn.execute("ANALYZE")
            # The extract's `step_id IN (subquery)` filters are only hashed when the subquery
            # fits in work_mem; with the default 4MB a large county gets a nested loop that
            # runs for minutes (seen 2026-11-26). A council server's DBA sets this; so do we.
            conn.execute(f"ALTER SYSTEM SET work_mem = '{args.work_mem}'")
            conn.execute("SELECT pg_reload_conf()")
        cfg = base / "cld.toml"
        cfg.write_text(
            CONFIG.format(base=base, root=ROOT, feeds=info.feeds_dir, engine=args.engine),
            encoding="utf-8",
        )
        source = server.odbc_connection_string("bench_build") if args.odbc else url
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(cfg), args.period, source],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result |= {
            "size": args.size,
            "people_generated": info.people,
            "period": args.period,
            "source": "odbc" if args.odbc else "psycopg",
            "engine": args.engine,
            "load_seconds": round(load_s, 1),
            "pg_work_mem": args.work_mem,
        }
        print(json.dumps(result, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
