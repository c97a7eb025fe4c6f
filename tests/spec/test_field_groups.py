"""Field groups come from the spec's ``applies`` conditions: ``Spec.fields_applying`` and
``Spec.fields_not_applying`` give the same fields as the former hand lists of
``checks/rules/applicability.py`` (LOG050-LOG056, which now ask the spec) and the transform's
former SERVICE_USER_ONLY / CARER_ONLY (copied here as they were on 2026-12-02), and the
transform's client-type blanking uses it. tests/checks/rules/test_applicability_groups.py
runs the rules on each field of these lists."""

from __future__ import annotations

import pytest

from cld_schema import RELEASES, load_spec
from pipelines.transform import client_type_fields

HAND = {  # the former hand lists (the transform's two were the same as the last two)
    "EVENT_FIELDS": ("Event_Type", "Event_Reference", "Event_Start_Date", "Event_End_Date",
                     "Event_Description", "Event_Outcome"),
    "REQUEST_FIELDS": ("Request_Route_of_Access",),
    "ASSESSMENT_FIELDS": ("Assessment_Type", "Eligible_Needs_Identified", "Method_of_Assessment"),
    "SERVICE_FIELDS": ("Service_Type", "Service_Component", "Delivery_Mechanism",
                       "Provider_CQC_Location_ID", "Provider_CQC_Location_Name", "Unit_Cost",
                       "Cost_Frequency_Unit_Type", "Planned_units_per_week"),
    "REVIEW_FIELDS": ("Review_Reason", "Review_Outcomes_Achieved", "Method_of_Review"),
    "CARER_FIELDS": ("Total_Hrs_Caring_per_week", "No_of_adults_being_cared_for",
                     "Adult_1_Linked_Person_ID", "Adult_2_Linked_Person_ID",
                     "Adult_3_Linked_Person_ID"),
    "SERVICE_USER_FIELDS": ("Autism_Spectrum_Disorder_ASD", "Visual_Impairment",
                            "Hearing_Impairment", "Dementia", "Client_Funding_Status"),
}
QUERIES = {
    "REQUEST_FIELDS": ("Event_Type", ["REQUEST"]),
    "ASSESSMENT_FIELDS": ("Event_Type", ["ASSESSMENT"]),
    "SERVICE_FIELDS": ("Event_Type", ["SERVICE"]),
    "REVIEW_FIELDS": ("Event_Type", ["REVIEW"]),
    "CARER_FIELDS": ("Client_Type", ["CARER", "CARER_KNOWN_BY_ASSOCIATION"]),
    "SERVICE_USER_FIELDS": ("Client_Type", ["SERVICE_USER"]),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_derived_group_equals_the_hand_list(name: str):
    field, keys = QUERIES[name]
    spec = load_spec(RELEASES[0])  # the first release holds every field
    assert set(spec.fields_applying(field=field, keys=keys)) == set(HAND[name])
    # a later release gives the same group less the fields it removed
    for rel in RELEASES[1:]:
        later = load_spec(rel)
        assert set(later.fields_applying(field=field, keys=keys)) == {
            f for f in HAND[name] if later.has_field(f)}


def test_event_fields_are_those_not_applying_to_ckba():
    for rel in RELEASES:
        spec = load_spec(rel)
        got = spec.fields_not_applying(field="Client_Type", keys=["CARER_KNOWN_BY_ASSOCIATION"])
        assert set(got) == {f for f in HAND["EVENT_FIELDS"] if spec.has_field(f)}
    # the exact keys, and a field whose condition only holds the test among all: parts is out
    spec = load_spec(RELEASES[0])
    assert spec.fields_not_applying(field="Client_Type", keys=["CARER"]) == []
    assert "Service_Type" not in spec.fields_not_applying(
        field="Client_Type", keys=["CARER_KNOWN_BY_ASSOCIATION"])


def test_transform_client_type_groups():
    su, carer = client_type_fields(load_spec(RELEASES[0]))
    assert set(su) == set(HAND["SERVICE_USER_FIELDS"]) and set(carer) == set(HAND["CARER_FIELDS"])


def test_query_needs_the_exact_keys():
    spec = load_spec(RELEASES[0])
    assert spec.fields_applying(field="Client_Type", keys=["CARER"]) == []
    assert "Request_Route_of_Access" in spec.fields_applying(field="Event_Type", keys=["REQUEST"])
