"""A small hand-made case-management database (schema of pipelines/source/tables.py), loaded
into the suite's real PostgreSQL server and into SQLite, for the extract tests.

Period 2024-25Q3: period 2024-01-01..2024-12-31, lookback from 2023-01-01. Each person is
there for one reason, written beside them, so the tests can say who must (not) be extracted.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipelines.period import Period
from pipelines.source.tables import metadata

PERIOD = Period.parse("2024-25Q3")
SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "extract"

D = date


def _person(pid: int, nhs: str | None, dob: date, gender: str = "M") -> dict:
    return {
        "person_id": pid,
        "nhs_number": nhs,
        "first_name": f"First{pid}",
        "last_name": "Smith-O'Neil" if pid == 1 else f"Last{pid}",
        "date_of_birth": dob,
        "date_of_death": D(2024, 8, 1) if pid == 4 else None,
        "gender_code": gender,
        "ethnicity_code": "WBRI",
        "created_on": D(2019, 1, 1),
    }


def _step(sid, pid, completed, started=None, prev=None, status="COMP", typ="ASSESS") -> dict:
    return {
        "step_id": sid,
        "person_id": pid,
        "step_type_code": typ,
        "status_code": status,
        "started_on": started or (completed or D(2023, 6, 1)),
        "completed_on": completed,
        "outcome_code": "NFA",
        "worker_id": 1,
        "team_id": 1,
        "previous_step_id": prev,
        "is_carer_step": pid == 5,
    }


def _agreement(aid, pid, start, end, source_step=None, cared_for=None) -> dict:
    return {
        "agreement_id": aid,
        "person_id": pid,
        "service_code": "HOMECARE",
        "provider_id": 1,
        "delivery_code": "COMM",
        "status_code": "ACT" if end is None else "END",
        "start_date": start,
        "end_date": end,
        "suspended_on": None,
        "end_reason_code": None,
        "unit_cost": 21.35,
        "cost_frequency_code": "HOUR",
        "planned_units_per_week": 7.5,
        "for_carer": cared_for is not None,
        "cared_for_person_id": cared_for,
        "source_step_id": source_step,
    }


ROWS: dict[str, list[dict]] = {
    "lookup_codes": [
        {"code_type": "GENDER", "code": "M", "description": "Male", "active": True},
        {"code_type": "GENDER", "code": "F", "description": "Female", "active": True},
        {"code_type": "GENDER", "code": "X", "description": "Old code", "active": False},
    ],
    "teams": [{"team_id": 1, "team_name": "Older People North", "service_area": "OP"}],
    "workers": [{"worker_id": 1, "team_id": 1, "worker_name": "A Worker", "email": None}],
    "gp_practices": [{"practice_code": "A81001", "practice_name": "The Surgery"}],
    "providers": [
        {
            "provider_id": 1,
            "provider_name": "Care Ltd",
            "cqc_location_id": "1-101",
            "cqc_location_name": "Care Ltd North",
        }
    ],
    "persons": [
        _person(1, "9434765919", D(1940, 3, 1)),  # assessment completed in the period
        _person(2, "9434765870", D(1950, 1, 1), "F"),  # only a step completed in 2022: out
        _person(3, None, D(1960, 2, 29)),  # review in period following a 2021 assessment
        _person(4, "9434765862", D(1930, 7, 7)),  # open service since 2020, died 2024-08-01
        _person(5, "9434765854", D(1970, 1, 1), "F"),  # carer of person 1 (relationship only)
        _person(6, "9434765846", D(1980, 1, 1)),  # service starts after the period: out
        _person(7, "9434765838", D(1945, 5, 5)),  # open assessment since 2023-06-01
        _person(8, "9434765811", D(1935, 1, 1)),  # cared-for person on person 9's service
        _person(9, "9434765803", D(1975, 1, 1), "F"),  # carer with a carer's service
        _person(10, "9434765897", D(1990, 1, 1)),  # step in the lookback year only
    ],
    "person_addresses": [
        {
            "address_id": 1,
            "person_id": 1,
            "postcode": "LS1 4AP",
            "accommodation_code": "OWN",
            "start_date": D(2010, 1, 1),
            "end_date": None,
        },
        {
            "address_id": 2,
            "person_id": 2,
            "postcode": "LS2 7EW",
            "accommodation_code": "OWN",
            "start_date": D(2010, 1, 1),
            "end_date": None,
        },
        {
            "address_id": 3,
            "person_id": 4,
            "postcode": "LS6 1AA",
            "accommodation_code": "RES",
            "start_date": D(2019, 1, 1),
            "end_date": None,
        },
    ],
    "person_gp_registrations": [
        {
            "registration_id": 1,
            "person_id": 1,
            "practice_code": "A81001",
            "start_date": D(2000, 1, 1),
            "end_date": None,
        },
        {
            "registration_id": 2,
            "person_id": 6,
            "practice_code": "A81001",
            "start_date": D(2000, 1, 1),
            "end_date": None,
        },
    ],
    "person_conditions": [
        {"condition_id": 1, "person_id": 3, "condition_code": "DEM", "recorded_on": D(2015, 1, 1)},
        {"condition_id": 2, "person_id": 2, "condition_code": "ASD", "recorded_on": D(2015, 1, 1)},
    ],
    "person_support_reasons": [
        {"psr_id": 1, "person_id": 1, "psr_code": "PHYS", "start_date": D(2018, 1, 1)},
        {"psr_id": 2, "person_id": 1, "psr_code": "MEM", "start_date": D(2024, 2, 1)},
        {"psr_id": 3, "person_id": 6, "psr_code": "PHYS", "start_date": D(2024, 2, 1)},
    ],
    "person_employment": [
        {"employment_id": 1, "person_id": 9, "employment_code": "FT", "start_date": D(2020, 1, 1)},
    ],
    "allocations": [
        {
            "allocation_id": 1,
            "person_id": 1,
            "team_id": 1,
            "worker_id": 1,
            "start_date": D(2023, 1, 1),
            "end_date": None,
        },
        {
            "allocation_id": 2,
            "person_id": 2,
            "team_id": 1,
            "worker_id": None,
            "start_date": D(2022, 1, 1),
            "end_date": D(2022, 6, 1),
        },
    ],
    "workflow_steps": [
        _step(101, 1, D(2024, 6, 1), started=D(2024, 5, 1)),
        _step(102, 1, D(2019, 5, 1), typ="FINASSESS"),  # old financial assessment
        _step(103, 1, D(2025, 2, 1), typ="FINASSESS"),  # after the period
        _step(202, 2, D(2019, 5, 1), typ="FINASSESS"),  # person out of scope
        _step(201, 2, D(2022, 5, 1)),
        _step(301, 3, D(2021, 3, 1)),  # old: only kept as the previous step of 302
        _step(302, 3, D(2024, 3, 1), prev=301, typ="REVIEW"),
        _step(401, 4, D(2019, 12, 1)),  # old: only kept as the source of agreement 4001
        _step(701, 7, None, started=D(2023, 6, 1), status="OPEN"),
        _step(901, 9, D(2024, 2, 1), typ="CARER_ASSESS"),
        _step(1001, 10, D(2023, 2, 1), typ="CONTACT"),
        _step(1002, 10, None, started=D(2025, 1, 5), status="OPEN"),  # after the period
    ],
    "step_contact_details": [
        {"step_id": 1001, "route_code": "COMM", "contact_source": "GP", "description": "x"},
        {"step_id": 201, "route_code": "COMM", "contact_source": "GP", "description": "old"},
    ],
    "step_assessment_details": [
        {"step_id": 101, "eligible_code": "Y", "method_code": "F2F", "funding_status_code": None},
        {"step_id": 301, "eligible_code": "Y", "method_code": "F2F", "funding_status_code": None},
        {"step_id": 201, "eligible_code": "N", "method_code": "F2F", "funding_status_code": None},
        {"step_id": 102, "eligible_code": None, "method_code": None, "funding_status_code": "FULL"},
        {"step_id": 103, "eligible_code": None, "method_code": None, "funding_status_code": "NIL"},
        {"step_id": 202, "eligible_code": None, "method_code": None, "funding_status_code": "NIL"},
        {"step_id": 1002, "eligible_code": None, "method_code": None, "funding_status_code": None},
    ],
    "step_review_details": [
        {
            "step_id": 302,
            "review_reason_code": "PLAN",
            "method_code": "F2F",
            "outcomes_code": "MET",
        },
    ],
    "service_agreements": [
        _agreement(4001, 4, D(2020, 1, 1), None, source_step=401),
        _agreement(6001, 6, D(2025, 2, 1), None),
        _agreement(9001, 9, D(2024, 3, 1), D(2024, 3, 31), cared_for=8),
        _agreement(2001, 2, D(2020, 1, 1), D(2022, 12, 31)),  # ended before the lookback
    ],
    "carer_relationships": [
        {
            "relationship_id": 1,
            "carer_person_id": 5,
            "cared_for_person_id": 1,
            "start_date": D(2020, 1, 1),
            "end_date": None,
            "hours_caring_code": "H50",
        },
        {
            "relationship_id": 2,
            "carer_person_id": 6,
            "cared_for_person_id": 2,
            "start_date": D(2015, 1, 1),
            "end_date": D(2016, 1, 1),
            "hours_caring_code": None,
        },
    ],
}

IN_SCOPE = {1, 3, 4, 5, 7, 8, 9, 10}
STEPS_EXPECTED = {101, 301, 302, 401, 701, 901, 1001}
AGREEMENTS_EXPECTED = {4001, 9001}


def load_rows(url: str) -> None:
    """Create the schema and insert ROWS (the same rows on every backend)."""
    engine = sa.create_engine(url)
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            for table in metadata.sorted_tables:
                rows = ROWS.get(table.name)
                if rows:
                    conn.execute(table.insert(), rows)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_db(pg_server) -> Iterator[str]:
    """Database name of the hand-made council on the suite's PostgreSQL server."""
    pg_server.create_database("extract_small")
    load_rows(pg_server.sqlalchemy_url("extract_small"))
    yield "extract_small"


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("extract") / "council.db"
    url = f"sqlite:///{path}"
    load_rows(url)
    return url
