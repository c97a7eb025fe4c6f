"""Free text from the case system reaches the file trimmed and without a leading '=', '+', '-'
or '@', which the portal would reject (the writer refuses such values outright)."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.transform import transform
from tests.transform.test_journeys import MAPPINGS, PERIOD, TABLES
from tests.transform.world import world


@pytest.mark.parametrize(
    ("raw", "sent"),
    [
        ("=HYPERLINK(\"x\")", "HYPERLINK(\"x\")"),
        ("- see notes  ", "see notes"),
        ("@ward 3", "ward 3"),
        ("  +-=  ", None),
        ("Referral, 3-day wait", "Referral, 3-day wait"),
        ("\u00a0- see file\u2003", "see file"),  # Unicode white space trimmed too
        ("\t= a =\r\n", "a ="),  # only the start loses '='
    ],
)
def test_free_text_is_made_portal_safe(raw: str, sent: str | None) -> None:
    tables = dict(TABLES)
    tables["step_contact_details"] = [{"step_id": 101, "route_code": "HOSPDIS", "description": raw}]
    frame = transform(world(**tables), None, PERIOD, "R1", MAPPINGS, "999").frame
    row = frame.filter(pl.col("_step_id") == "101").row(0, named=True)
    assert row["Event_Description"] == sent
