"""The national field status on carers known by association, and the national DQ picture
(cells the national DQ report will count as failed), on hand-worked rows."""

from __future__ import annotations

import polars as pl
import pytest

from checks import run_checks
from checks.national import national_dq
from cld_schema import field_status
from tests.checks.conftest import frame_of

# Each event-type field and the event type on which it applies to a service user. On a
# carer-known-by-association row the national status marks every one Not applicable (DHSC
# ASC-CLD-LA-Dashboard, Stored_procedures/create_GetDQValues_procedure.sql at 39b8cfe).
EVENT_TYPE_FIELDS = {
    "Event_Type": "REQUEST",
    "Event_Reference": "REQUEST",
    "Event_Start_Date": "REQUEST",
    "Event_End_Date": "REQUEST",
    "Event_Description": "REQUEST",
    "Event_Outcome": "REQUEST",
    "Request_Route_of_Access": "REQUEST",
    "Assessment_Type": "ASSESSMENT",
    "Eligible_Needs_Identified": "ASSESSMENT",
    "Method_of_Assessment": "ASSESSMENT",
    "Service_Type": "SERVICE",
    "Service_Component": "SERVICE",
    "Delivery_Mechanism": "SERVICE",
    "Provider_CQC_Location_ID": "SERVICE",
    "Provider_CQC_Location_Name": "SERVICE",
    "Unit_Cost": "SERVICE",
    "Cost_Frequency_Unit_Type": "SERVICE",
    "Planned_units_per_week": "SERVICE",
    "Review_Reason": "REVIEW",
    "Review_Outcomes_Achieved": "REVIEW",
    "Method_of_Review": "REVIEW",
}


@pytest.mark.parametrize("field", sorted(EVENT_TYPE_FIELDS))
def test_event_fields_are_not_applicable_on_a_carer_known_by_association(spec_r1, field):
    event = EVENT_TYPE_FIELDS[field]
    rows = [
        {"Client_Type": "key:SERVICE_USER", "Event_Type": f"key:{event}"},
        {"Client_Type": "key:CARER_KNOWN_BY_ASSOCIATION", "Event_Type": f"key:{event}"},
    ]
    status = field_status(frame_of(spec_r1, rows), spec_r1)[f"{field}__status"].to_list()
    assert status[0] >= 1, "applies to a service user's event of this type"
    assert status[1] == 0, "not applicable on a carer known by association"


def test_ckba_row_gets_no_service_mandatory_findings_but_the_ckba_rule(spec_r2):
    rows = [
        {
            "Reporting_Period_Start_Date": "2025-04-01",
            "Reporting_Period_End_Date": "2026-03-31",
            "Event_Start_Date": "2025-05-01",
            "Event_End_Date": None,
            "Client_Type": "key:CARER_KNOWN_BY_ASSOCIATION",
            "Event_Type": "key:SERVICE",
            "Event_Outcome": None,
            "Request_Route_of_Access": None,
        }
    ]
    res = run_checks(frame_of(spec_r2, rows), spec_r2, quantitative=False)
    ids = set(res.findings["rule_id"])
    assert "FLD_Service_Type_mandatory" not in ids
    assert "FLD_Service_Component_mandatory" not in ids
    assert not any(i.endswith("_mandatory") and "Service" in i for i in ids)
    assert "LOG050" in ids  # a CKBA row holding event details is still reported


def test_national_picture_counts_failed_cells_the_national_way(spec_r2):
    """Hand-worked: 4 rows of a Release 2 file.

    row 0 valid; row 1 NHS number blank (Failed: Blank (Mandatory); a warning here);
    row 2 Gender 'Man' (Failed: Invalid, an error here); row 3 an R1-only Event_Outcome
    (Failed: Release 1) and Ethnicity blank (Failed: Blank (Mandatory))."""
    period = {
        "Reporting_Period_Start_Date": "2025-04-01",
        "Reporting_Period_End_Date": "2026-03-31",
    }
    dates = {"Event_Start_Date": "2025-06-01", "Event_End_Date": "2025-06-02"}
    r1_outcome = spec_r2.r1_values_only("Event_Outcome")[0]
    rows = [
        {**period, **dates, "LA_Person_Unique_Identifier": "P1", "Event_Reference": "E1"},
        {
            **period,
            **dates,
            "LA_Person_Unique_Identifier": "P2",
            "Event_Reference": "E2",
            "NHS_Number": None,
        },
        {
            **period,
            **dates,
            "LA_Person_Unique_Identifier": "P3",
            "Event_Reference": "E3",
            "NHS_Number": "9434765870",
            "Gender": "Man",
        },
        {
            **period,
            **dates,
            "LA_Person_Unique_Identifier": "P4",
            "Event_Reference": "E4",
            "NHS_Number": "9434765862",
            "Event_Outcome": r1_outcome,
            "Ethnicity": None,
        },
    ]
    frame = frame_of(spec_r2, rows)
    res = run_checks(frame, spec_r2, quantitative=False)
    table = national_dq(res.taxonomy, spec_r2, res.findings)
    assert table.columns[:3] == ["module", "field", "label"]
    assert table["field"].to_list() == spec_r2.field_names  # every field, spec order
    got = {r["field"]: r for r in table.filter(pl.col("failed") > 0).iter_rows(named=True)}
    assert set(got) == {"NHS_Number", "Gender", "Event_Outcome", "Ethnicity"}
    nhs, gender = got["NHS_Number"], got["Gender"]
    assert (nhs["module"], nhs["failed_blank_mandatory"], nhs["failed"]) == ("Person details", 1, 1)
    assert (nhs["errors_here"], nhs["not_errors_here"]) == (0, 1)  # the warning policy
    assert (gender["failed_invalid"], gender["errors_here"], gender["not_errors_here"]) == (1, 1, 0)
    assert got["Event_Outcome"]["failed_release_1"] == 1
    assert got["Event_Outcome"]["module"] == "Events (all)"
    assert got["Ethnicity"]["failed_blank_mandatory"] == 1
    assert table["cells"].unique().to_list() == [4]  # every record counts, whatever its status
    # the same from the CLD frame itself (what the DQ report has)
    again = national_dq(frame, spec_r2, res.findings)
    assert again.equals(table)


def test_ready_file_can_still_fail_nationally(spec_r1):
    """A blank NHS number alone: ready here, a failed cell in the national report."""
    frame = frame_of(spec_r1, [{"NHS_Number": None}])
    res = run_checks(frame, spec_r1, quantitative=False)
    assert res.summary["ready"]
    table = national_dq(res.taxonomy, spec_r1, res.findings)
    assert table["failed"].sum() == 1
    assert table.filter(pl.col("failed") > 0)["field"].to_list() == ["NHS_Number"]
    assert national_dq(res.taxonomy, spec_r1)["not_errors_here"].null_count() == table.height
