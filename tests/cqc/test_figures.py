"""Every figure on hand-built journeys, worked out by hand (tests/cqc/journeys.py says what
each person is there for). As-at date 31 March 2026, period 2025-26 Q4."""

from __future__ import annotations

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines.cqc.pack import Pack, build_frames, compute
from pipelines.mappings import load_mappings
from pipelines.period import Period
from pipelines.source.extract import extract
from tests.conftest import PROJECT_ROOT
from tests.cqc.journeys import PERIOD, D, hand_built

MAPPINGS = PROJECT_ROOT / "data" / "sample" / "mappings"


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Pack:
    url = hand_built().write(tmp_path_factory.mktemp("cqc") / "council.db")
    period = Period.parse(PERIOD)
    tables = extract(url, period, PROJECT_ROOT / "sql")
    mappings = load_mappings(MAPPINGS, load_spec("R1"), load_spec("R2"))
    frames = build_frames(tables, None, period, "R2", MAPPINGS, "999")
    return compute(tables, frames, mappings, D, period)


def counted(pack: Pack, fid: str) -> dict[int, int | None]:
    it = pack.items[fid].filter(pl.col("counted"))
    return dict(zip(it["person_id"].to_list(), it["days"].to_list(), strict=True))


def test_w1_awaiting_assessment(pack: Pack) -> None:
    # 1: 1 Jan → 89 days; 2: request on the as-at date → 0; 4: assessment cancelled → still
    # waiting since 1 Feb, 58; 6: only a financial assessment started, 16; 10: a carer, 30.
    # Not: 3 (assessment started), 5 (died while waiting).
    assert counted(pack, "W1") == {1: 89, 2: 0, 4: 58, 6: 16, 10: 30}
    h = pack.headlines()["W1"]
    assert (h["count"], h["median_days"], h["max_days"]) == (5, 30, 89)
    assert h["p90_days"] == pytest.approx(58 + 0.6 * 31)  # PERCENTILE_CONT(0.9) of 5 waits
    assert (h["0-28 days"], h["29-90 days"], h["91-180 days"], h["181+ days"]) == (2, 3, 0, 0)
    by_age = pack.summary("W1", ["age_group"]).rows_by_key("age_group", named=True)
    assert by_age["65+"][0]["count"] == 1 and by_age["18-64"][0]["count"] == 4
    by_team = dict(pack.summary("W1", ["team_name"]).select("team_name", "count").rows())
    assert by_team == {"North Adults": 4, "South Older People": 1}


def test_w2_assessments_in_progress(pack: Pack) -> None:
    # 7 was completed after the as-at date, so open at it; 9's was cancelled.
    assert counted(pack, "W2") == {3: 30, 6: 11, 7: 21, 8: 44}
    kinds = dict(pack.summary("W2", ["kind"]).select("kind", "count").rows())
    assert kinds == {"financial": 1, "long term": 3}
    clients = dict(pack.summary("W2", ["client"]).select("client", "count").rows())
    assert clients == {"Carer": 1, "Service user": 3}


def test_w3_eligible_awaiting_service(pack: Pack) -> None:
    # 11: 70 days since 20 Jan; 14: assessed on the as-at date; not 12 (service since),
    # not 13 (died while waiting).
    assert counted(pack, "W3") == {11: 70, 14: 0}


def test_w4_reviews(pack: Pack) -> None:
    # 15: open review since 1 Mar; 16: unplanned review requested 20 Mar; not 17 (done),
    # not 18 (cancelled).
    assert counted(pack, "W4") == {15: 30, 16: 11}


def test_w5_carers(pack: Pack) -> None:
    assert counted(pack, "W5") == {8: 44, 10: 30}


def test_t1_request_to_first_response(pack: Pack) -> None:
    # 20: 10; 21: 20; 22: 4; 26: the reablement service came first, 7; 27: 14 (its second
    # request overlaps the first's follow-up and is dropped). Not 23 (existing client),
    # 24 (24 years old at the request), 25 (information and advice).
    assert counted(pack, "T1") == {20: 10, 21: 20, 22: 4, 26: 7, 27: 14}
    assert pack.items["T1"].filter(pl.col("person_id") == 27).height == 1
    bands = dict(pack.summary("T1", ["age_group"]).select("age_group", "count").rows())
    assert bands == {"25-64": 3, "65+": 2}
    assert pack.headlines()["T1"]["median_days"] == 10


def test_t2_request_to_first_service(pack: Pack) -> None:
    # 22's assessment did not lead to a service, so its later service is not a T2 wait.
    assert counted(pack, "T2") == {20: 30, 26: 7, 27: 44}
    assert pack.headlines()["T2"]["median_days"] == 30


def test_dhsc_quarterly_medians(pack: Pack) -> None:
    m = pack.medians.filter(pl.col("metric") == "Wait time to first response")
    got = {(str(q), b): (med, n) for _, q, b, med, n in m.rows()}
    # responses by quarter: Apr-Jun 2025: 20 (65+, 10), 27 (25-64, 14); Jul-Sep: 21;
    # Oct-Dec: 22 (25-64) and 26 (65+)
    assert got[("2025-04-01", "65 and above")] == (10.0, 1)
    assert got[("2025-04-01", "25 to 64")] == (14.0, 1)
    assert got[("2025-07-01", "25 to 64")] == (20.0, 1)  # 21's assessment 21 Sep 2025
    assert got[("2025-10-01", "25 to 64")] == (4.0, 1)
    assert got[("2025-10-01", "65 and above")] == (7.0, 1)


def test_t3_assessment_to_service(pack: Pack) -> None:
    assert counted(pack, "T3") == {12: 12, 20: 11, 27: 20}
    assert set(pack.items["T3"]["kind"]) == {"community"}


def test_r1_r4_overdue_reviews(pack: Pack) -> None:
    # 30 was reviewed exactly 12 months before the as-at date: not overdue. 31 a day
    # earlier: overdue by 1 day. 32 never reviewed since 1 Jun 2024: due 1 Jun 2025.
    # 23 never reviewed since 1 Jan 2024. 37 died, so is not a client at the as-at date.
    assert counted(pack, "R1") == {23: 820, 31: 366, 32: 668}
    h = pack.headlines()["R1"]
    assert (h["count"], h["of"], h["percent"]) == (3, 11, 27.3)
    assert counted(pack, "R4") == {23: 454, 31: 1, 32: 303}


def test_r2_initial_review(pack: Pack) -> None:
    # LTS starting 31 Mar 2025 - 3 Feb 2026 with no review within 8 weeks; 34 was reviewed
    # after 44 days.
    assert counted(pack, "R2") == {12: 58, 20: 273, 27: 259, 33: 181}


def test_r3_reviewed_in_year(pack: Pack) -> None:
    # in LTS all year: 23, 30, 31, 32, 35, 36; reviewed in the year: 35 (planned), 36
    # (unplanned); 30's review on 31 Mar 2025 is just before the year.
    assert counted(pack, "R3") == {35: 120, 36: 150}
    h = pack.headlines()["R3"]
    assert (h["count"], h["of"], h["percent"]) == (2, 6, 33.3)
    kinds = dict(pack.summary("R3", ["kind"]).select("kind", "count").rows())
    assert kinds == {"not reviewed": 0, "planned": 1, "unplanned": 1}


def test_c1_c2_carers_assessments(pack: Pack) -> None:
    assert counted(pack, "C1") == {40: 10}  # 41's was before the year
    assert pack.items["C1"]["kind"].to_list() == ["progress to support planning; eligible: yes"]
    assert counted(pack, "C2") == {40: 10}  # 10 has had no assessment; 42 was advice only


def test_c3_carers_supported(pack: Pack) -> None:
    kinds = dict(zip(pack.items["C3"]["person_id"], pack.items["C3"]["kind"], strict=True))
    assert kinds == {40: "direct payment", 41: "direct payment",
                     42: "information and advice only"}


def test_c4_carers_review_overdue(pack: Pack) -> None:
    assert counted(pack, "C4") == {41: 395}  # 40's support began in June 2025
    h = pack.headlines()["C4"]
    assert (h["count"], h["of"]) == (1, 2)


def test_c5_carer_recorded(pack: Pack) -> None:
    assert set(counted(pack, "C5")) == {35, 36}
    assert pack.headlines()["C5"]["of"] == 11
