"""The done-when of the checks on the sample council: every injected defect the manifest says
the checks must find is found by the rule(s) mapped to its kind (recall 100% per kind), and a
defect-free council gives no errors. Small councils (a few hundred people) keep this fast."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest

from checks import run_checks
from cld_schema import load_spec
from pipelines import thresholds
from pipelines.build import build
from pipelines.config import load_config
from pipelines.period import Period
from pipelines.sample import small_council
from tests.build.test_sample_build import _config

ROOT = Path(__file__).resolve().parents[2]
# defect kind -> the rule ids that must find it (the kinds' `rules` column, space-separated;
# `{field}` stands for the manifest row's cld_field)
DEFECT_RULES = {
    k["kind"]: k["rules"].split()
    for k in csv.DictReader(
        (ROOT / "data" / "sample" / "defect_kinds.csv").open(encoding="utf-8", newline="")
    )
    if k["rules"]
}
THRESHOLDS = thresholds.load(ROOT / "data" / "sample" / "thresholds.yaml").checks


def build_and_check(base: Path, defects: bool, periods: list[str], quantitative: bool):
    """Generate a small council, build each period's file and check it."""
    info = small_council(base, defects=defects)
    cfg = load_config(_config(base, info.db, info.feeds_dir))
    out = {}
    for period in periods:
        res = build(cfg, Period.parse(period), out=base / "out" / f"{period}.csv")
        spec = load_spec(Period.parse(period).default_release)
        checked = run_checks(
            res.frame,
            spec,
            period=Period.parse(period),
            thresholds=THRESHOLDS,
            quantitative=quantitative,
        )
        out[period] = (res, spec, checked)
    return info, out


def expected_rules(kind: str, field: str | None) -> list[str]:
    return [r.replace("{field}", field or "") for r in DEFECT_RULES.get(kind, [])]


EVENT_SOURCES = ("workflow_steps", "service_agreements", "step_review_details")


def recall(manifest: pl.DataFrame, frame: pl.DataFrame, findings: pl.DataFrame) -> pl.DataFrame:
    """Per kind: defects the checks must find whose person is in the file, and how many of
    them a mapped rule found. Person-level defects match on person + rule; defects on one
    event (a workflow step, service agreement or review) must also be found on that event's
    row (the finding's step_id is the case record's id)."""
    wanted = manifest.filter(pl.col("detected_by") == "checks").with_columns(
        pl.struct("kind", "cld_field")
        .map_elements(lambda s: expected_rules(s["kind"], s["cld_field"]), pl.List(pl.String))
        .alias("rules"),
        pl.when(pl.col("source").is_in(EVENT_SOURCES))
        .then(pl.col("record_key"))
        .otherwise(None)
        .alias("step"),
    )
    in_file = frame.select(pl.col("LA_Person_Unique_Identifier").unique().alias("person_id"))
    wanted = wanted.join(in_file, on="person_id", how="semi")
    found = findings.select("person_id", "rule_id", "step_id").unique()
    candidates = wanted.explode("rules").join(
        found, left_on=["person_id", "rules"], right_on=["person_id", "rule_id"], how="inner"
    )
    hits = candidates.filter(pl.col("step").is_null() | (pl.col("step") == pl.col("step_id")))
    hit_ids = hits["defect_id"].unique()
    return (
        wanted.with_columns(pl.col("defect_id").is_in(hit_ids.implode()).alias("found"))
        .group_by("kind")
        .agg(pl.len().alias("defects"), pl.col("found").sum().alias("found"))
        .sort("kind")
    )


# Defect kinds the build corrects on its way to the file, so the file holds no defect to find.
# The test proves the claim on the defect's own row instead of counting it as found.
NOT_SURFACING = {
    # the transform writes 'Provision of service' (R2: 'Continuation of support or services')
    # as the outcome of every service still open at the period end
    "open_service_wrong_outcome": (
        "Event_Outcome",
        ["PROVISION_OF_SERVICE", "CONTINUATION_OF_SUPPORT"],
    ),
}
PERIODS = ["2025-26Q1", "2025-26Q4"]  # a Release 1 and a Release 2 file (the default period)


@pytest.fixture(scope="module")
def defective(tmp_path_factory):
    return build_and_check(tmp_path_factory.mktemp("defects"), True, PERIODS, False)


def test_every_checks_defect_kind_is_mapped():
    kinds = pl.read_csv(ROOT / "data" / "sample" / "defect_kinds.csv")
    for_checks = kinds.filter(pl.col("detected_by") == "checks")["kind"].to_list()
    assert for_checks and not set(for_checks) - set(DEFECT_RULES)


@pytest.mark.parametrize("period", PERIODS)
def test_recall_is_100_percent_per_kind(defective, period):
    info, built = defective
    res, spec, checked = built[period]
    manifest = pl.read_csv(info.manifest, infer_schema=False)
    corrected = manifest.filter(pl.col("kind").is_in(list(NOT_SURFACING)))
    assert corrected.height, "the sample injected none of the kinds the build corrects"
    for row in corrected.iter_rows(named=True):
        field, keys = NOT_SURFACING[row["kind"]]
        rows = res.frame.filter(pl.col("_step_id") == f"feed:{row['record_key']}")
        if period in (row["periods"] or "").split(";"):  # else .all() of nothing would pass
            assert rows.height, (row["kind"], row["record_key"], "defect's row not in the file")
        allowed = [t for k in keys if (t := _text(spec, field, k))]
        assert rows[field].is_in(allowed).all(), (row["kind"], rows[field].to_list())
    table = recall(
        manifest.filter(~pl.col("kind").is_in(list(NOT_SURFACING))), res.frame, checked.findings
    )
    print(period, table)
    assert table.height >= 15, "too few defect kinds reached the file to measure recall"
    missed = table.filter(pl.col("found") < pl.col("defects"))
    assert missed.height == 0, missed.to_dicts()


def _text(spec, field: str, key: str) -> str | None:
    try:
        return spec.value(field, key)
    except KeyError:
        return None


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    _, built = build_and_check(tmp_path_factory.mktemp("clean"), 0, ["2025-26Q3"], True)
    return built["2025-26Q3"]


def test_defect_free_council_gives_zero_errors(clean):
    """A council without injected defects: no error at all (field, logical or quantitative,
    including the complete-month test)."""
    res, _, checked = clean
    errors = checked.findings.filter(pl.col("severity") == "error")
    assert errors.height == 0, errors.group_by("rule_id", "step_id").len().to_dicts()[:20]
    assert checked.summary["ready"] is True
    assert res.frame.height > 300
