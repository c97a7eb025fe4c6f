"""Benchmark: extract a large county from PostgreSQL via psycopg, arrow-odbc and pyodbc.

Run on demand (not part of the test suite):

    .venv/bin/python -m benchmarks.bench_extract [--people 80000] [--period 2024-25Q3]

It starts a throwaway PostgreSQL server (tests/pgserver.py), loads a council into it, then runs
``pipelines.source.extract.extract`` once per engine, each in its own process so peak memory
(VmHWM, the process's peak RSS) is that engine's alone. The council comes from the sample generator
(``pipelines.sample.generate(url, size="large")``) when it is installed; otherwise a built-in
synthetic fill of the same tables at large-county volumes is used (said in the output).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql" / "extract"

CHILD = """
import json, sys, time
from pipelines.period import Period
from pipelines.source.extract import extract
url, period, sql_dir, engine = sys.argv[1:5]
period = Period.parse(period)
t = time.perf_counter()
frames = extract(url, period, sql_dir, engine=engine)
secs = time.perf_counter() - t
rows = sum(f.height for f in frames.values())
# VmHWM: this process's own peak RSS (ru_maxrss would include the parent's at fork time)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
peak = int(hwm.split()[1]) / 1024
print(json.dumps({"seconds": secs, "rows": rows, "peak_mb": peak}))
"""


def _synthetic(url: str, people: int, seed: int = 1) -> None:
    """Large-county volumes of the schema's tables, written with COPY (fast, vectorised)."""
    import psycopg
    import sqlalchemy as sa

    from pipelines.source.tables import metadata

    engine = sa.create_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    rng = np.random.default_rng(seed)
    day0 = np.datetime64("2015-01-01")
    span = (np.datetime64("2025-03-31") - day0).astype(int)

    def dates(n: int) -> np.ndarray:
        return day0 + rng.integers(0, span, n).astype("timedelta64[D]")

    pid = np.arange(1, people + 1)
    n_steps, n_services = people * 4, people * 2
    step_start = dates(n_steps)
    done = rng.random(n_steps) < 0.9
    step_end = np.where(done, step_start + rng.integers(0, 90, n_steps), np.datetime64("NaT"))
    svc_start = dates(n_services)
    ended = rng.random(n_services) < 0.6
    svc_end = np.where(ended, svc_start + rng.integers(7, 900, n_services), np.datetime64("NaT"))
    frames = {
        "teams": pl.DataFrame({"team_id": [1], "team_name": ["Team"], "service_area": ["OP"]}),
        "workers": pl.DataFrame(
            {"worker_id": [1], "team_id": [1], "worker_name": ["W"], "email": [None]}
        ),
        "providers": pl.DataFrame(
            {"provider_id": [1], "provider_name": ["P"], "cqc_location_id": ["1-1"]}
        ),
        "persons": pl.DataFrame(
            {
                "person_id": pid,
                "nhs_number": [f"{9000000000 + i}" for i in pid],
                "first_name": "Ann",
                "last_name": "Smith",
                "date_of_birth": dates(people) - np.timedelta64(365 * 60, "D"),
                "gender_code": rng.choice(["M", "F"], people),
                "ethnicity_code": "WBRI",
                "created_on": dates(people),
            }
        ),
        "person_addresses": pl.DataFrame(
            {
                "address_id": pid,
                "person_id": pid,
                "postcode": "LS1 4AP",
                "accommodation_code": "OWN",
                "start_date": dates(people),
            }
        ),
        "person_support_reasons": pl.DataFrame(
            {"psr_id": pid, "person_id": pid, "psr_code": "PHYS", "start_date": dates(people)}
        ),
        "allocations": pl.DataFrame(
            {"allocation_id": pid, "person_id": pid, "team_id": 1, "start_date": dates(people)}
        ),
        "workflow_steps": pl.DataFrame(
            {
                "step_id": np.arange(1, n_steps + 1),
                "person_id": rng.integers(1, people + 1, n_steps),
                "step_type_code": rng.choice(["CONTACT", "ASSESS", "REVIEW"], n_steps),
                "status_code": np.where(done, "COMP", "OPEN"),
                "started_on": step_start,
                "completed_on": step_end,
                "outcome_code": "NFA",
                "worker_id": 1,
                "team_id": 1,
                "is_carer_step": False,
            }
        ),
        "service_agreements": pl.DataFrame(
            {
                "agreement_id": np.arange(1, n_services + 1),
                "person_id": rng.integers(1, people + 1, n_services),
                "service_code": "HOMECARE",
                "provider_id": 1,
                "delivery_code": "COMM",
                "status_code": np.where(ended, "END", "ACT"),
                "start_date": svc_start,
                "end_date": svc_end,
                "unit_cost": rng.integers(1000, 3000, n_services) / 100,
                "cost_frequency_code": "HOUR",
                "planned_units_per_week": 7.5,
                "for_carer": False,
            }
        ),
    }
    frames["step_assessment_details"] = pl.DataFrame(
        {"step_id": np.arange(1, n_steps + 1, 3), "eligible_code": "Y", "method_code": "F2F"}
    )
    pg = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(pg) as conn, conn.cursor() as cur:
        for name, df in frames.items():
            df = df.with_columns(pl.col(pl.Datetime).dt.date())
            cols = ", ".join(df.columns)
            with cur.copy(f"COPY {name} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(df.write_csv(include_header=False))


def _run(url: str, period: str, engine: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, url, period, str(SQL_DIR), engine],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--people", type=int, default=None, help="default: the large county's")
    ap.add_argument("--period", default="2024-25Q3")
    ap.add_argument("--repeat", type=int, default=2, help="runs per engine (best is reported)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.pgserver import PgServer

    server = PgServer.start()
    try:
        server.create_database("bench")
        url = server.sqlalchemy_url("bench")
        t = time.perf_counter()
        try:
            import tempfile

            from pipelines.sample import generate  # the sample generator, when it exists

            out = Path(tempfile.mkdtemp(prefix="cld-bench-"))
            generate(url, size="large", people=args.people, out_dir=out)
            source = f"sample generator, large county, people={args.people or 'default'}"
        except ImportError:
            _synthetic(url, args.people or 80_000)
            source = f"built-in synthetic fill, people={args.people or 80_000}"
        print(f"loaded ({source}) in {time.perf_counter() - t:.1f}s")
        paths = {
            "psycopg (sqlalchemy)": (url, "sqlalchemy"),
            "arrow-odbc": (server.odbc_connection_string("bench"), "arrow-odbc"),
            "pyodbc (sqlalchemy)": (server.odbc_sqlalchemy_url("bench"), "sqlalchemy"),
        }
        print(f"{'engine':<22} {'rows':>9} {'best s':>8} {'peak MB':>8}")
        for label, (u, engine) in paths.items():
            runs = [_run(u, args.period, engine) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            print(
                f"{label:<22} {best['rows']:>9} {best['seconds']:>8.2f} "
                f"{max(r['peak_mb'] for r in runs):>8.0f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
