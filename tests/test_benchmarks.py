"""The benchmarks are run on demand, not in the suite; these tests keep them runnable, so a
change elsewhere (a function moved, a module renamed) breaks here and not on the day someone
measures. They time nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name: str) -> None:
    """Every benchmark module imports (each guards its run behind ``__main__``)."""
    r = subprocess.run(
        [sys.executable, "-c", f"import benchmarks.{name}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]


def test_bench_history_county_compares_what_it_stored(tmp_path: Path) -> None:
    """The county history benchmark, small: its child process really compares the two stored
    submissions (3 % dropped, 4 % added, 5 % changed), so the figures it prints are real."""
    r = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_history", "county", "--rows", "5000",
         "--keep", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    (m,) = [x for x in lines if x.get("benchmark") == "county"]
    t = m["totals"]
    assert m["rows_a"] == 5000
    assert 100 <= t["dropped"] <= 200 and 150 <= t["added"] <= 250 and 150 <= t["changed"] <= 350
    assert t["unchanged"] + t["dropped"] + t["changed"] + t["dropped_left_window"] == 5000
