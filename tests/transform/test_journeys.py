"""Golden journeys: hand-built source rows and the CLD rows worked out by hand from rules.md
sections 1, 2 and 4. Period 2024-25Q3: rolling 12 months 2024-01-01 .. 2024-12-31.

People:
1 Alice  service user: request, assessments (one started before the period), a financial
         assessment, a review, a home-care service spanning the period start, a short stay;
         plus a cancelled request, a safeguarding enquiry, an open request, an in-error and a
         cancelled service, and steps/services outside the period (all out).
         Also a review completed without a completion date.
2 Bob    dies 2024-06-15 during an open home-care service; a service recorded after his death.
3 Carol  suspended supported-living service; equipment ending after the period, another
         starting after it; unmapped gender code 'X9'.
4 Dave   carer of Alice (carer's assessment; request without a route, review without a
         reason).
5 Erin   carer of Carol, Bob, Gina and Hal (four: three linked), no events of her own: carer
         known by association.
6 Frank  carer of Gina (7): carer's direct payment; Gina has no events and is not sent.
8 Hal    was Bob's carer until 2022: not linked, not sent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from pipelines.period import Period
from pipelines.transform import transform
from tests.transform.world import world

MAPPINGS = Path(__file__).parent / "mappings"
PERIOD = Period.parse("2024-25Q3")

PERSONS = [
    {"person_id": 1, "nhs_number": "9434765919", "first_name": "Alice", "last_name": "Ames",
     "date_of_birth": "1940-05-06", "gender_code": "F", "ethnicity_code": "WBRI",
     "created_on": "2015-01-01"},
    {"person_id": 2, "nhs_number": "9434765870", "first_name": "Bob", "last_name": "Burr",
     "date_of_birth": "1950-01-01", "date_of_death": "2024-06-15", "gender_code": "M",
     "ethnicity_code": "WIRI", "created_on": "2015-01-01"},
    {"person_id": 3, "nhs_number": None, "first_name": "Carol", "last_name": "Cole",
     "date_of_birth": "1960-03-03", "gender_code": "X9", "ethnicity_code": "WBRI",
     "created_on": "2015-01-01"},
    {"person_id": 4, "nhs_number": "9434765862", "first_name": "Dave", "last_name": "Ames",
     "date_of_birth": "1945-02-02", "gender_code": "M", "ethnicity_code": "WBRI",
     "created_on": "2015-01-01"},
    {"person_id": 5, "first_name": "Erin", "last_name": "Cole", "date_of_birth": "1990-09-09",
     "gender_code": "F", "ethnicity_code": "WBRI", "created_on": "2015-01-01"},
    {"person_id": 6, "first_name": "Frank", "last_name": "Fox", "date_of_birth": "1970-07-07",
     "gender_code": "M", "ethnicity_code": "WBRI", "created_on": "2015-01-01"},
    {"person_id": 7, "first_name": "Gina", "last_name": "Fox", "date_of_birth": "1930-01-01",
     "gender_code": "F", "ethnicity_code": "WBRI", "created_on": "2015-01-01"},
    {"person_id": 8, "first_name": "Hal", "last_name": "Burr", "date_of_birth": "1952-01-01",
     "gender_code": "M", "ethnicity_code": "WBRI", "created_on": "2015-01-01"},
]


def step(step_id: int, person: int, kind: str, status: str, start: str, done: str | None,
         outcome: str | None = None, carer: bool = False) -> dict[str, Any]:
    return {"step_id": step_id, "person_id": person, "step_type_code": kind,
            "status_code": status, "started_on": start, "completed_on": done,
            "outcome_code": outcome, "worker_id": 11, "team_id": 1, "is_carer_step": carer}


def service(aid: int, person: int, code: str, status: str, start: str, end: str | None,
            **kw: Any) -> dict[str, Any]:
    return {"agreement_id": aid, "person_id": person, "service_code": code,
            "status_code": status, "start_date": start, "end_date": end, "for_carer": False,
            **kw}


TABLES = dict(
    persons=PERSONS,
    person_addresses=[
        {"address_id": 1, "person_id": 1, "postcode": "OL1 1AA", "accommodation_code": "TENLA",
         "start_date": "2015-01-01"},
        {"address_id": 2, "person_id": 1, "postcode": "OL2 2BB", "accommodation_code": "OWN",
         "start_date": "2024-02-01"},
        {"address_id": 3, "person_id": 1, "postcode": "OL9 9ZZ", "accommodation_code": "RES",
         "start_date": "2025-02-01"},  # after the period: not known at its end
        {"address_id": 4, "person_id": 4, "postcode": "OL2 2BB", "accommodation_code": "OWN",
         "start_date": "2015-01-01"},
        {"address_id": 5, "person_id": 3, "postcode": "OL3 3CC", "accommodation_code": "TENLA",
         "start_date": "2015-01-01"},
    ],
    person_support_reasons=[
        {"psr_id": 1, "person_id": 1, "psr_code": "PHYS_AM", "start_date": "2019-01-01"},
        {"psr_id": 2, "person_id": 1, "psr_code": "PHYS_PC", "start_date": "2024-03-20"},
        {"psr_id": 3, "person_id": 4, "psr_code": "PHYS_AM", "start_date": "2019-01-01"},
    ],
    person_employment=[
        {"employment_id": 1, "person_id": 4, "employment_code": "RET", "start_date": "2010-01-01"},
    ],
    person_gp_registrations=[
        {"registration_id": 1, "person_id": 1, "practice_code": "A81001", "start_date": "2010-01-01"},
    ],
    person_conditions=[
        {"condition_id": 1, "person_id": 1, "condition_code": "DEM", "recorded_on": "2023-01-01"},
        {"condition_id": 2, "person_id": 1, "condition_code": "HOH", "recorded_on": "2025-01-05"},
    ],
    allocations=[
        {"allocation_id": 1, "person_id": 1, "team_id": 1, "worker_id": 11,
         "start_date": "2020-01-01"},
    ],
    workflow_steps=[
        step(101, 1, "CONTACT", "COMP", "2024-03-01", "2024-03-02", "ASSESS"),
        step(102, 1, "ASSESS_CA", "COMP", "2024-03-05", "2024-03-20", "SUPPLAN"),
        step(104, 1, "ASSESS_FIN", "COMP", "2024-04-01", "2024-04-10", "FINASS"),
        step(103, 1, "REVIEW_PLAN", "COMP", "2024-08-20", "2024-09-10", "NOCHG"),
        step(105, 1, "CONTACT", "CANC", "2024-05-01", "2024-05-02"),  # cancelled
        step(106, 1, "SAFEGUARD", "COMP", "2024-06-01", "2024-06-05"),  # out of scope
        step(107, 1, "CONTACT", "OPEN", "2024-12-01", None),  # open request
        step(108, 1, "ASSESS_CA", "COMP", "2023-11-01", "2023-12-15", "SUPPLAN"),  # before
        step(109, 1, "ASSESS_OT", "COMP", "2023-12-20", "2024-01-05", "INFO"),  # spans start
        step(111, 1, "DOLS", "COMP", "2024-02-01", "2024-02-02"),  # out of scope
        step(112, 1, "CONTACT", "ERR", "2024-02-01", "2024-02-01"),  # recorded in error
        step(113, 1, "CONTACT", "COMP", "2025-01-02", "2025-01-03", "ASSESS"),  # after
        step(110, 4, "ASSESS_CARER", "COMP", "2024-05-01", "2024-05-10", "SUPPLAN", carer=True),
        step(116, 4, "CONTACT", "COMP", "2024-04-01", "2024-04-02", carer=True),  # no route
        step(117, 4, "REVIEW_PLAN", "COMP", "2024-11-01", "2024-11-05", carer=True),  # no reason
        step(115, 1, "REVIEW_PLAN", "COMP", "2024-10-01", None),  # completed, no date
    ],
    step_contact_details=[
        {"step_id": 101, "route_code": "HOSPDIS", "description": "Referral from ward 3"},
    ],
    step_assessment_details=[
        {"step_id": 102, "eligible_code": "Y", "method_code": "BOTH"},
        {"step_id": 104, "funding_status_code": "CONTRIB"},
        {"step_id": 109, "eligible_code": "N", "method_code": "SU"},
        {"step_id": 110, "eligible_code": "Y", "method_code": "CAR"},
    ],
    step_review_details=[
        {"step_id": 103, "review_reason_code": "ANNUAL", "method_code": "SU",
         "outcomes_code": "FULL"},
    ],
    service_agreements=[
        service(201, 1, "HOMECARE", "ACT", "2023-11-01", None, provider_id=1,
                delivery_code="COMM", unit_cost=21.5, cost_frequency_code="HR",
                planned_units_per_week=10),
        service(202, 1, "TELECARE", "ERR", "2024-02-01", None),  # recorded in error
        service(203, 1, "STRES", "CANC", "2024-07-01", None),  # cancelled before support
        service(208, 1, "STRES", "END", "2024-07-01", "2024-07-14", end_reason_code="ENDPLAN",
                provider_id=1, delivery_code="COMM", unit_cost=700, cost_frequency_code="WK"),
        service(209, 1, "HOMECARE", "END", "2023-06-01", "2023-07-01"),  # before the period
        service(204, 2, "HOMECARE", "ACT", "2024-02-01", None, delivery_code="COMM",
                unit_cost=20, cost_frequency_code="HR", planned_units_per_week=7),
        service(206, 3, "SUPPLIV", "SUSP", "2024-05-01", "2024-07-01", suspended_on="2024-07-01",
                delivery_code="DP", unit_cost=350, cost_frequency_code="WK"),
        service(211, 3, "TELECARE", "ACT", "2024-11-01", "2025-02-01"),  # ends after the period
        service(212, 3, "TELECARE", "ACT", "2025-01-10", None),  # starts after the period
        service(213, 2, "HOMECARE", "ACT", "2024-07-01", None),  # starts after Bob's death
        service(207, 6, "CARERDP", "END", "2024-03-01", "2024-03-01", for_carer=True,
                cared_for_person_id=7, delivery_code="DP", unit_cost=250,
                cost_frequency_code="ONE", end_reason_code="ENDPLAN"),
    ],
    carer_relationships=[
        {"relationship_id": 1, "carer_person_id": 4, "cared_for_person_id": 1,
         "start_date": "2020-01-01", "hours_caring_code": "35TO49"},
        {"relationship_id": 2, "carer_person_id": 5, "cared_for_person_id": 3,
         "start_date": "2023-01-01", "hours_caring_code": "LT20"},
        {"relationship_id": 3, "carer_person_id": 6, "cared_for_person_id": 7,
         "start_date": "2024-01-15", "hours_caring_code": "50PLUS"},
        {"relationship_id": 4, "carer_person_id": 8, "cared_for_person_id": 2,
         "start_date": "2019-01-01", "end_date": "2022-12-31"},
        # Erin cares for four people: the first three (by start) are linked, all four counted
        {"relationship_id": 5, "carer_person_id": 5, "cared_for_person_id": 8,
         "start_date": "2023-04-01"},
        {"relationship_id": 6, "carer_person_id": 5, "cared_for_person_id": 2,
         "start_date": "2023-02-01"},
        {"relationship_id": 7, "carer_person_id": 5, "cared_for_person_id": 7,
         "start_date": "2023-03-01"},
    ],
)

# --- expected rows, by hand ------------------------------------------------------------------
PERIOD_FIELDS = {"LA_Code": "999", "Reporting_Period_Start_Date": "2024-01-01",
                 "Reporting_Period_End_Date": "2024-12-31"}
ALICE = {
    "NHS_Number": "9434765919", "LA_Person_Unique_Identifier": "1", "First_Name": "Alice",
    "Last_Name": "Ames", "GP_Practice_Name": "Riverside Surgery", "GP_Practice_Code": "A81001",
    "Gender": "Female",
    "Ethnicity": "White - English, Welsh, Scottish, Northern Irish or British",
    "Date_of_Birth": "1940-05-06", "Client_Type": "Service User",
    # latest PSR (2024-03-20) on every row, even those before it
    "Primary_Support_Reason": "Physical Support: Personal care support",
    "Postcode": "OL2 2BB", "Accommodation_Status": "Owner occupier or shared ownership scheme",
    "Has_Unpaid_Carer": "Yes",
    "Autism_Spectrum_Disorder_ASD": "Unknown", "Visual_Impairment": "Unknown",
    "Hearing_Impairment": "Unknown",  # recorded only after the period end
    "Dementia": "Yes",
}
UNKNOWN_FUNDING = {"Client_Funding_Status": "Unknown - Individual Level"}
JOINT = {"Client_Funding_Status": "Joint Client and Social Care Funded"}
BOB = {
    "NHS_Number": "9434765870", "LA_Person_Unique_Identifier": "2", "First_Name": "Bob",
    "Last_Name": "Burr", "Gender": "Male", "Ethnicity": "White - Irish",
    "Date_of_Birth": "1950-01-01", "Date_of_Death": "2024-06-15", "Client_Type": "Service User",
    "Has_Unpaid_Carer": "Yes",  # Erin, since 2023 (Hal's care ended in 2022)
    "Autism_Spectrum_Disorder_ASD": "Unknown",
    "Visual_Impairment": "Unknown", "Hearing_Impairment": "Unknown", "Dementia": "Unknown",
    **UNKNOWN_FUNDING,
}
CAROL = {
    "LA_Person_Unique_Identifier": "3", "First_Name": "Carol", "Last_Name": "Cole",
    "Gender": None,  # 'X9' is not in gender.csv: blank, reported
    "Ethnicity": "White - English, Welsh, Scottish, Northern Irish or British",
    "Date_of_Birth": "1960-03-03", "Client_Type": "Service User", "Postcode": "OL3 3CC",
    "Accommodation_Status": "Tenant", "Has_Unpaid_Carer": "Yes",
    "Autism_Spectrum_Disorder_ASD": "Unknown", "Visual_Impairment": "Unknown",
    "Hearing_Impairment": "Unknown", "Dementia": "Unknown", **UNKNOWN_FUNDING,
}
CARER_PSR = {"Primary_Support_Reason": "Social Support: Support to Carer"}
DAVE = {
    "NHS_Number": "9434765862", "LA_Person_Unique_Identifier": "4", "First_Name": "Dave",
    "Last_Name": "Ames", "Gender": "Male",
    "Ethnicity": "White - English, Welsh, Scottish, Northern Irish or British",
    "Date_of_Birth": "1945-02-02", "Client_Type": "Carer", **CARER_PSR, "Postcode": "OL2 2BB",
    "Accommodation_Status": "Owner occupier or shared ownership scheme",
    "Employment_Status": "Not in Paid Employment (not actively seeking work / retired)",
    "Has_Unpaid_Carer": "No", "Total_Hrs_Caring_per_week": "35-49 hours",
    "No_of_adults_being_cared_for": "1", "Adult_1_Linked_Person_ID": "1",
}
ERIN_CKBA = {
    "LA_Person_Unique_Identifier": "5", "First_Name": "Erin", "Last_Name": "Cole",
    "Gender": "Female",
    "Ethnicity": "White - English, Welsh, Scottish, Northern Irish or British",
    "Date_of_Birth": "1990-09-09", "Client_Type": "Carer known by association", **CARER_PSR,
    "Has_Unpaid_Carer": "No", "Total_Hrs_Caring_per_week": "1-19 hours",
    "No_of_adults_being_cared_for": "4", "Adult_1_Linked_Person_ID": "3",
    "Adult_2_Linked_Person_ID": "2", "Adult_3_Linked_Person_ID": "7",
}
FRANK = {
    "LA_Person_Unique_Identifier": "6", "First_Name": "Frank", "Last_Name": "Fox",
    "Gender": "Male",
    "Ethnicity": "White - English, Welsh, Scottish, Northern Irish or British",
    "Date_of_Birth": "1970-07-07", "Client_Type": "Carer", **CARER_PSR,
    "Has_Unpaid_Carer": "No", "Total_Hrs_Caring_per_week": "50 or more hours",
    "No_of_adults_being_cared_for": "1", "Adult_1_Linked_Person_ID": "7",
}
PROVIDER = {"Provider_CQC_Location_ID": "1-101", "Provider_CQC_Location_Name": "Kind Care Riverside"}

EXPECTED: dict[str, dict[str, Any]] = {
    "109": {**ALICE, **UNKNOWN_FUNDING, "Event_Type": "Assessment", "Event_Reference": "109",
            "Event_Start_Date": "2023-12-20", "Event_End_Date": "2024-01-05",
            "Event_Outcome": "NFA - Information & Advice / Signposting only",
            "Assessment_Type": "Short Term Assessment", "Eligible_Needs_Identified": "No",
            "Method_of_Assessment": "Service user only"},
    "101": {**ALICE, **UNKNOWN_FUNDING, "Event_Type": "Request", "Event_Reference": "101",
            "Event_Start_Date": "2024-03-01", "Event_End_Date": "2024-03-02",
            "Event_Description": "Referral from ward 3", "Event_Outcome": "Progress to Assessment",
            "Request_Route_of_Access": "Discharge from Hospital"},
    "102": {**ALICE, **UNKNOWN_FUNDING, "Event_Type": "Assessment", "Event_Reference": "102",
            "Event_Start_Date": "2024-03-05", "Event_End_Date": "2024-03-20",
            "Event_Outcome": "Progress to Support Planning / Services",
            "Assessment_Type": "Long Term Assessment", "Eligible_Needs_Identified": "Yes",
            "Method_of_Assessment": "Service user and carer"},
    # financial assessment: no outcome; its own result is the latest up to its end
    "104": {**ALICE, **JOINT, "Event_Type": "Assessment", "Event_Reference": "104",
            "Event_Start_Date": "2024-04-01", "Event_End_Date": "2024-04-10",
            "Assessment_Type": "Financial Assessment"},
    "208": {**ALICE, **JOINT, **PROVIDER, "Event_Type": "Service", "Event_Reference": "208",
            "Event_Start_Date": "2024-07-01", "Event_End_Date": "2024-07-14",
            "Event_Outcome": "Service ended as planned",
            "Service_Type": "Short Term Support: Other Short Term",
            "Service_Component": "Short Term Residential Care",
            "Delivery_Mechanism": "CASSR Commissioned Support", "Unit_Cost": "700.00",
            "Cost_Frequency_Unit_Type": "Weekly"},
    "103": {**ALICE, **JOINT, "Event_Type": "Review", "Event_Reference": "103",
            "Event_Start_Date": "2024-08-20", "Event_End_Date": "2024-09-10",
            "Event_Outcome": "No change in package", "Review_Reason": "Planned",
            "Review_Outcomes_Achieved": "Fully Met", "Method_of_Review": "Service user only"},
    # started before the period, still open: in, end blank, 'Provision of service'
    "201": {**ALICE, **JOINT, **PROVIDER, "Event_Type": "Service", "Event_Reference": "201",
            "Event_Start_Date": "2023-11-01", "Event_Outcome": "Provision of service",
            "Service_Type": "Long Term Support: Community", "Service_Component": "Home Support",
            "Delivery_Mechanism": "CASSR Commissioned Support", "Unit_Cost": "21.50",
            "Cost_Frequency_Unit_Type": "Hourly", "Planned_units_per_week": "10.00"},
    # died 2024-06-15 during an open service: ends on the date of death
    "204": {**BOB, "Event_Type": "Service", "Event_Reference": "204",
            "Event_Start_Date": "2024-02-01", "Event_End_Date": "2024-06-15",
            "Event_Outcome": "NFA - Deceased", "Service_Type": "Long Term Support: Community",
            "Service_Component": "Home Support", "Delivery_Mechanism": "CASSR Commissioned Support",
            "Unit_Cost": "20.00", "Cost_Frequency_Unit_Type": "Hourly",
            "Planned_units_per_week": "7.00"},
    # suspended: in, as open (its end date is ignored)
    "206": {**CAROL, "Event_Type": "Service", "Event_Reference": "206",
            "Event_Start_Date": "2024-05-01", "Event_Outcome": "Provision of service",
            "Service_Type": "Long Term Support: Community",
            "Service_Component": "Community Supported Living",
            "Delivery_Mechanism": "Direct Payment", "Unit_Cost": "350.00",
            "Cost_Frequency_Unit_Type": "Weekly"},
    "110": {**DAVE, "Event_Type": "Assessment", "Event_Reference": "110",
            "Event_Start_Date": "2024-05-01", "Event_End_Date": "2024-05-10",
            "Event_Outcome": "Progress to Support Planning / Services",
            "Assessment_Type": "Long Term Assessment", "Eligible_Needs_Identified": "Yes",
            "Method_of_Assessment": "Carer only"},
    # an end date after the period end is not known at its end: open
    "211": {**CAROL, "Event_Type": "Service", "Event_Reference": "211",
            "Event_Start_Date": "2024-11-01", "Event_Outcome": "Provision of service",
            "Service_Type": "Short Term Support: Ongoing Low Level",
            "Service_Component": "Equipment"},
    # completed without a completion date: kept, blank end (a finding for the checks)
    "115": {**ALICE, **JOINT, "Event_Type": "Review", "Event_Reference": "115",
            "Event_Start_Date": "2024-10-01"},
    # carer's request without a route: 'Community / Other route'
    "116": {**DAVE, "Event_Type": "Request", "Event_Reference": "116",
            "Event_Start_Date": "2024-04-01", "Event_End_Date": "2024-04-02",
            "Request_Route_of_Access": "Community / Other route"},
    # carer's review without a reason: 'Planned'
    "117": {**DAVE, "Event_Type": "Review", "Event_Reference": "117",
            "Event_Start_Date": "2024-11-01", "Event_End_Date": "2024-11-05",
            "Review_Reason": "Planned"},
    # starts after the date of death: kept as recorded (the checks report it), not cut
    "213": {**BOB, "Event_Type": "Service", "Event_Reference": "213",
            "Event_Start_Date": "2024-07-01", "Event_Outcome": "Provision of service",
            "Service_Type": "Long Term Support: Community", "Service_Component": "Home Support"},
    "relationship:2": {**ERIN_CKBA},
    "207": {**FRANK, "Event_Type": "Service", "Event_Reference": "207",
            "Event_Start_Date": "2024-03-01", "Event_End_Date": "2024-03-01",
            "Event_Outcome": "Service ended as planned",
            "Service_Type": "Carer Support: Direct to Carer", "Service_Component": "Direct Payment",
            "Delivery_Mechanism": "Direct Payment", "Unit_Cost": "250.00",
            "Cost_Frequency_Unit_Type": "One-off"},
}


@pytest.fixture(scope="module")
def result():
    return transform(world(**TABLES), None, PERIOD, "R1", MAPPINGS, "999")


def _row(frame: pl.DataFrame, step_id: str) -> dict[str, Any]:
    rows = frame.filter(pl.col("_step_id") == step_id).to_dicts()
    assert len(rows) == 1, f"{step_id}: {len(rows)} rows"
    return rows[0]


def test_exactly_the_expected_rows(result) -> None:
    assert sorted(result.frame.get_column("_step_id").to_list()) == sorted(EXPECTED)


@pytest.mark.parametrize("step_id", list(EXPECTED))
def test_row_matches_hand_worked_values(result, step_id: str) -> None:
    from cld_schema import load_spec

    want = {f: None for f in load_spec("R1").field_names} | PERIOD_FIELDS | EXPECTED[step_id]
    got = _row(result.frame, step_id)
    assert {f: got[f] for f in want} == want


def test_frame_shape_follows_the_contract(result) -> None:
    from cld_schema import load_spec

    spec = load_spec("R1")
    frame = result.frame
    assert frame.columns[: len(spec.field_names)] == spec.field_names
    assert all(frame.schema[f] == pl.String for f in spec.field_names)
    assert frame.get_column("_row").to_list() == list(range(frame.height))
    assert frame.schema["_row"] == pl.UInt32
    assert set(frame.columns[len(spec.field_names):]) == {
        "_row", "_person_id", "_step_id", "_source", "_team_id", "_team_name", "_worker_name"}


def test_owner_team_and_worker(result) -> None:
    alice_service = _row(result.frame, "201")  # services take the allocation at their start
    assert (alice_service["_team_name"], alice_service["_worker_name"]) == (
        "Older People North", "Sam Worker")
    assert _row(result.frame, "relationship:2")["_source"] == "derived"


def test_excluded_counts_by_reason(result) -> None:
    assert result.excluded == {
        "cancelled": 1,  # 105
        "in_error": 1,  # 112
        "not_completed": 1,  # 107 open request
        "out_of_scope_step_type": 2,  # 106 safeguarding, 111 DoLS
        "service_cancelled": 1,  # 203
        "service_in_error": 1,  # 202
    }


def test_unmapped_codes_reported_with_row_counts(result) -> None:
    assert result.unmapped.to_dicts() == [
        {"mapping": "gender.csv", "field": "Gender", "code": "X9", "rows": 2}  # Carol's 2 rows
    ]


def test_counts_by_event_type_and_month(result) -> None:
    assert result.counts["Service"] == {"2024-03": 1, "2024-06": 1, "2024-07": 1, "open": 4}
    assert result.counts["Review"] == {"2024-09": 1, "2024-11": 1, "open": 1}
    assert result.counts["Request"] == {"2024-03": 1, "2024-04": 1}
    assert result.counts["Assessment"] == {"2024-01": 1, "2024-03": 1, "2024-04": 1, "2024-05": 1}
    assert result.counts["Carer known by association"] == {"-": 1}


def test_cared_for_person_of_a_supported_carer_is_not_sent(result) -> None:
    people = set(result.frame.get_column("_person_id").to_list())
    assert "7" not in people  # Gina: only Frank (her carer) is supported
    assert "8" not in people  # Hal: relationship ended before the period
