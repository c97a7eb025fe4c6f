"""Benchmark: every SALT/ASCOF measure on a large-county CLD file, as a whole process
(``cld measures FILE``: read the file, prepare, 18 measures, write measures.csv and the
drill-downs), side by side in one run with a bare scan of the same file (a Python process that
only reads the CSV into polars), alternating, best and median of ``--repeat``.

    .venv/bin/python -m benchmarks.bench_measures FILE [--repeat 3]

Make the file with ``cld sample --size large --replace`` and
``cld build --period 2025-26Q4 --out FILE``.
Prints wall time and peak memory (max RSS) per side, and the load average before and after,
since the machine is shared. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLD = ROOT / ".venv" / "bin" / "cld"
TARGET_S = 5.0


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and this child's peak RSS (MB), measured by a small wrapper process."""
    wrapper = (
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
        "w = time.perf_counter() - t; "
        "m = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024; "
        "print(w, m); sys.exit(r.returncode)"
    )
    out = subprocess.run(
        [sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True
    )
    wall, rss = out.stdout.split()
    return float(wall), float(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not args.file.exists():
        sys.exit(f"no such file: {args.file}")
    rows = sum(1 for _ in args.file.open("rb")) - 1
    scan = [
        sys.executable,
        "-c",
        "import sys, polars as pl; pl.read_csv(sys.argv[1], infer_schema=False)",
        str(args.file),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-measures-") as tmp:
        measures = [
            str(CLD),
            "--config",
            str(ROOT / "cld.toml"),
            "measures",
            str(args.file),
            "--no-history",
            "--out",
            tmp,
        ]
        load_before = os.getloadavg()
        results: dict[str, list[tuple[float, float]]] = {"bare scan": [], "all measures": []}
        _run(scan)  # warm the page cache
        for _ in range(args.repeat):
            results["bare scan"].append(_run(scan))
            results["all measures"].append(_run(measures))
        load_after = os.getloadavg()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    print(
        f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}; load average before "
        f"{load_before[0]:.1f}, after {load_after[0]:.1f}"
    )
    print(f"file: {args.file.name}, {rows:,} rows")
    for side, runs in results.items():
        walls = [w for w, _ in runs]
        print(
            f"  {side:<13} best {min(walls):6.2f} s  median {statistics.median(walls):6.2f} s"
            f"  peak {max(m for _, m in runs):7.0f} MB  ({', '.join(f'{w:.2f}' for w in walls)})"
        )
    best = min(w for w, _ in results["all measures"])
    print(
        f"all measures, whole process: {best:.2f} s (target <= {TARGET_S:.0f} s: "
        f"{'met' if best <= TARGET_S else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
