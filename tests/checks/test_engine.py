"""The engine: one findings table in the contract's shape, masked, deduplicated."""

from __future__ import annotations

import polars as pl

from checks import run_checks
from checks.findings import PID_MASK, SCHEMA
from tests.checks.conftest import frame_of


def test_clean_frame_has_no_errors(spec_r1):
    frame = frame_of(
        spec_r1,
        [
            {},
            {
                "LA_Person_Unique_Identifier": "P2",
                "NHS_Number": "4010232137",
                "Event_Reference": "E2",
            },
        ],
    )
    res = run_checks(frame, spec_r1, quantitative=False)
    assert res.summary["errors"] == 0, res.findings.select("rule_id", "field").to_dicts()
    assert res.summary["ready"] is True


def test_findings_shape_masking_and_context(spec_r1):
    frame = frame_of(spec_r1, [{}, {"NHS_Number": "9434765918", "Event_End_Date": "2024-02-01"}])
    frame = frame.with_columns(
        pl.lit("T1").alias("_team_id"), pl.lit("Ann Worker").alias("_worker_name")
    )
    res = run_checks(frame, spec_r1, quantitative=False)
    f = res.findings
    assert dict(f.schema) == SCHEMA
    nhs = f.filter(pl.col("rule_id") == "FLD_NHS_Number_mod11")
    assert nhs["row"].to_list() == [1]
    assert nhs["value"].to_list() == [PID_MASK]  # never the number itself
    assert "9434765918" not in f.write_csv()
    order = f.filter(pl.col("rule_id") == "LOG001").row(0, named=True)
    # the checks stamp no run id: history stamps its own when it records them (d2)
    assert order["run_id"] is None and order["value"] == "2024-02-01"
    assert f.get_column("run_id").null_count() == f.height
    assert order["team_id"] == "T1" and order["worker_name"] == "Ann Worker"
    assert order["person_id"] == "P1" and order["event_type"] == "Request"
    assert res.summary["ready"] is False and res.summary["errors"] >= 2


def test_mandatory_blank_reported_once(spec_r1):
    """A blank end date on a request is explained by LOG020; the generic 'mandatory' finding
    for the same row and field is dropped."""
    frame = frame_of(spec_r1, [{"Event_End_Date": None, "Gender": None}])
    f = run_checks(frame, spec_r1, quantitative=False).findings
    assert f.filter(pl.col("field") == "Event_End_Date")["rule_id"].to_list() == ["LOG020"]
    assert f.filter(pl.col("field") == "Gender")["rule_id"].to_list() == ["FLD_Gender_mandatory"]


def test_taxonomy_counts_status_and_validity(spec_r1):
    frame = frame_of(spec_r1, [{}, {"Gender": None}, {"Gender": "Bloke"}])
    tax = run_checks(frame, spec_r1, quantitative=False).taxonomy
    g = tax.filter(pl.col("field") == "Gender").sort("validity")
    assert g.select("status", "validity", "rows").rows() == [(2, -2, 1), (2, -1, 1), (2, 1, 1)]
