"""Benchmark: ``cld check`` over a folder holding all of England's councils' files (about 15
million CLD rows a year across 153 councils, shared/reference/cld/volumes.md), as one whole
process, beside the bare polars scan of the same files in the same benchmark run (issue 16).

    .venv/bin/python -m benchmarks.bench_check_england FILE --folder DIR [--rows 15000000]
        [--jobs N] [--config cld.toml] [--json out.json]

For example, from the checkout (about 5 minutes to write the folder the first time, then the
check itself, 4-5 minutes on a quiet 2-core machine, and the bare scan, 1-2 minutes)::

    mkdir -p ../perf-data && cd ../perf-data
    ../<checkout>/.venv/bin/cld sample --size large --replace     # writes into the config's out/
    ../<checkout>/.venv/bin/cld build --period 2025-26Q4
    ../<checkout>/.venv/bin/python -m benchmarks.bench_check_england \
        out/cld_999_2025-26Q4_R2.csv --folder england   # (run from the checkout, or with
                                                        #  PYTHONPATH=<checkout>)

``cld check`` checks the folder's files ``--jobs`` at a time in worker processes (default one
per core); peak memory is given both for the largest single process and for the process with
its workers together (the 6 GB target is on the latter).

FILE is a built council file (e.g. the large county); the folder is filled with copies of it,
each with its own LA code, until the rows reach ``--rows`` (kept for the next run). Targets:
at most 5 minutes and 6 GB peak on the project's 2-core machine. The 1-minute load average is
recorded at the start and end of each process. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import measure  # noqa: E402
from benchmarks.bench_check_process import BIN, event_type_header, memory_gb, rows_of  # noqa: E402

SCAN_ALL = """
import sys, polars as pl
for path in sys.argv[2:]:
    lf = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
    lf.group_by(sys.argv[1]).agg(pl.all().n_unique()).collect()
"""


def run_measured(cmd: list[str]) -> dict:
    """The whole process measured (benchmarks.measure): ``peak_mb`` the largest single
    process (wait4), ``peak_tree_mb`` the most the process and its workers held together."""
    r = measure.run_measured(cmd, every=0.2)
    return {
        "wall_s": round(r["wall_s"], 1),
        "cpu_s": round(r["cpu_s"], 1),
        "peak_mb": round(r["peak_mb"]),
        "peak_tree_mb": round(r["peak_tree_mb"]),
        "code": r["code"],
        "load_1m": [round(x, 1) for x in r["load_1m"]],
        "tail": r["out"].strip().splitlines()[-3:],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--folder", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=15_000_000)
    ap.add_argument("--config", type=Path)
    ap.add_argument("--jobs", type=int, default=0, help="cld check --jobs (0: one per core)")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    per_file = rows_of(a.file)
    councils = math.ceil(a.rows / per_file)
    files = sorted(a.folder.glob("cld_*.csv")) if a.folder.exists() else []
    if len(files) < councils:
        from benchmarks.replicate import council_files

        print(f"writing {councils} council files of {per_file:,} rows into {a.folder}", flush=True)
        files = council_files(a.file, a.folder, councils)
    files = files[:councils]
    total = per_file * len(files)
    print(f"{len(files)} councils, {total:,} rows", flush=True)
    cld = [str(BIN / "cld"), *(["-c", str(a.config)] if a.config else [])]
    with tempfile.TemporaryDirectory() as tmp:
        check = run_measured([*cld, "check", str(a.folder), "--no-docs", "--jobs", str(a.jobs),
                              "--out", tmp])  # fmt: skip
    scan = run_measured([sys.executable, "-c", SCAN_ALL, event_type_header(a.file),
                         *map(str, files)])  # fmt: skip
    res = {
        "machine": f"{os.cpu_count()} cores, {memory_gb():.0f} GB",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "councils": len(files),
        "rows": total,
        "check": check,
        "scan": scan,
        "within_time": check["wall_s"] <= 300,
        "within_memory": check["peak_tree_mb"] <= 6 * 1024,
    }
    print(
        f"\ncld check FOLDER --no-docs: {len(files)} councils, {total:,} rows in "
        f"{check['wall_s']} s (cpu {check['cpu_s']} s), peak {check['peak_tree_mb']} MB "
        f"(process and workers together; largest one {check['peak_mb']} MB), "
        f"{total / check['wall_s']:,.0f} rows/s; load {check['load_1m']}\n"
        f"bare scan of the same files:  {scan['wall_s']} s (cpu {scan['cpu_s']} s), "
        f"peak {scan['peak_mb']} MB; load {scan['load_1m']}\n"
        f"targets: <= 300 s {'met' if res['within_time'] else 'NOT met'}, <= 6 GB "
        f"{'met' if res['within_memory'] else 'NOT met'}\n"
        + "\n".join(check["tail"]),
        flush=True,
    )
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
