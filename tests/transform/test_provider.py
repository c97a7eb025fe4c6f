"""Provider feed rows become CLD rows when matched to a person (read through the real feed
reader and contracts). Period 2024-25Q3 = 2024-01-01 .. 2024-12-31; people of the journeys."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from pipelines.source.feeds import read_feeds
from pipelines.transform import transform
from tests.transform.test_journeys import MAPPINGS, PERIOD, TABLES
from tests.transform.world import world

CONTRACTS = Path(__file__).resolve().parents[2] / "data" / "sample" / "contracts"

CARERS_CSV = """Record ID,Carer NHS Number,Carer Council ID,Carer Surname,Carer Date of Birth,\
Carer Postcode,Cared For Council ID,Activity Type,Activity Start Date,Activity End Date,\
Support Type,Outcome,Hours Caring per Week
CC1,,4,Ames,02/02/1945,,1,ASSESSMENT,01/06/2024,05/06/2024,,SUPPORT_PLAN,
CC2,,4,Ames,02/02/1945,,1,SUPPORT,10/06/2024,,RESPITE,,
CC3,,4,Ames,02/02/1945,,1,SUPPORT,10/06/2024,,INFO,,
CC4,,4,Ames,02/02/1945,,1,REVIEW,01/12/2024,,,,
CC5,,999,Nobody,,,,ASSESSMENT,01/06/2024,05/06/2024,,,
"""
EQUIPMENT_CSV = """Order Number,NHS Number,Client ID,Client Surname,Date of Birth,Item Code,\
Item Description,Quantity,Status,Delivery Date,Installation Date,Collection Date,Unit Cost
EQ1,9434765919,,Ames,06/05/1940,BATH01,Bath lift,1,INSTALLED,01/05/2024,03/05/2024,,120.5
EQ2,,1,Ames,06/05/1940,BATH01,Bath lift,1,CANCELLED,,,,
EQ3,,1,Ames,06/05/1940,BATH01,Bath lift,1,COLLECTED,01/02/2024,,01/03/2024,80
EQ4,,9,Ivy,01/01/1935,BATH01,Bath lift,1,DELIVERED,01/09/2024,,,
"""


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("feeds")
    feeds_dir = base / "in"
    feeds_dir.mkdir()
    (feeds_dir / "carers_2024-06.csv").write_text(CARERS_CSV, encoding="utf-8")
    (feeds_dir / "equipment_2024-06.csv").write_text(EQUIPMENT_CSV, encoding="cp1252")
    tables = world(**TABLES)
    # the extract's person_index: everyone on the system, incl. Ivy (9), known only to the
    # equipment service (no step or service of her own, so not in the extract's persons)
    ivy = pl.DataFrame(
        {"person_id": [9], "nhs_number": ["9434765811"], "date_of_birth": [date(1935, 1, 1)],
         "gender_code": ["F"]}
    )
    tables["person_index"] = pl.concat(
        [tables["persons"].select("person_id", "nhs_number", "date_of_birth", "gender_code"), ivy]
    )
    feeds = read_feeds(feeds_dir, CONTRACTS, base / "quarantine", tables["person_index"])
    assert feeds.unmatched.height == 1  # CC5: council id 999 is nobody
    return transform(tables, feeds, PERIOD, "R1", MAPPINGS, "999")


def _feed_rows(result) -> dict[str, dict]:
    rows = result.frame.filter(pl.col("_source").str.ends_with("_feed")).to_dicts()
    return {r["Event_Reference"]: r for r in rows}


def test_matched_feed_rows_become_cld_rows(result) -> None:
    rows = _feed_rows(result)
    assert set(rows) == {"CC1", "CC2", "EQ1", "EQ3", "EQ4"}
    cc1 = rows["CC1"]
    assert (cc1["_person_id"], cc1["Client_Type"], cc1["Event_Type"]) == ("4", "Carer", "Assessment")
    assert (cc1["Event_Start_Date"], cc1["Event_End_Date"]) == ("2024-06-01", "2024-06-05")
    assert cc1["Assessment_Type"] == "Long Term Assessment"
    assert cc1["Method_of_Assessment"] == "Carer only"  # every field carers_activity.csv has
    assert cc1["Event_Outcome"] == "Progress to Support Planning / Services"
    assert cc1["Primary_Support_Reason"] == "Social Support: Support to Carer"
    assert cc1["Adult_1_Linked_Person_ID"] == "1"
    assert cc1["_step_id"] == "feed:carers_2024-06.csv:2"
    cc2 = rows["CC2"]
    assert (cc2["Event_Type"], cc2["Service_Type"], cc2["Service_Component"]) == (
        "Service", "Carer Support: Direct to Carer", "Carer Respite")
    assert (cc2["Event_End_Date"], cc2["Event_Outcome"]) == (None, "Provision of service")


def test_equipment_is_a_service_of_the_person(result) -> None:
    rows = _feed_rows(result)
    eq1, eq3 = rows["EQ1"], rows["EQ3"]
    assert (eq1["_person_id"], eq1["Client_Type"], eq1["_source"]) == (
        "1", "Service User", "equipment_feed")  # matched by NHS number
    assert (eq1["Event_Start_Date"], eq1["Event_End_Date"]) == ("2024-05-03", None)
    assert (eq1["Service_Type"], eq1["Service_Component"]) == (
        "Short Term Support: Ongoing Low Level", "Equipment")
    assert (eq1["Event_Outcome"], eq1["Unit_Cost"]) == ("Provision of service", "120.50")
    assert (eq1["Delivery_Mechanism"], eq1["Cost_Frequency_Unit_Type"]) == (
        "CASSR Commissioned Support", "One-off")
    assert (eq3["Event_Start_Date"], eq3["Event_End_Date"]) == ("2024-02-01", "2024-03-01")
    assert eq3["Event_Outcome"] == "Service ended as planned"


def test_feed_exclusions_are_counted(result) -> None:
    assert result.feed_unmatched == 1  # CC5, listed for the provider by the feed reader
    assert result.excluded["feed_support_not_a_service"] == 1  # CC3 information only
    assert result.excluded["feed_not_completed"] == 1  # CC4 review still open
    assert result.excluded["feed_equipment_cancelled"] == 1  # EQ2


def test_feed_person_outside_the_extracts_persons_keeps_their_identity(result) -> None:
    eq4 = _feed_rows(result)["EQ4"]
    assert (eq4["LA_Person_Unique_Identifier"], eq4["NHS_Number"]) == ("9", "9434765811")
    assert (eq4["Date_of_Birth"], eq4["Gender"]) == ("1935-01-01", "Female")
