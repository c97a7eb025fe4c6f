"""The pandera field contract: generated from the spec, really run on lazy frames."""

from __future__ import annotations

import polars as pl
import pytest

from checks.contract import field_failures, nhs_mod11_ok, nhs_placeholder, validate_fields
from cld_schema import nhs_number_valid
from tests.checks.conftest import frame_of


def test_bad_value_in_lazyframe_is_caught(spec_r1):
    """pandera skips data checks on LazyFrames by default; ours must not."""
    lf = frame_of(spec_r1, [{}, {"Gender": "Bloke"}]).drop("_row").lazy()
    fc = validate_fields(lf, spec_r1)
    assert fc.filter(pl.col("column") == "Gender")["index"].to_list() == [1]


def test_clean_row_passes(spec_r1):
    lf = frame_of(spec_r1, [{}]).drop("_row").lazy()
    assert field_failures(lf, spec_r1).height == 0


@pytest.mark.parametrize(
    ("override", "rule_id"),
    [
        ({"NHS_Number": "9434765918"}, "FLD_NHS_Number_mod11"),
        ({"NHS_Number": "4444444444"}, "FLD_NHS_Number_placeholder"),
        ({"NHS_Number": "94347659"}, "FLD_NHS_Number_mod11"),
        ({"Postcode": "ls1 4ap"}, "FLD_Postcode_shape"),
        ({"Postcode": "LS14AP"}, "FLD_Postcode_shape"),
        ({"Postcode": "LS1  4AP"}, "FLD_Postcode_shape"),
        ({"Date_of_Birth": "31/01/1950"}, "FLD_Date_of_Birth_format"),
        ({"Date_of_Birth": "1950-02-30"}, "FLD_Date_of_Birth_format"),
        ({"Unit_Cost": "12.5p"}, "FLD_Unit_Cost_format"),
        ({"LA_Code": "9999"}, "FLD_LA_Code_length"),
        ({"Event_Outcome": "Provision of services"}, "FLD_Event_Outcome_list"),
    ],
)
def test_field_check_finds_bad_value(spec_r1, override, rule_id):
    lf = frame_of(spec_r1, [{}, override]).drop("_row").lazy()
    fails = field_failures(lf, spec_r1)
    assert fails.filter(pl.col("rule_id") == rule_id)["index"].to_list() == [1]


def test_r1_values_left_to_the_release_rule(spec_r2):
    """An R1 text in an R2 file is reported once, as 'Release 1' (LOG093), not as invalid."""
    lf = frame_of(spec_r2, [{"Event_Outcome": "Provision of service"}]).drop("_row").lazy()
    assert field_failures(lf, spec_r2).filter(pl.col("field") == "Event_Outcome").height == 0


def test_nhs_modulus_11():
    s = pl.DataFrame({"n": ["9434765919", "9434765918", "4010232137", "0000000000", "1234567890"]})
    out = s.select(nhs_mod11_ok(pl.col("n")).alias("ok"), nhs_placeholder(pl.col("n")).alias("ph"))
    # 1234567890: check digit computes to 10 -> invalid; 0000000000 passes mod 11 but is a placeholder
    assert out["ok"].to_list() == [True, False, True, True, False]
    assert out["ph"].to_list() == [False, False, False, True, False]
    # the spec's one NHS-number test is both parts: (the feeds had a copy without the second)
    valid = s.select(nhs_number_valid(pl.col("n"))).to_series().to_list()
    assert valid == [True, False, True, False, False]
    assert pl.select(nhs_number_valid(pl.lit(None, pl.String))).item() is False
