"""Shared helpers for the checks tests: a valid base row and a frame builder."""

from __future__ import annotations

import polars as pl
import pytest

from cld_schema import load_spec


def base_row(spec) -> dict[str, str | None]:
    """A valid row: a service user's request completed in the 2024 calendar-year period."""
    row: dict[str, str | None] = dict.fromkeys(spec.field_names)
    row.update(
        LA_Code="999",
        Reporting_Period_Start_Date="2024-01-01",
        Reporting_Period_End_Date="2024-12-31",
        NHS_Number="9434765919",
        LA_Person_Unique_Identifier="P1",
        Gender=spec.value("Gender", "MALE"),
        Ethnicity=spec.values("Ethnicity")[0],
        Date_of_Birth="1950-01-31",
        Client_Type=spec.value("Client_Type", "SERVICE_USER"),
        Primary_Support_Reason=spec.values("Primary_Support_Reason")[0],
        Postcode="LS1 4AP",
        Accommodation_Status=spec.values("Accommodation_Status")[0],
        Has_Unpaid_Carer=spec.values("Has_Unpaid_Carer")[0],
        Event_Type=spec.value("Event_Type", "REQUEST"),
        Event_Reference="E1",
        Event_Start_Date="2024-03-01",
        Event_End_Date="2024-03-02",
        Event_Outcome=spec.value("Event_Outcome", "NFA_INFORMATION_ADVICE"),
        Request_Route_of_Access=spec.values("Request_Route_of_Access")[0],
    )
    return row


def resolve(spec, field: str, value):
    """``key:NAME`` -> the text of that KEY in this release."""
    if isinstance(value, str) and value.startswith("key:"):
        return spec.value(field, value[4:])
    return value


def frame_of(spec, overrides: list[dict]) -> pl.DataFrame:
    base = base_row(spec)
    rows = [{**base, **{k: resolve(spec, k, v) for k, v in o.items()}} for o in overrides]
    return pl.DataFrame(rows, schema=dict.fromkeys(spec.field_names, pl.String)).with_row_index(
        "_row"
    )


@pytest.fixture(scope="session")
def spec_r1():
    return load_spec("R1")


@pytest.fixture(scope="session")
def spec_r2():
    return load_spec("R2")
