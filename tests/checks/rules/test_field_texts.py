"""The field rules' texts come from checks/rules/fields.yaml: ``cld rules`` (the catalogue
table) shows the same message, fix text and severity as the findings of a checked file."""

from __future__ import annotations

import polars as pl

from checks import run_checks
from checks.catalogue import catalogue_frame
from tests.checks.conftest import frame_of


def test_field_findings_read_as_the_catalogue(spec_r1):
    frame = frame_of(
        spec_r1,
        [
            {},
            {"NHS_Number": "9434765918", "Event_Start_Date": "01/02/2024", "Gender": "Man"},
            {"NHS_Number": None, "Postcode": "ab1 2cd"},
        ],
    )
    found = (
        run_checks(frame, spec_r1, quantitative=False)
        .findings.filter(pl.col("category") == "field")
        .select("rule_id", "severity", "message", "how_to_fix")
        .unique()
    )
    kinds = set(found["rule_id"].str.extract(r"_([a-z0-9]+)$").to_list())
    assert {"mod11", "format", "list", "shape", "mandatory"} <= kinds, kinds
    listed = catalogue_frame("R1").select("rule_id", "severity", "message", "how_to_fix")
    joined = found.join(listed, on="rule_id", how="left", suffix="_listed")
    for col in ("severity", "message", "how_to_fix"):
        bad = joined.filter(pl.col(col) != pl.col(f"{col}_listed").fill_null(""))
        assert bad.is_empty(), bad.to_dicts()
    nhs_blank = joined.filter(pl.col("rule_id") == "FLD_NHS_Number_mandatory")
    assert nhs_blank["severity"].to_list() == ["warning"]  # the exception in fields.yaml
