"""Comparing two stored submissions, on hand-made files whose differences are known."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from pipelines import thresholds
from pipelines.config import ConfigError
from pipelines.history import History, HistoryError
from pipelines.history.compare import Thresholds, compare
from pipelines.outputs.comparison_files import write_comparison
from tests.history.helpers import cld_frame

LTS = "Long Term Support: Community"


def _req(person: str, start: str, end: str, route: str = "Community", **kw: str) -> dict:
    return {"LA_Person_Unique_Identifier": person, "Client_Type": "Service User",
            "Event_Type": "Request", "Event_Start_Date": start, "Event_End_Date": end,
            "Request_Route_of_Access": route, **kw}  # fmt: skip


OLD = [
    _req("P1", "2024-02-01", "2024-02-05", _team_id="1", _team_name="North"),  # unchanged
    {"LA_Person_Unique_Identifier": "P1", "Client_Type": "Service User",
     "Event_Type": "Assessment", "Event_Start_Date": "2024-02-10",
     "Event_End_Date": "2024-03-01", "Request_Route_of_Access": "Community",
     "Assessment_Type": "Long Term", "Event_Outcome": "Provision of service",
     "Eligible_Needs_Identified": "Yes", "_team_id": "1", "_team_name": "North"},  # changed
    {"LA_Person_Unique_Identifier": "P2", "Client_Type": "Service User",
     "Event_Type": "Service", "Event_Start_Date": "2024-01-15", "Service_Type": LTS,
     "Service_Component": "Home care", "Unit_Cost": "100", "Primary_Support_Reason": "PS",
     "_team_id": "2", "_team_name": "South"},  # changed (Unit_Cost)
    {"LA_Person_Unique_Identifier": "P2", "Client_Type": "Service User",
     "Event_Type": "Review", "Event_Start_Date": "2024-06-01",
     "Event_End_Date": "2024-06-02", "_team_id": "2", "_team_name": "South"},  # dropped
    _req("P3", "2024-05-01", "2024-05-01", _team_id="2", _team_name="South"),  # dropped, vanishes
    _req("P4", "2024-07-01", "2024-07-03", route="Hospital"),  # key changes: dropped + added
]  # fmt: skip


def _new() -> list[dict]:
    rows = [dict(r) for r in OLD]
    rows[1] |= {"Event_Outcome": "No services", "Eligible_Needs_Identified": "No"}
    rows[2] |= {"Unit_Cost": "110"}
    del rows[3:5]
    rows[3] |= {"Request_Route_of_Access": "Community"}
    rows.append({"LA_Person_Unique_Identifier": "P5", "Client_Type": "Service User",
                 "Event_Type": "Service", "Event_Start_Date": "2024-08-01", "Service_Type": LTS,
                 "Service_Component": "Home care", "_team_id": "2", "_team_name": "South"})  # fmt: skip
    rows.append({"LA_Person_Unique_Identifier": "P1", "Client_Type": "Service User",
                 "Event_Type": "Review", "Event_Start_Date": "2024-09-01",
                 "Event_End_Date": "2024-09-02"})  # fmt: skip
    return rows


def _store(h: History, *frames: pl.DataFrame, period: str = "2024-25Q3") -> list[int]:
    ids = []
    for f in frames:
        with h.run("build", period, "R1") as run:
            ids.append(run.add_submission(None, f))
    return ids


@pytest.fixture
def pair(tmp_path: Path):
    h = History.open(tmp_path / "h.duckdb")
    a, b = _store(h, cld_frame(OLD), cld_frame(_new()))
    yield h, a, b
    h.close()


def test_events_added_dropped_changed(pair) -> None:
    h, a, b = pair
    c = compare(h, a, b)
    ev = {r["event_type"]: r for r in c.events.iter_rows(named=True)}
    got = {k: (v["added"], v["dropped"], v["changed"], v["unchanged"]) for k, v in ev.items()}
    assert got == {
        "Request": (1, 2, 0, 1),
        "Assessment": (0, 0, 1, 0),
        "Service": (1, 0, 1, 0),
        "Review": (1, 1, 0, 0),
    }
    changed = {
        r["event_type"]: r["changed_fields"]
        for r in c.changes.filter(pl.col("change") == "changed").iter_rows(named=True)
    }
    assert changed == {
        "Assessment": ["Event_Outcome", "Eligible_Needs_Identified"],
        "Service": ["Unit_Cost"],
    }
    dropped = c.changes.filter(pl.col("change") == "dropped")
    assert sorted(dropped["person_id"].to_list()) == ["P2", "P3", "P4"]
    assert c.vanished["person_id"].to_list() == ["P3"]
    assert c.totals()["dropped_left_window"] == 0


def test_counts_by_month_team_and_service_type(pair) -> None:
    h, a, b = pair
    counts = compare(h, a, b).counts
    cell = {
        (r["dimension"], r["event_type"], r["value"]): (r["count_a"], r["count_b"])
        for r in counts.iter_rows(named=True)
    }
    # requests by the month they ended
    assert cell["month", "Request", "2024-05"] == (1, 0)
    assert cell["month", "Request", "2024-07"] == (1, 1)
    # services in each month active within the period: P2 all year, P5 from August
    assert cell["month", "Service", "2024-01"] == (1, 1)
    assert cell["month", "Service", "2024-08"] == (1, 2)
    assert sum(v[1] for k, v in cell.items() if k[:2] == ("month", "Service")) == 12 + 5
    assert cell["service_type", "Service", LTS] == (1, 2)
    assert cell["team", "Request", "South"] == (1, 0)
    assert cell["primary_support_reason", "Service", "PS"] == (1, 1)
    assert cell["primary_support_reason", "Service", "(blank)"] == (0, 1)


def test_duplicates_and_the_rolling_window(tmp_path: Path) -> None:
    svc = {"LA_Person_Unique_Identifier": "P9", "Client_Type": "Service User",
           "Event_Type": "Service", "Event_Start_Date": "2023-05-01", "Service_Type": LTS,
           "Service_Component": "Home care"}  # fmt: skip
    old_window = {"Reporting_Period_Start_Date": "2023-04-01",
                  "Reporting_Period_End_Date": "2024-03-31"}  # fmt: skip
    new_window = {"Reporting_Period_Start_Date": "2023-07-01",
                  "Reporting_Period_End_Date": "2024-06-30"}  # fmt: skip
    early = _req("P8", "2023-05-01", "2023-05-10")  # ends before the new window starts
    ckba = {"LA_Person_Unique_Identifier": "C1", "Client_Type": "Carer known by association"}
    old = cld_frame([svc | old_window, svc | old_window, early | old_window, ckba | old_window])
    new = cld_frame([svc | new_window, ckba | new_window])
    with History.open(tmp_path / "h.duckdb") as h:
        a, b = _store(h, old, new)
        c = compare(h, a, b)
        t = c.totals()
        # the duplicated service: one pairs up (period dates are not a change), one dropped;
        # the row without an event type (carer known by association) pairs up too
        assert (t["unchanged"], t["changed"], t["dropped"], t["added"]) == (2, 0, 2, 0)
        assert t["dropped_left_window"] == 1
        assert c.vanished.rows() == [("P8", None, None, 1, c.vanished["last_event_end"][0], True)]
        assert t["vanished_unexplained"] == 0


def test_warnings_over_thresholds(tmp_path: Path) -> None:
    def month(n: int, nhs_every: int) -> list[dict]:
        return [
            _req(f"Q{i}", "2024-03-01", "2024-03-02", NHS_Number="9434765919")
            if i % nhs_every == 0
            else _req(f"Q{i}", "2024-03-01", "2024-03-02")
            for i in range(n)
        ]

    with History.open(tmp_path / "h.duckdb") as h:
        a, b = _store(h, cld_frame(month(100, 1)), cld_frame(month(70, 2)))
        c = compare(h, a, b)
        assert any(w.startswith("Request in 2024-03: 100 -> 70 (-30.0%") for w in c.warnings)
        assert any("completeness of NHS_Number on Request rows: 100.0% -> 50.0%" in w
                   for w in c.warnings)  # fmt: skip
        assert any(w.startswith("30 of 100 people") for w in c.warnings)
        assert not any("9434765919" in w for w in [*c.warnings, c.summary_text()])
        lenient = Thresholds(
            month_drop_pct=40, category_drop_pct=40, completeness_pp=60, vanished_pct=50,
            changed_pct=60,
        )  # fmt: skip
        assert compare(h, a, b, lenient).warnings == []


def test_default_pair_prefers_the_last_sent(tmp_path: Path) -> None:
    f = cld_frame([_req("P1", "2024-02-01", "2024-02-05")])
    with History.open(tmp_path / "h.duckdb") as h:
        with pytest.raises(HistoryError, match="no submission"):
            compare(h)
        s1, s2, s3 = _store(h, f, f, f)
        c = compare(h)
        assert (c.a.id, c.b.id) == (s2, s3)
        h.mark_sent(s1)
        c = compare(h)
        assert (c.a.id, c.b.id) == (s1, s3)
        assert compare(h, None, s2).a.id == s1
        with pytest.raises(HistoryError, match="with itself"):
            compare(h, s3, s3)


def test_thresholds_from_file(tmp_path: Path) -> None:
    """The compare: section through the file's one reader: overrides, an unknown key refused
    (named, with the file), no file the defaults."""
    p = tmp_path / "thresholds.yaml"
    p.write_text("completeness: {}\ncompare:\n  month_drop_pct: 15\n  min_count: 5\n")
    assert thresholds.load(p).compare == Thresholds(month_drop_pct=15.0, min_count=5)
    p.write_text("compare:\n  month_drop: 15\n")
    with pytest.raises(ConfigError, match=f"^{re.escape(str(p))}: unknown compare threshold"):
        thresholds.load(p)
    p.write_text("compare:\n  min_count: twenty\n")
    with pytest.raises(ConfigError, match="compare: min_count: 'twenty' is not a number"):
        thresholds.load(p)
    assert thresholds.load(tmp_path / "absent.yaml", missing_ok=True).compare == Thresholds()


def test_write_is_excel_safe(pair, tmp_path: Path) -> None:
    h, a, b = pair
    c = compare(h, a, b)
    c.warnings.append("=HYPERLINK(1)")
    paths = write_comparison(c, tmp_path / "out")
    assert {p.name.rsplit("_", 1)[-1] for p in paths} >= {"changes.csv", "warnings.csv"}
    text = next(p for p in paths if p.name.endswith("warnings.csv")).read_text("utf-8-sig")
    assert "'=HYPERLINK(1)" in text
    changes = next(p for p in paths if p.name.endswith("_changes.csv")).read_text("utf-8-sig")
    assert "Event_Outcome Eligible_Needs_Identified" in changes


def test_r1_file_translated_to_r2_before_comparing(tmp_path: Path) -> None:
    """The 2025-26 switch: the same events in R1 and in R2 texts compare as unchanged."""

    def rows(client: str, service_type: str, component: str, outcome: str) -> list[dict]:
        return [
            _req("P1", "2025-05-01", "2025-05-02", Client_Type=client),
            {"LA_Person_Unique_Identifier": "P2", "Client_Type": client,
             "Event_Type": "Service", "Event_Start_Date": "2025-01-15",
             "Service_Type": service_type, "Service_Component": component,
             "Event_Outcome": outcome},
        ]  # fmt: skip

    r1 = cld_frame(
        [r | {"First_Name": "Ann"} for r in rows(
            "Service User", "Long Term Support: Community", "Direct Payment",
            "Provision of service")],
        release="R1",
    )  # fmt: skip
    r2 = cld_frame(
        rows("Service user", "Long term support: Community", "Direct payment",
             "Continuation of support or services"),
        release="R2",
    )  # fmt: skip
    with History.open(tmp_path / "h.duckdb") as h:
        with h.run("build", "2025-26Q1", "R1") as run:
            a = run.add_submission(None, r1)
        with h.run("build", "2025-26Q2", "R2") as run:
            b = run.add_submission(None, r2)
        c = compare(h, a, b)
        t = c.totals()
        assert (t["unchanged"], t["changed"], t["added"], t["dropped"]) == (2, 0, 0, 0)
        assert "translated to R2 texts" in c.warnings[0]
        # the other way round is not translated, and says so
        back = compare(h, b, a)
        assert back.totals()["unchanged"] == 0
        assert any("different releases (R2 -> R1)" in w for w in back.warnings)
        # the stored rows are untouched by the translation
        assert h.submission_frame(a)["Client_Type"].to_list() == ["Service User"] * 2


def test_carers_known_by_association_have_a_readable_event_type(tmp_path: Path) -> None:
    """usertest P13: their rows (no Event_Type) showed as '(none)' in the comparison."""
    ckba = {"LA_Person_Unique_Identifier": "C1", "Client_Type": "Carer known by association"}
    blank = {"LA_Person_Unique_Identifier": "X1", "Client_Type": "Service User"}  # a defect
    old = cld_frame([_req("P1", "2024-02-01", "2024-02-05"), ckba])
    new = cld_frame([_req("P1", "2024-02-01", "2024-02-05"), ckba,
                     ckba | {"LA_Person_Unique_Identifier": "C2"}, blank])  # fmt: skip
    with History.open(tmp_path / "h.duckdb") as h:
        a, b = _store(h, old, new)
        c = compare(h, a, b)
    label = "Unpaid carer known by association (no event)"
    events = {r["event_type"]: r for r in c.events.iter_rows(named=True)}
    assert set(events) == {"Request", label, "(no event type)"}
    assert (events[label]["added"], events[label]["unchanged"]) == (1, 1)
    assert events["(no event type)"]["added"] == 1
    assert "(none)" not in c.summary_text() and label in c.summary_text()
    assert label in set(c.counts["event_type"].to_list())
    assert label in set(c.completeness["event_type"].to_list())
