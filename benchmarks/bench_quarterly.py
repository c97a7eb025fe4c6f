"""Benchmark: the quarterly run end to end for the large county from PostgreSQL (issue 16):
build, checks, history, comparison with the previous quarter, DQ report and team lists, as
``cld run quarterly`` runs it, timed as a whole process.

    .venv/bin/python -m benchmarks.bench_quarterly [--size large] [--period 2025-26Q4]
        [--previous 2025-26Q3] [--repeat 2]

A throwaway PostgreSQL server (tests/pgserver.py) is loaded with the sample council; the
previous quarter is run once (so the timed run has a submission to compare with), then the
period is run ``--repeat`` times (each a new run in the same history, as a re-run would be).
Printed per run: wall and CPU seconds, peak RSS (the run and the processes it starts,
together: benchmarks/measure.py) and the 1-minute load average; the
target is at most 30 s. Not part of the test suite.

To rerun on a quiet machine (nothing else running; ``uptime`` load under 1), from the project
folder: ``.venv/bin/python -m benchmarks.bench_quarterly --repeat 3``. It takes about 5 minutes
at load 5-9 (sample 45 s, the previous quarter once, then each timed run), less when quiet; it
needs Debian's PostgreSQL 15 binaries and removes its server and data at the end. Give the
median wall time, the CPU seconds beside it and the load average.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CONFIG = """
[council]
la_code = "999"
name = "Benchmark county"
[paths]
output_dir = "{base}/out"
history_db = "{base}/out/history.duckdb"
quarantine_dir = "{base}/quarantine"
mappings_dir = "{root}/data/sample/mappings"
sql_dir = "{root}/sql"
feeds_dir = "{feeds}"
contracts_dir = "{root}/data/sample/contracts"
[checks]
thresholds = "{root}/data/sample/thresholds.yaml"
[delivery]
mode = "folder"
directory = "{root}/data/sample/team_directory.csv"
folder = "{base}/out/exceptions"
"""


def timed(cmd: list[str], env: dict[str, str]) -> dict:
    """The whole run measured with everything it starts (benchmarks.measure): ``peak_mb``
    the run and its children (the GX process) together, ``largest_mb`` the largest one."""
    from benchmarks.measure import run_measured

    r = run_measured(cmd, env=env, every=0.2)
    if r["code"] not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[-4:])} failed ({r['code']}):\n{r['out'][-2000:]}")
    return {
        "wall_s": round(r["wall_s"], 1),
        "cpu_s": round(r["cpu_s"], 1),
        "peak_mb": round(r["peak_tree_mb"]),
        "largest_mb": round(r["peak_mb"]),
        "load_1m": round(r["load_1m"][0], 1),
        "exit": r["code"],
        "tail": r["out"].strip().splitlines()[-4:],
        "steps": steps(r["lines"]),
    }


STEPS = ("building", "checking", "recording", "history:", "comparing", "writing the DQ",
         "writing the team")


def steps(lines: list[tuple[float, str]]) -> dict[str, float]:
    """Seconds from each progress line of ``cld run`` to the next one (the step it names)."""
    marks = [(t, text.strip("· ")) for t, text in lines if text.strip("· ").startswith(STEPS)]
    marks.append((lines[-1][0] if lines else 0.0, "end"))
    return {m[1][:40]: round(n[0] - m[0], 1) for m, n in itertools.pairwise(marks)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="large")
    ap.add_argument("--period", default="2025-26Q4")
    ap.add_argument("--previous", default="2025-26Q3")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--work-mem", default="64MB")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    from pipelines.sample import generate
    from tests.pgserver import PgServer

    server = PgServer.start()
    try:
        server.create_database("bench_quarterly")
        url = server.sqlalchemy_url("bench_quarterly")
        base = Path(tempfile.mkdtemp(prefix="cld-bench-quarterly-"))
        info = generate(url, size=a.size, out_dir=base / "sample")
        import psycopg

        # planner statistics and work_mem as a council's server has them (see bench_build)
        with psycopg.connect(server.url_psycopg("bench_quarterly"), autocommit=True) as conn:
            conn.execute("ANALYZE")
            conn.execute(f"ALTER SYSTEM SET work_mem = '{a.work_mem}'")
            conn.execute("SELECT pg_reload_conf()")
        cfg = base / "cld.toml"
        cfg.write_text(CONFIG.format(base=base, root=ROOT, feeds=info.feeds_dir), "utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLD_")}
        env["CLD_DATABASE_URL"] = url
        cld = [str(Path(sys.executable).parent / "cld"), "-c", str(cfg), "run", "quarterly"]
        prev = timed([*cld, "--period", a.previous, "--build-anyway"], env)
        print(f"previous quarter {a.previous}: {prev['wall_s']} s", flush=True)
        runs = []
        for i in range(a.repeat):
            r = timed([*cld, "--period", a.period, "--build-anyway"], env)
            runs.append(r)
            print(
                f"run {i + 1} {a.period}: {r['wall_s']} s (cpu {r['cpu_s']} s), peak "
                f"{r['peak_mb']} MB, load {r['load_1m']}",
                flush=True,
            )
            print("  by step: " + ", ".join(f"{k} {v} s" for k, v in r["steps"].items()))
        walls = [r["wall_s"] for r in runs]
        res = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "size": a.size,
            "people": info.people,
            "period": a.period,
            "median_s": statistics.median(walls),
            "min_s": min(walls),
            "max_s": max(walls),
            "runs": runs,
            "within_30s": statistics.median(walls) <= 30,
        }
        print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=2))
        print("\n".join(runs[-1]["tail"]))
        if a.json:
            a.json.write_text(json.dumps(res, indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
