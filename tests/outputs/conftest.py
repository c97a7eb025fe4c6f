"""Hand-made findings for three teams (contract: docs/contracts.md section 3), plus one finding
with no team, the previous run's findings, open NHS-number feedback and a trend."""

from __future__ import annotations

import polars as pl
import pytest

TEAMS = {"T01": "North Locality", "T02": "South Locality", "T03": "Hospital Discharge"}
ALL_CLEAR_TEAM = ("T04", "Learning Disability")


def _finding(run_id: str, n: int, team: str | None, person: str | None, **kw: object) -> dict:
    base = {
        "run_id": run_id,
        "rule_id": "FLD_Gender_list",
        "severity": "error",
        "module": "Person details",
        "category": "field",
        "row": n,
        "person_id": person,
        "event_ref": f"E{n:04d}",
        "event_type": "Assessment",
        "event_start": f"2026-0{1 + n % 8}-1{n % 10}",
        "field": "Gender",
        "value": None,
        "message": "Gender is blank but mandatory",
        "how_to_fix": "Record the person's gender on the person summary",
        "team_id": team,
        "team_name": TEAMS.get(team or ""),
        "worker_name": f"Worker {team}" if team else None,
        "step_id": f"S{n:05d}",
    }
    base.update(kw)
    return base


def make_findings(run_id: str = "RUN2", scale: int = 1) -> pl.DataFrame:
    rows = []
    n = 0
    for t_index, team in enumerate(TEAMS):
        for p in range(3 + t_index):  # T01: 3 people, T02: 4, T03: 5
            person = f"P{t_index + 1}{p:03d}"
            for _ in range(scale):
                n += 1
                rows.append(_finding(run_id, n, team, person))
                n += 1
                rows.append(_finding(
                    run_id, n, team, person, rule_id="LOG020", severity="warning",
                    module="Events (services only)", category="logical", field="Unit_Cost",
                    value="=HYPERLINK(\"http://evil.example\",\"x\")", event_type="Service",
                    message="Unit cost missing for a cost-mandatory service",
                    how_to_fix="@SUM(A1) add the unit cost on the service agreement",
                ))
    # A finding whose client no team owns, and a dataset-level one.
    rows.append(_finding(run_id, 900, None, "P9999", rule_id="LOG012"))
    rows.append(_finding(run_id, 901, None, None, rule_id="QNT_complete_months", row=None,
                         category="quantitative", module="Submission information",
                         field=None, event_ref=None, step_id=None))
    return pl.DataFrame(rows, schema_overrides={"row": pl.Int64})


@pytest.fixture
def findings() -> pl.DataFrame:
    return make_findings()


@pytest.fixture
def previous() -> pl.DataFrame:
    """Last run: T01 had more Gender errors; T04 had one issue that is now fixed."""
    prev = make_findings("RUN1")
    extra = pl.DataFrame(
        [_finding("RUN1", 1000 + i, "T01", f"P1{i:03d}") for i in range(4)]
        + [_finding("RUN1", 1100, "T04", "P4000", team_name="Learning Disability")],
        schema_overrides={"row": pl.Int64},
    )
    return pl.concat([prev, extra])


@pytest.fixture
def feedback() -> pl.DataFrame:
    return pl.DataFrame({
        "person_id": ["P1000", "P2001", "P2002", "P3004"],
        "nhs_number": ["XXXXXX1234", "XXXXXX2345", "XXXXXX3456", "XXXXXX4567"],
        "team_id": ["T01", "T02", "T02", "T03"],
        "received_on": ["2026-09-01", "2026-10-01", "2026-06-01", "2026-11-01"],
        "age_days": [86, 56, 178, 25],
        "status": ["open"] * 4,
    })


@pytest.fixture
def trend() -> pl.DataFrame:
    """Shaped like History.trend(): a quarterly run of 2025-26Q3, a nightly run, then the
    quarterly run of 2025-26Q4."""
    import datetime as dt

    return pl.DataFrame({
        "run_id": ["RUN0", "RUN1", "RUN2"] * 3,
        "kind": ["build", "nightly", "build"] * 3,
        "period": ["2025-26Q3", "2025-26Q4", "2025-26Q4"] * 3,
        "started_at": [dt.datetime(2026, 1, 10, 6), dt.datetime(2026, 2, 3, 2),
                       dt.datetime(2026, 4, 10, 6)] * 3,
        "team_id": ["T01"] * 3 + ["T02"] * 3 + ["T03"] * 3,
        "open_issues": [14, 10, 6, 9, 8, 8, 12, 11, 10],
    })


@pytest.fixture
def directory_teams() -> list[tuple[str, str]]:
    return [*TEAMS.items(), ALL_CLEAR_TEAM]
