"""Benchmark: time and peak memory to generate the sample council (run on demand).

    .venv/bin/python benchmarks/bench_sample.py                 # large county into SQLite
    .venv/bin/python benchmarks/bench_sample.py --size average
    .venv/bin/python benchmarks/bench_sample.py --size england --people 2000000  # streaming

Each run happens in a fresh child process so the peak RSS (``resource.getrusage``, children)
belongs to that generation alone. Prints wall time, peak RSS, rows written and the 12-month
file volumes of the database next to the reference bands of ``data/sample/volumes.yaml``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path
from pipelines.sample import generate
t = time.perf_counter()
info = generate(Path(sys.argv[1]), size=sys.argv[2],
                people=None if sys.argv[3] == "-" else int(sys.argv[3]), seed=1, defects=True)
print(json.dumps({"seconds": time.perf_counter() - t, "people": info.people,
                  "rows": sum(info.counts.values()), "counts": info.counts,
                  "defects": info.defects, "feed_files": len(info.feed_files)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="large")
    ap.add_argument("--people", type=int, default=None)
    ap.add_argument("--keep", type=Path, default=None, help="keep the output in this folder")
    args = ap.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="bench-sample-"))
    db = out / "council.db"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(db), args.size, str(args.people or "-")],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    from pipelines.sample.stats import window_volumes

    vol = window_volumes(db, date(2024, 10, 1), date(2025, 9, 30))
    print(
        json.dumps(
            {
                "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs",
                "date": date.today().isoformat(),
                "size": args.size,
                "people": res["people"],
                "generate_seconds": round(res["seconds"], 1),
                "process_seconds": round(wall, 1),
                "peak_rss_mb": round(max(peak, before) / 1024),
                "db_rows": res["rows"],
                "db_mb": round(db.stat().st_size / 2**20),
                "defects": res["defects"],
                "feed_files": res["feed_files"],
                "file_2025_26Q2": vol,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
