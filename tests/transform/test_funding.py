"""Client_Funding_Status: the latest completed financial assessment up to the event, also when
it is older than the steps the extract reads (an optional ``financial_assessments`` table)."""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.transform import transform
from tests.transform.test_journeys import MAPPINGS, PERIOD, TABLES
from tests.transform.world import world


def _funding(tables: dict[str, pl.DataFrame]) -> dict[str, str | None]:
    frame = transform(tables, None, PERIOD, "R1", MAPPINGS, "999").frame
    bob = frame.filter(pl.col("_person_id") == "2")
    return dict(zip(bob["_step_id"], bob["Client_Funding_Status"], strict=True))


def test_old_financial_assessment_from_its_own_table() -> None:
    tables = world(**TABLES)
    assert set(_funding(tables).values()) == {"Unknown - Individual Level"}
    tables["financial_assessments"] = pl.DataFrame(
        {
            "person_id": [2, 2],
            "step_id": [900, 901],
            "completed_on": [date(2019, 5, 1), date(2024, 8, 1)],
            "funding_status_code": ["NIL", "CONTRIB"],
        }
    )
    got = _funding(tables)
    assert got["204"] == "Fully Social Care Funded"  # ended 2024-06-15: the 2019 assessment
    assert got["213"] == "Joint Client and Social Care Funded"  # open: the latest, 2024-08-01
