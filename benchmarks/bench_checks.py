"""Benchmark: every check on a large-county CLD file, and the same row-level rules as Great
Expectations expectations on pandas, side by side in one run (best of 3 for the same rules).

    .venv/bin/python benchmarks/bench_checks.py FILE            # a built large-county file
    .venv/bin/python benchmarks/bench_checks.py FILE --replicate 8  # a small file, x8 rows

Each side runs in its own child process so its peak memory (max RSS) is its own. The GX side
validates a subset of the engine's row rules (defined lists, NHS number / postcode / date
shapes, date order, cost bounds, mandatory person fields) with ``result_format=COMPLETE`` and
``unexpected_index_column_names=["_row"]`` so it also names the failing rows; the engine side
runs *all* checks (field contract, field status, 73 logical rules, quantitative
expectations), so the speed-up is conservative. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
REPEAT = 3
sys.path.insert(0, str(ROOT))


def load(path: Path, replicate: int) -> tuple[pl.DataFrame, object]:
    """The file as a CLD frame; with ``replicate`` > 1, copies with distinct person ids and
    event references (a larger council with the same shape)."""
    from pipelines.cldfile import read_cld

    frame, spec = read_cld(path)
    if replicate > 1:
        ids = ["LA_Person_Unique_Identifier", "Event_Reference"] + [
            f"Adult_{i}_Linked_Person_ID" for i in (1, 2, 3)
        ]
        copies = [frame] + [
            frame.with_columns(
                *[pl.col(c) + pl.lit(f"-{k}") for c in ids], other_nhs_number(k).alias("NHS_Number")
            )
            for k in range(1, replicate)
        ]
        frame = pl.concat(copies).drop("_row").with_row_index("_row")
    return corrupt(frame), spec


def other_nhs_number(k: int) -> pl.Expr:
    """Copy k's NHS numbers: the first nine digits shifted, a fresh Modulus 11 check digit
    (blank where the check digit would be 10), so copies are distinct valid people."""
    nine = (
        (
            (pl.col("NHS_Number").str.slice(0, 9).cast(pl.Int64, strict=False) + k * 1_000_003)
            % 1_000_000_000
        )
        .cast(pl.String)
        .str.zfill(9)
    )
    digits = [nine.str.slice(i, 1).cast(pl.Int64) for i in range(9)]
    check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
    check = pl.when(check == 11).then(0).otherwise(check)
    return pl.when(check < 10).then(nine + check.cast(pl.String)).otherwise(None)


def corrupt(frame: pl.DataFrame) -> pl.DataFrame:
    """About 1.5% of rows get a defect both sides look for, so GX has row ids to list."""
    r = pl.col("_row")
    return frame.with_columns(
        pl.when(r % 200 == 0).then(pl.lit("Unknownish")).otherwise("Gender").alias("Gender"),
        pl.when(r % 300 == 1)
        .then(pl.col("Postcode").str.to_lowercase())
        .otherwise("Postcode")
        .alias("Postcode"),
        pl.when((r % 250 == 2) & pl.col("Event_End_Date").is_not_null())
        .then(pl.lit("2000-01-01"))
        .otherwise("Event_End_Date")
        .alias("Event_End_Date"),
        pl.when(r % 400 == 3).then(pl.lit("12345678")).otherwise("NHS_Number").alias("NHS_Number"),
    )


SUBSET_RULES = ("LOG001", "LOG002", "LOG070", "LOG071")
NOT_NULL = ("Gender", "Date_of_Birth", "Postcode", "LA_Person_Unique_Identifier")


def engine_subset(frame: pl.DataFrame, spec) -> dict[str, list[int]]:
    """The GX side's rules, the engine's way: the pandera field contract (a superset of the
    GX list and shape expectations) plus the same date-order, cost and not-null rules as
    polars expressions; returns failing row ids per check, like GX's unexpected index list."""
    from checks.contract import field_failures
    from checks.prepare import helper_columns, period_bounds
    from checks.rules import RuleContext, rule_function

    fails = field_failures(frame.lazy().select(spec.field_names), spec)
    rows = {f"{r}": ids for r, ids in fails.group_by("rule_id").agg(pl.col("index")).iter_rows()}
    start, end = period_bounds(frame, spec, None)
    ctx = RuleContext(spec, start, end)
    exprs = [rule_function(r)(ctx).alias(r) for r in SUBSET_RULES]
    exprs += [pl.col(c).is_null().alias(f"null_{c}") for c in NOT_NULL]
    flags = frame.lazy().with_columns(helper_columns(spec, start, end)).select("_row", *exprs)
    df = flags.collect()
    for c in df.columns[1:]:
        rows[c] = df["_row"].filter(df[c]).to_list()
    return rows


def engine_side(path: Path, replicate: int) -> dict:
    from checks import run_checks
    from pipelines import thresholds as thresholds_file

    frame, spec = load(path, replicate)
    thresholds = thresholds_file.load(ROOT / "data/sample/thresholds.yaml").checks
    engine_subset(frame.head(100), spec)  # warm-up: imports and pandera set-up
    runs = []
    for _ in range(REPEAT):  # best of REPEAT, like the GX side
        t0 = time.perf_counter()
        subset = engine_subset(frame, spec)
        runs.append(time.perf_counter() - t0)
    t_subset = min(runs)
    t0 = time.perf_counter()
    res = run_checks(frame, spec, quantitative=False)
    t_rows = time.perf_counter() - t0
    t0 = time.perf_counter()
    res_all = run_checks(frame, spec, thresholds=thresholds)
    t_all = time.perf_counter() - t0
    t0 = time.perf_counter()  # again, GX already imported (a long-running flow process)
    run_checks(frame, spec, thresholds=thresholds)
    t_warm = time.perf_counter() - t0
    return {
        "rows": frame.height,
        "subset_s": round(t_subset, 2),
        "subset_failures": sum(len(v) for v in subset.values()),
        "row_checks_s": round(t_rows, 2),
        "all_checks_s": round(t_all, 2),
        "all_checks_warm_s": round(t_warm, 2),
        "findings": res_all.findings.height,
        "row_findings": res.findings.height,
    }


def gx_side(path: Path, replicate: int) -> dict:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from checks.contract import POSTCODE_RE

    frame, spec = load(path, replicate)
    import pandas  # noqa: F401  (import time is not validation time, on either side)

    t0 = time.perf_counter()
    pdf = frame.to_pandas()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
    suite = ctx.suites.add(gx.ExpectationSuite(name="rows"))
    n = 0
    for f in spec.fields:
        if f.type == "list":
            allowed = spec.values(f.name) + spec.r1_values_only(f.name)
            suite.add_expectation(gxe.ExpectColumnValuesToBeInSet(column=f.name, value_set=allowed))
            n += 1
        elif f.type == "date":
            suite.add_expectation(
                gxe.ExpectColumnValuesToMatchRegex(column=f.name, regex=r"^\d{4}-\d{2}-\d{2}$")
            )
            n += 1
    for exp in (
        gxe.ExpectColumnValuesToMatchRegex(column="NHS_Number", regex=r"^\d{10}$"),
        gxe.ExpectColumnValuesToMatchRegex(column="Postcode", regex=POSTCODE_RE),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="Event_End_Date",
            column_B="Event_Start_Date",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="Date_of_Death",
            column_B="Date_of_Birth",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        gxe.ExpectColumnValuesToNotBeNull(column="Gender"),
        gxe.ExpectColumnValuesToNotBeNull(column="Date_of_Birth"),
        gxe.ExpectColumnValuesToNotBeNull(column="Postcode"),
        gxe.ExpectColumnValuesToNotBeNull(column="LA_Person_Unique_Identifier"),
    ):
        suite.add_expectation(exp)
        n += 1
    pdf["__cost"] = frame["Unit_Cost"].cast(pl.Float64, strict=False).to_pandas()
    pdf["__units"] = frame["Planned_units_per_week"].cast(pl.Float64, strict=False).to_pandas()
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="__cost", min_value=0))
    suite.add_expectation(gxe.ExpectColumnValuesToBeBetween(column="__units", max_value=168))
    n += 2
    bd = (
        ctx.data_sources.add_pandas("p")
        .add_dataframe_asset("a")
        .add_batch_definition_whole_dataframe("w")
    )
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="v", data=bd, suite=suite))
    setup = time.perf_counter() - t0
    runs = []
    for _ in range(REPEAT):  # best of REPEAT: the frame to pandas and the validation
        t0 = time.perf_counter()
        pdf = frame.to_pandas()
        pdf["__cost"] = frame["Unit_Cost"].cast(pl.Float64, strict=False).to_pandas()
        pdf["__units"] = frame["Planned_units_per_week"].cast(pl.Float64, strict=False).to_pandas()
        res = vd.run(
            batch_parameters={"dataframe": pdf},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_row"]},
        )
        runs.append(time.perf_counter() - t0)
    unexpected = sum((r.result or {}).get("unexpected_count") or 0 for r in res.results)
    return {
        "rows": frame.height,
        "expectations": n,
        "gx_s": round(min(runs), 2),
        "gx_runs_s": [round(r, 2) for r in runs],
        "gx_setup_s": round(setup, 2),
        "unexpected": unexpected,
    }


def child(side: str, path: Path, replicate: int) -> None:
    out = engine_side(path, replicate) if side == "engine" else gx_side(path, replicate)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["load_avg_1m"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--replicate", type=int, default=1)
    ap.add_argument("--side", choices=["engine", "gx"], help=argparse.SUPPRESS)
    ap.add_argument("--skip-gx", action="store_true")
    a = ap.parse_args()
    if a.side:
        child(a.side, a.file, a.replicate)
        return
    results = {}
    for side in ["engine"] + ([] if a.skip_gx else ["gx"]):
        cmd = [
            sys.executable,
            __file__,
            str(a.file),
            "--replicate",
            str(a.replicate),
            "--side",
            side,
        ]
        p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[side] = json.loads(p.stdout.strip().splitlines()[-1])
        print(side, results[side], flush=True)
    if "gx" in results:
        e, g = results["engine"], results["gx"]
        print(
            f"\n{e['rows']:,} rows: all checks {e['all_checks_s']} s cold, "
            f"{e['all_checks_warm_s']} s warm (field + logical "
            f"{e['row_checks_s']} s), peak {e['peak_rss_mb']} MB.\nSame row rules: engine "
            f"{e['subset_s']} s vs GX ({g['expectations']} expectations, COMPLETE with row ids) "
            f"{g['gx_s']} s, peak {g['peak_rss_mb']} MB: {g['gx_s'] / e['subset_s']:.0f}x faster"
        )


if __name__ == "__main__":
    main()
