"""Field status and validity per row, on hand-built rows covering every conditional rule of
rules.md section 3 (Release 1, DQR1), with the edge cases."""

from __future__ import annotations

import polars as pl
import pytest

from cld_schema import field_status, load_spec

R1 = load_spec("R1")
R2 = load_spec("R2")
PERIOD_END = "2025-03-31"


def row(spec=R1, **values: str | None) -> dict[str, str | None]:
    base: dict[str, str | None] = {n: None for n in spec.field_names}
    base.update(
        LA_Code="999",
        Reporting_Period_Start_Date="2024-04-01",
        Reporting_Period_End_Date=PERIOD_END,
        Client_Type=spec.value("Client_Type", "SERVICE_USER"),
        Date_of_Birth="1950-06-15",
    )
    base.update(values)
    return base


def statuses(*rows: dict, spec=R1) -> pl.DataFrame:
    frame = pl.DataFrame(list(rows), schema={n: pl.String for n in spec.field_names})
    return field_status(frame, spec)


def status_of(field: str, spec=R1, **values) -> int:
    return statuses(row(spec, **values), spec=spec)[f"{field}__status"][0]


ALWAYS_MANDATORY = [
    "LA_Code", "Reporting_Period_Start_Date", "Reporting_Period_End_Date", "NHS_Number",
    "LA_Person_Unique_Identifier", "Gender", "Ethnicity", "Date_of_Birth", "Client_Type",
    "Postcode", "Accommodation_Status", "Has_Unpaid_Carer",
]


@pytest.mark.parametrize("field", ALWAYS_MANDATORY)
def test_always_mandatory(field):
    for client in ("SERVICE_USER", "CARER", "CARER_KNOWN_BY_ASSOCIATION"):
        assert status_of(field, Client_Type=R1.value("Client_Type", client)) == 2


@pytest.mark.parametrize("field", ["GP_Practice_Code", "GP_Practice_Name", "Date_of_Death"])
def test_always_applicable_never_mandatory(field):
    assert status_of(field, Event_Type="Service") == 1


def test_psr_mandatory_except_on_requests():
    assert status_of("Primary_Support_Reason", Event_Type="Request") == 1
    for ev in ("Assessment", "Service", "Review"):
        assert status_of("Primary_Support_Reason", Event_Type=ev) == 2


@pytest.mark.parametrize(
    ("dob", "expected"),
    [
        ("2007-03-31", 2),  # 18 exactly on the period end date
        ("2007-04-01", 1),  # 18 the day after: still 17, so applicable only
        ("1960-04-01", 2),  # 64 and 364 days
        ("1960-03-31", 1),  # 65 exactly on the period end date
        ("1985-01-01", 2),
        ("not a date", -1),  # age cannot be worked out: undetermined
    ],
)
def test_employment_status_ld_service_users_18_to_64(dob, expected):
    got = status_of("Employment_Status", Date_of_Birth=dob, Event_Type="Service",
                    Primary_Support_Reason="Learning Disability Support")
    assert got == expected


def test_employment_status_other_psr_or_carer_not_mandatory():
    assert status_of("Employment_Status", Date_of_Birth="1985-01-01",
                     Primary_Support_Reason="Mental Health Support") == 1
    assert status_of("Employment_Status", Date_of_Birth="1985-01-01", Client_Type="Carer",
                     Primary_Support_Reason="Learning Disability Support") == 1


@pytest.mark.parametrize(
    "field", ["Autism_Spectrum_Disorder_ASD", "Visual_Impairment", "Hearing_Impairment", "Dementia"]
)
def test_disability_flags_service_users_only(field):
    assert status_of(field) == 1
    assert status_of(field, Client_Type="Carer") == 0
    assert status_of(field, Client_Type="Carer known by association") == 0


def test_client_funding_status():
    assert status_of("Client_Funding_Status", Event_Type="Service") == 2
    assert status_of("Client_Funding_Status", Event_Type="Review") == 2
    assert status_of("Client_Funding_Status", Event_Type="Assessment",
                     Assessment_Type="Financial Assessment") == 2
    assert status_of("Client_Funding_Status", Event_Type="Assessment",
                     Assessment_Type="Long Term Assessment") == 1
    assert status_of("Client_Funding_Status", Event_Type="Request") == 1
    assert status_of("Client_Funding_Status", Client_Type="Carer", Event_Type="Service") == 0


def test_event_fields_not_applicable_to_carer_known_by_association():
    ckba = {"Client_Type": "Carer known by association"}
    for field in ("Event_Type", "Event_Start_Date", "Event_Reference", "Event_Description",
                  "Event_End_Date", "Event_Outcome"):
        assert status_of(field, **ckba) == 0, field
    assert status_of("Event_Type", Event_Type="Request") == 2
    assert status_of("Event_Start_Date", Event_Type="Request") == 2
    assert status_of("Event_Reference", Event_Type="Request") == 1
    assert status_of("Event_Description", Event_Type="Request") == 1


def test_event_end_date():
    for ev in ("Request", "Assessment", "Review"):
        assert status_of("Event_End_Date", Event_Type=ev) == 2
    assert status_of("Event_End_Date", Event_Type="Service") == 1
    assert status_of("Event_End_Date", Event_Type="Service", Date_of_Death="2024-10-01") == 2


def test_event_outcome_not_for_financial_assessments():
    assert status_of("Event_Outcome", Event_Type="Assessment",
                     Assessment_Type="Financial Assessment") == 1
    assert status_of("Event_Outcome", Event_Type="Assessment",
                     Assessment_Type="Short Term Assessment") == 2
    assert status_of("Event_Outcome", Event_Type="Service") == 2


@pytest.mark.parametrize(
    ("field", "event"),
    [("Request_Route_of_Access", "Request"), ("Assessment_Type", "Assessment"),
     ("Service_Type", "Service"), ("Service_Component", "Service"),
     ("Review_Reason", "Review"), ("Method_of_Review", "Review")],
)
def test_event_specific_mandatory(field, event):
    assert status_of(field, Event_Type=event) == 2
    for other in {"Request", "Assessment", "Service", "Review"} - {event}:
        assert status_of(field, Event_Type=other) == 0


@pytest.mark.parametrize(
    ("field", "event"),
    [("Eligible_Needs_Identified", "Assessment"), ("Delivery_Mechanism", "Service"),
     ("Provider_CQC_Location_ID", "Service"), ("Provider_CQC_Location_Name", "Service")],
)
def test_event_specific_optional(field, event):
    assert status_of(field, Event_Type=event) == 1
    assert status_of(field, Event_Type="Request") == 0


def test_method_of_assessment():
    assert status_of("Method_of_Assessment", Event_Type="Assessment",
                     Assessment_Type="Long Term Assessment") == 2
    assert status_of("Method_of_Assessment", Event_Type="Assessment",
                     Assessment_Type="Financial Assessment") == 1
    assert status_of("Method_of_Assessment", Event_Type="Review") == 0


@pytest.mark.parametrize(
    "field",
    ["Total_Hrs_Caring_per_week", "No_of_adults_being_cared_for", "Adult_1_Linked_Person_ID",
     "Adult_2_Linked_Person_ID", "Adult_3_Linked_Person_ID"],
)
def test_carer_fields(field):
    assert status_of(field, Client_Type="Carer", Event_Type="Assessment") == 1
    assert status_of(field, Client_Type="Carer known by association") == 1
    assert status_of(field, Event_Type="Service") == 0


def test_review_outcomes_only_mandatory_for_planned_reviews():
    assert status_of("Review_Outcomes_Achieved", Event_Type="Review", Review_Reason="Planned") == 2
    assert status_of("Review_Outcomes_Achieved", Event_Type="Review",
                     Review_Reason="Unplanned - Other Reason") == 1
    assert status_of("Review_Outcomes_Achieved", Event_Type="Service") == 0
    # a reason outside the list: cannot tell whether it was planned
    assert status_of("Review_Outcomes_Achieved", Event_Type="Review", Review_Reason="Plannd") == -1


@pytest.mark.parametrize("field", ["Unit_Cost", "Cost_Frequency_Unit_Type", "Planned_units_per_week"])
@pytest.mark.parametrize(
    ("service_type", "component", "mechanism", "expected"),
    [
        ("Long Term Support: Community", "Home Support", "Direct Payment", 2),
        ("Long Term Support: Nursing Care", "Long Term Nursing Care", "CASSR Managed Personal Budget", 2),
        ("Carer Support: Direct to Carer", "Carer Respite", "Direct Payment", 2),
        ("Short Term Support: Other Short Term", "Short Term Residential Care", "Direct Payment", 2),
        ("Short Term Support: Other Short Term", "Carer Respite", None, 2),
        ("Long Term Support: Community", "Home Support", "CASSR Commissioned Support", 1),
        ("Short Term Support: ST-Max", "Reablement", "Direct Payment", 1),
        ("Short Term Support: Ongoing Low Level", "Equipment", None, 1),
    ],
)
def test_cost_fields(field, service_type, component, mechanism, expected):
    got = status_of(field, Event_Type="Service", Service_Type=service_type,
                    Service_Component=component, Delivery_Mechanism=mechanism)
    assert got == expected
    assert status_of(field, Event_Type="Review") == 0


def test_validity_codes():
    frame = statuses(
        row(NHS_Number="9434765919", Gender="Male", Postcode="LS1 4AP", Event_Type="Request",
            Event_Start_Date="2024-05-01", Event_End_Date="2024-05-02"),
        row(NHS_Number="9434765918", Gender="Man", Postcode="ls1 4ap", Event_Type="Request",
            Event_Start_Date="01/05/2024", Event_End_Date="2024-02-30"),
        row(NHS_Number=None, Gender=None, Postcode=None, Event_Type="Service",
            Event_Start_Date="2024-05-01", Event_End_Date=None),
    )
    assert frame["NHS_Number__validity"].to_list() == [1, -2, -1]
    assert frame["Gender__validity"].to_list() == [1, -2, -1]
    assert frame["Postcode__validity"].to_list() == [1, -2, -1]
    assert frame["Event_Start_Date__validity"].to_list() == [1, -2, 1]
    assert frame["Event_End_Date__validity"].to_list() == [1, -2, 0]  # open service: allowed


def test_nhs_number_rules():
    cases = {"9434765919": 1, "9434765911": -2, "1111111111": -2, "943476591": -2,
             "94347659190": -2, "943476591X": -2}
    frame = statuses(*[row(NHS_Number=n) for n in cases])
    assert frame["NHS_Number__validity"].to_list() == list(cases.values())


def test_release_1_value_in_release_2_file():
    frame = statuses(
        row(R2, Client_Type="Service User", Event_Type="Service",
            Service_Type="Long Term Support: Community"),
        row(R2, Client_Type="Service user", Event_Type="Service",
            Service_Type="Long term support: Community"),
        spec=R2,
    )
    assert frame["Client_Type__validity"].to_list() == [-7, 1]
    assert frame["Service_Type__validity"].to_list() == [-7, 1]
    # the R1 spelling still determines status (the row is a service user's)
    assert frame["Client_Funding_Status__status"].to_list() == [2, 2]


def test_works_on_lazy_frames_and_missing_columns():
    lazy = pl.LazyFrame([{"Client_Type": "Carer", "Event_Type": "Service"}])
    out = field_status(lazy, R1)
    assert isinstance(out, pl.LazyFrame)
    got = out.collect()
    assert got["Service_Type__status"][0] == 2
    assert got["Service_Type__validity"][0] == -1
    assert "Gender" not in got.columns  # absent columns are treated as blank, not added


def test_period_end_fallback_for_age():
    frame = pl.DataFrame([row(Reporting_Period_End_Date=None, Date_of_Birth="1985-01-01",
                              Primary_Support_Reason="Learning Disability Support")],
                         schema={n: pl.String for n in R1.field_names})
    assert field_status(frame, R1)["Employment_Status__status"][0] == -1
    assert field_status(frame, R1, period_end=PERIOD_END)["Employment_Status__status"][0] == 2
