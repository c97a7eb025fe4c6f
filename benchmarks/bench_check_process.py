"""Benchmark: ``cld check FILE --no-docs`` as a whole process, beside two baselines run in the
same benchmark run (issue 16):

* ``scan``: a bare polars process that reads the same file and groups every column by event
  type (``scan_csv(...).group_by(<event type>).agg(pl.all().n_unique())``): the speed of
  reading the file;
* ``gx-import``: ``python -c 'import great_expectations'``, the fixed cost the quantitative
  suite pays before it can run.

The budget is ``3 x scan + gx-import`` (median wall times of this run) and 1 GB peak RSS.
Rounds are interleaved (check, scan, import, check, scan, ...) so load on a shared machine hits
all three alike; the 1-minute load average is recorded beside every run.

    .venv/bin/python benchmarks/bench_check_process.py FILE [--repeat 3] [--scale 10]
        [--config cld.toml] [--json out.json]

Make FILE outside the checkout, e.g. (about 1.5 minutes; the config's output_dir is relative to
the cld.toml used, so move its ``out/`` away afterwards if it lands in the checkout)::

    .venv/bin/cld sample --size large --replace && .venv/bin/cld build --period 2025-26Q4
    mv out ../perf-data/out
    .venv/bin/python benchmarks/bench_check_process.py ../perf-data/out/cld_999_2025-26Q4_R2.csv

Three rounds take about 1.5 minutes on a quiet 2-core machine (3-4 under load); ``--scale 10``
adds writing the 10x file (about a minute) and three rounds on it (about 5 minutes).

``--scale N`` also writes a file N times the size (copies with distinct person ids, event
references and NHS numbers: a bigger council of the same shape) beside FILE and runs the same
three processes on it, then prints time and memory per row against the original. Not part of
the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
SCAN = """
import sys, polars as pl
lf = pl.scan_csv(sys.argv[1], infer_schema=False, encoding="utf8-lossy")
print(lf.group_by(sys.argv[2]).agg(pl.all().n_unique()).collect().height)
"""


def run_process(cmd: list[str]) -> dict:
    """Wall time, CPU time and peak memory of one whole process with everything it starts
    (the GX process of ``cld check``): ``peak_mb`` the process and its children together."""
    from benchmarks.measure import run_measured

    r = run_measured(cmd)
    if r["code"] not in (0, 1):  # cld check exits 1 when errors remain: still a full run
        raise SystemExit(f"{cmd[:3]} failed ({r['code']}): {r['out'].strip()[-500:]}")
    return {"wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "peak_mb": r["peak_tree_mb"],
            "largest_mb": r["peak_mb"], "load_1m": r["load_1m"][0]}


def event_type_header(path: Path) -> str:
    """The header of Event_Type in this file (label or database style, either release)."""
    import polars as pl

    from cld_schema import RELEASES, load_spec

    head = pl.read_csv(path, n_rows=0, infer_schema=False, encoding="utf8-lossy").columns
    for rel in RELEASES:
        spec = load_spec(rel)
        for style in ("label", "database"):
            name = dict(zip(spec.field_names, spec.headers(style), strict=True))["Event_Type"]
            if name in head:
                return name
    raise SystemExit(f"{path}: no Event_Type column")


def commands(path: Path, config: Path | None, out: Path) -> dict[str, list[str]]:
    cld = [str(BIN / "cld"), *(["-c", str(config)] if config else [])]
    return {
        "check": [*cld, "check", str(path), "--no-docs", "--out", str(out)],
        "scan": [sys.executable, "-c", SCAN, str(path), event_type_header(path)],
        "gx-import": [sys.executable, "-c", "import great_expectations"],
        "help": [*cld, "check", "--help"],
    }


def summarise(runs: list[dict]) -> dict:
    walls = [r["wall_s"] for r in runs]
    return {
        "median_s": round(statistics.median(walls), 2),
        "min_s": round(min(walls), 2),
        "max_s": round(max(walls), 2),
        "cpu_median_s": round(statistics.median(r["cpu_s"] for r in runs), 2),
        "peak_mb": round(max(r["peak_mb"] for r in runs)),
        "load_1m": [round(r["load_1m"], 1) for r in runs],
    }


def bench(path: Path, config: Path | None, repeat: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        cmds = commands(path, config, Path(tmp) / "check")
        runs: dict[str, list[dict]] = {k: [] for k in cmds}
        for i in range(repeat):
            for name, cmd in cmds.items():
                r = run_process(cmd)
                runs[name].append(r)
                print(
                    f"  round {i + 1} {name:<9} {r['wall_s']:6.2f} s (cpu {r['cpu_s']:6.2f} s)"
                    f" {r['peak_mb']:7.0f} MB"
                    f"  load {r['load_1m']:.1f}",
                    flush=True,
                )
    out = {k: summarise(v) for k, v in runs.items()}
    budget = 3 * out["scan"]["median_s"] + out["gx-import"]["median_s"]
    out["budget_s"] = round(budget, 2)
    out["within_time"] = out["check"]["median_s"] <= budget
    out["within_memory"] = out["check"]["peak_mb"] <= 1024
    return out


def rows_of(path: Path) -> int:
    import polars as pl

    lf = pl.scan_csv(path, infer_schema=False, encoding="utf8-lossy")
    return lf.select(pl.len()).collect().item()


def report(label: str, path: Path, res: dict, targets: bool = True) -> None:
    """Print one file's figures; ``targets``: with the verdicts on the large county's budget
    and 1 GB (for a scaled file, only how the figures grow counts)."""
    c, s, g = res["check"], res["scan"], res["gx-import"]
    verdict = (
        f"  budget 3 x scan + GX import = {res['budget_s']} s: "
        f"{'within' if res['within_time'] else 'OVER'}; memory "
        f"{'within' if res['within_memory'] else 'OVER'} 1 GB (1,024 MB)\n"
        if targets
        else ""
    )
    print(
        f"\n{label}: {path.name}, {res['rows']:,} rows\n"
        f"  cld check --no-docs  median {c['median_s']} s (min {c['min_s']}, max {c['max_s']}), "
        f"cpu {c['cpu_median_s']} s, peak {c['peak_mb']} MB\n"
        f"  bare scan            median {s['median_s']} s (min {s['min_s']}, max {s['max_s']}), "
        f"cpu {s['cpu_median_s']} s, peak {s['peak_mb']} MB\n"
        f"  import GX            median {g['median_s']} s (min {g['min_s']}, max {g['max_s']}), "
        f"cpu {g['cpu_median_s']} s, peak {g['peak_mb']} MB\n"
        f"{verdict}"
        f"  cld check --help     median {res['help']['median_s']} s (target under 1 s)\n"
        f"  load average (1 min) at each check run: {c['load_1m']}",
        flush=True,
    )


def memory_gb() -> float:
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--config", type=Path, help="council config for cld (thresholds)")
    ap.add_argument("--scale", type=int, default=0, help="also a file this many times larger")
    ap.add_argument("--scale-repeat", type=int, default=None, help="rounds on the larger file")
    ap.add_argument("--json", type=Path, help="write the figures here")
    a = ap.parse_args()

    results: dict = {
        "machine": f"{os.cpu_count()} cores, {memory_gb():.0f} GB",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(f"{a.file} x{a.repeat} rounds", flush=True)
    res = bench(a.file, a.config, a.repeat)
    res["rows"] = rows_of(a.file)
    results["file"] = res
    report("large county", a.file, res)
    if a.scale > 1:
        from benchmarks.replicate import replicate_file

        big = a.file.with_name(f"{a.file.name.split('.')[0]}_x{a.scale}.csv")
        if not big.exists():
            print(f"\nwriting {big} ({a.scale} copies)", flush=True)
            replicate_file(a.file, big, a.scale)
        repeat = a.scale_repeat or a.repeat
        print(f"{big} x{repeat} rounds", flush=True)
        res_big = bench(big, a.config, repeat)
        res_big["rows"] = rows_of(big)
        results["scaled"] = res_big
        report(f"x{a.scale}", big, res_big, targets=False)
        rows = res_big["rows"] / res["rows"]
        t = res_big["check"]["median_s"] / res["check"]["median_s"]
        m = res_big["check"]["peak_mb"] / res["check"]["peak_mb"]
        print(
            f"\n  rows x{rows:.1f}: check time x{t:.1f}, peak memory x{m:.1f} "
            f"({'no faster than the rows' if t <= rows and m <= rows else 'FASTER than the rows'})"
        )
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
