"""The one plan: the contract it evaluates is pandera's, row for row, and the findings it cuts
are the ones pandera, the field status and the rules name."""

from __future__ import annotations

import polars as pl
import pytest

from checks.contract import build_contract, check_schema, failure_exprs, field_failures
from checks.engine import check_plan, completeness_counts
from tests.checks.conftest import frame_of

BAD = [
    {},
    {"NHS_Number": "9434765918", "Postcode": "ls1 4ap"},
    {"NHS_Number": "4444444444", "Date_of_Birth": "31/01/1950"},
    {"Unit_Cost": "12.5p", "LA_Code": "9999", "Gender": "Bloke"},
    {"Date_of_Birth": "1950-02-30", "Postcode": "LS1  4AP", "Event_Outcome": "Provision of x"},
    {"NHS_Number": "94347659", "Gender": None, "Postcode": None},
]


@pytest.mark.parametrize("release", ["R1", "R2"])
def test_plan_contract_is_pandera_row_for_row(release, spec_r1, spec_r2):
    spec = spec_r1 if release == "R1" else spec_r2
    lf = frame_of(spec, BAD).drop("_row").lazy()
    by_pandera = field_failures(lf, spec).select(pl.col("index").cast(pl.Int64), "rule_id")
    exprs = failure_exprs(build_contract(spec))
    flags = lf.select(e.alias(m.rule_id) for m, e in exprs).collect()
    in_plan = (
        flags.with_row_index("index")
        .unpivot(index="index", variable_name="rule_id", value_name="hit")
        .filter(pl.col("hit"))
        .select(pl.col("index").cast(pl.Int64), "rule_id")
    )
    assert by_pandera.height >= 9  # the bad rows really fail
    assert sorted(in_plan.rows()) == sorted(by_pandera.rows())


def test_pandera_checks_the_plan_schema(spec_r1):
    schema = build_contract(spec_r1)
    lf = frame_of(spec_r1, [{}]).drop("_row").lazy()
    check_schema(lf, schema)  # a CLD frame passes
    with pytest.raises(ValueError, match="not a CLD frame"):
        check_schema(lf.drop("Gender"), schema)
    with pytest.raises(ValueError, match="not a CLD frame"):
        check_schema(lf.with_columns(pl.lit(1).alias("Gender")), schema)


def test_plan_is_row_aligned_and_counts_completeness(spec_r1):
    frame = frame_of(spec_r1, [{}, {"Gender": None}, {"Gender": "Bloke"}])
    plan, flags = check_plan(frame, spec_r1)
    checked = plan.collect()
    assert checked.height == 3 and checked["_row"].to_list() == [0, 1, 2]
    assert checked["__m_Gender"].to_list() == [False, True, False]
    assert checked["__c_FLD_Gender_list"].to_list() == [False, False, True]
    assert {f.column for f in flags} <= set(checked.columns)
    comp = completeness_counts(frame, checked, ["Gender"]).row(0, named=True)
    assert comp == {"field": "Gender", "applicable": 3, "blank": 1}
