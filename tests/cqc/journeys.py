"""Hand-built journeys in a real case-management database (the sample's schema), for
figures worked out by hand. Every person, step and service is written out below."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from pipelines.source.tables import metadata

D = date(2026, 3, 31)  # the as-at date of the hand-worked figures (end of 2025-26 Q4)
PERIOD = "2025-26Q4"
LOOKUPS = [("GENDER", "F", "Female"), ("ETHNICITY", "WBRI", "White British")]


@dataclass
class Council:
    rows: dict[str, list[dict]] = field(default_factory=dict)
    _step: int = 1000
    _agr: int = 5000
    _n: int = 1
    team_names: tuple[str, str] = ("North Adults", "South Older People")

    def add(self, table: str, **row: object) -> None:
        self.rows.setdefault(table, []).append(row)

    def nid(self) -> int:
        self._n += 1
        return self._n

    def person(self, pid: int, born: date, died: date | None = None, team: int = 1,
               psr: str = "PHYS_PC") -> int:
        self.add("persons", person_id=pid, nhs_number=None, first_name=f"Given{pid}",
                 last_name=f"Family{pid}", date_of_birth=born, date_of_death=died,
                 gender_code="F", ethnicity_code=None, created_on=date(2023, 1, 1))
        self.add("person_addresses", address_id=pid, person_id=pid, postcode="SX1 1AA",
                 accommodation_code=None, start_date=date(2023, 1, 1), end_date=None)
        self.add("allocations", allocation_id=pid, person_id=pid, team_id=team,
                 worker_id=team, start_date=date(2023, 1, 1), end_date=None)
        self.add("person_support_reasons", psr_id=pid, person_id=pid, psr_code=psr,
                 start_date=date(2023, 1, 1))
        return pid

    def step(self, pid: int, kind: str, start: date, end: date | None, outcome: str | None,
             status: str | None = None, carer: bool = False, eligible: str | None = None,
             reason: str | None = None, route: str = "SELF", team: int = 1) -> int:
        self._step += 1
        sid = self._step
        status = status or ("COMP" if end else "OPEN")
        self.add("workflow_steps", step_id=sid, person_id=pid, step_type_code=kind,
                 status_code=status, started_on=start, completed_on=end, outcome_code=outcome,
                 worker_id=team, team_id=team, previous_step_id=None, is_carer_step=carer)
        if kind == "CONTACT":
            self.add("step_contact_details", step_id=sid, route_code=route,
                     contact_source=None, description=None)
        elif kind.startswith("ASSESS"):
            self.add("step_assessment_details", step_id=sid, eligible_code=eligible,
                     method_code=None, funding_status_code=None)
        elif kind.startswith("REVIEW"):
            self.add("step_review_details", step_id=sid, review_reason_code=reason,
                     method_code=None, outcomes_code=None)
        return sid

    def service(self, pid: int, code: str, start: date, end: date | None = None,
                delivery: str = "COMM", for_carer: bool = False, status: str | None = None,
                cost: float = 100.0) -> int:
        self._agr += 1
        self.add("service_agreements", agreement_id=self._agr, person_id=pid,
                 service_code=code, provider_id=1, delivery_code=delivery,
                 status_code=status or ("END" if end else "ACT"), start_date=start,
                 end_date=end, suspended_on=None,
                 end_reason_code="ENDPLAN" if end else None, unit_cost=cost,
                 cost_frequency_code="WEEK", planned_units_per_week=None,
                 for_carer=for_carer, cared_for_person_id=None, source_step_id=None)
        return self._agr

    def carer_of(self, carer: int, cared_for: int, start: date) -> None:
        self.add("carer_relationships", relationship_id=self.nid(), carer_person_id=carer,
                 cared_for_person_id=cared_for, start_date=start, end_date=None,
                 hours_caring_code=None)

    def write(self, path: Path) -> str:
        url = f"sqlite:///{path}"
        engine = sa.create_engine(url)
        metadata.create_all(engine)
        base = {
            "lookup_codes": [dict(code_type=t, code=c, description=d, active=True)
                             for t, c, d in LOOKUPS],
            "teams": [dict(team_id=1, team_name=self.team_names[0], service_area="Adults"),
                      dict(team_id=2, team_name=self.team_names[1], service_area="Older")],
            "workers": [dict(worker_id=1, team_id=1, worker_name="Worker One", email=None),
                        dict(worker_id=2, team_id=2, worker_name="Worker Two", email=None)],
            "providers": [dict(provider_id=1, provider_name="Provider", cqc_location_id=None,
                               cqc_location_name=None)],
        }
        with engine.begin() as conn:
            for t in metadata.sorted_tables:
                rows = base.get(t.name, []) + self.rows.get(t.name, [])
                if rows:
                    conn.execute(t.insert(), rows)
        engine.dispose()
        return url


def age(years: int, on: date = D) -> date:
    """A date of birth giving ``years`` at ``on`` (born on 1 January, well clear of it)."""
    return date(on.year - years - 1, 1, 1) if on.month < 12 else date(on.year - years, 1, 1)


def hand_built() -> Council:
    """The hand-worked council (tests/cqc/test_figures.py works each figure out)."""
    c = Council()
    d = date
    # W1 / W5 ------------------------------------------------------------------------------
    c.person(1, age(70), team=2)
    c.step(1, "CONTACT", d(2026, 1, 1), d(2026, 1, 5), "ASSESS", team=2)
    c.person(2, age(40))  # a request on the as-at date
    c.step(2, "CONTACT", D, D, "ASSESS")
    c.person(3, age(50))  # assessment started: in W2, not W1
    c.step(3, "CONTACT", d(2026, 2, 1), d(2026, 2, 2), "ASSESS")
    c.step(3, "ASSESS_CA", d(2026, 3, 1), None, None)
    c.person(4, age(45))  # the assessment was cancelled: still waiting
    c.step(4, "CONTACT", d(2026, 2, 1), d(2026, 2, 1), "ASSESS")
    c.step(4, "ASSESS_CA", d(2026, 2, 10), d(2026, 2, 11), None, status="CANC")
    c.person(5, age(80), died=d(2026, 3, 1))  # died while waiting
    c.step(5, "CONTACT", d(2025, 12, 1), d(2025, 12, 2), "ASSESS")
    c.person(6, age(60))  # only a financial assessment started
    c.step(6, "CONTACT", d(2026, 3, 15), d(2026, 3, 15), "ASSESS")
    c.step(6, "ASSESS_FIN", d(2026, 3, 20), None, None)
    c.person(7, age(55))  # assessment completed after the as-at date: open at it
    c.step(7, "ASSESS_CA", d(2026, 3, 10), d(2026, 4, 5), "SUPPLAN", eligible="Y")
    c.person(8, age(58))  # carer's assessment in progress
    c.step(8, "ASSESS_CARER", d(2026, 2, 15), None, None, carer=True)
    c.person(9, age(52))  # cancelled open assessment
    c.step(9, "ASSESS_CA", d(2026, 3, 1), None, None, status="CANC")
    c.person(10, age(62))  # carer awaiting a carer's assessment
    c.step(10, "CONTACT", d(2026, 3, 1), d(2026, 3, 2), "ASSESS", carer=True)
    # W3 -----------------------------------------------------------------------------------
    c.person(11, age(75))
    c.step(11, "ASSESS_CA", d(2026, 1, 10), d(2026, 1, 20), "SUPPLAN", eligible="Y")
    c.person(12, age(50))  # service started since
    c.step(12, "ASSESS_CA", d(2026, 1, 10), d(2026, 1, 20), "SUPPLAN", eligible="Y")
    c.service(12, "HOMECARE", d(2026, 2, 1))
    c.person(13, age(85), died=d(2026, 3, 15))  # died while waiting for the service
    c.step(13, "ASSESS_CA", d(2026, 2, 20), d(2026, 2, 28), "SUPPLAN", eligible="Y")
    c.person(14, age(30))  # assessed on the as-at date
    c.step(14, "ASSESS_CA", d(2026, 3, 25), D, "SUPPLAN", eligible="Y")
    # W4 -----------------------------------------------------------------------------------
    c.person(15, age(77))
    c.step(15, "REVIEW_PLAN", d(2026, 3, 1), None, None, reason="ANNUAL")
    c.person(16, age(68))
    c.step(16, "CONTACT", d(2026, 3, 20), d(2026, 3, 20), "REASS")
    c.person(17, age(69))  # review done
    c.step(17, "CONTACT", d(2026, 3, 1), d(2026, 3, 1), "REASS")
    c.step(17, "REVIEW_UNPL", d(2026, 3, 5), d(2026, 3, 10), "NOCHG", reason="OTHER")
    c.person(18, age(71))  # cancelled review
    c.step(18, "REVIEW_PLAN", d(2026, 3, 25), None, None, status="CANC", reason="ANNUAL")
    # T1 / T2 / T3 (DHSC method) -----------------------------------------------------------
    c.person(20, age(70))
    c.step(20, "CONTACT", d(2025, 6, 1), d(2025, 6, 2), "ASSESS")
    c.step(20, "ASSESS_CA", d(2025, 6, 11), d(2025, 6, 20), "SUPPLAN", eligible="Y")
    c.service(20, "HOMECARE", d(2025, 7, 1))
    c.person(21, age(40))
    c.step(21, "CONTACT", d(2025, 9, 1), d(2025, 9, 1), "ASSESS")
    c.step(21, "ASSESS_CA", d(2025, 9, 21), d(2025, 9, 30), "NOSVC", eligible="N")
    c.person(22, age(30))  # the assessment did not lead to a service: no T2
    c.step(22, "CONTACT", d(2025, 10, 1), d(2025, 10, 1), "ASSESS")
    c.step(22, "ASSESS_CA", d(2025, 10, 5), d(2025, 10, 10), "NOSVC", eligible="N")
    c.service(22, "TELECARE", d(2025, 11, 1), d(2025, 11, 30))
    c.person(23, age(80))  # an existing client: out of DHSC's cohort
    c.service(23, "HOMECARE", d(2024, 1, 1))
    c.step(23, "CONTACT", d(2025, 8, 1), d(2025, 8, 1), "ASSESS")
    c.step(23, "ASSESS_CA", d(2025, 8, 10), d(2025, 8, 20), "NOSVC", eligible="N")
    c.person(24, d(2001, 5, 1))  # 24 at the request: under DHSC's 25
    c.step(24, "CONTACT", d(2025, 7, 1), d(2025, 7, 1), "ASSESS")
    c.step(24, "ASSESS_CA", d(2025, 7, 5), d(2025, 7, 9), "NOSVC", eligible="N")
    c.person(25, age(50))  # information and advice only
    c.step(25, "CONTACT", d(2025, 5, 1), d(2025, 5, 1), "INFO")
    c.person(26, age(66))  # straight to reablement: the service is the first response
    c.step(26, "CONTACT", d(2025, 11, 1), d(2025, 11, 1), "STMAX")
    c.service(26, "REAB", d(2025, 11, 8), d(2025, 12, 5))
    c.person(27, age(45))  # two requests: the second overlaps the first's follow-up
    c.step(27, "CONTACT", d(2025, 6, 1), d(2025, 6, 1), "ASSESS")
    c.step(27, "CONTACT", d(2025, 6, 5), d(2025, 6, 5), "ASSESS")
    c.step(27, "ASSESS_CA", d(2025, 6, 15), d(2025, 6, 25), "SUPPLAN", eligible="Y")
    c.service(27, "HOMECARE", d(2025, 7, 15))
    # R1-R4 --------------------------------------------------------------------------------
    c.person(30, age(81))  # reviewed exactly 12 months before the as-at date: not overdue
    c.service(30, "HOMECARE", d(2024, 1, 1))
    c.step(30, "REVIEW_PLAN", d(2025, 3, 20), d(2025, 3, 31), "NOCHG", reason="ANNUAL")
    c.person(31, age(82))  # reviewed 12 months and a day before: overdue
    c.service(31, "HOMECARE", d(2024, 1, 1))
    c.step(31, "REVIEW_PLAN", d(2025, 3, 20), d(2025, 3, 30), "NOCHG", reason="ANNUAL")
    c.person(32, age(66))  # never reviewed since the start in June 2024
    c.service(32, "RESI", d(2024, 6, 1))
    c.person(33, age(67))  # new in October: no initial review (R2)
    c.service(33, "HOMECARE", d(2025, 10, 1))
    c.person(34, age(68))  # new in September, reviewed after 44 days
    c.service(34, "HOMECARE", d(2025, 9, 1))
    c.step(34, "REVIEW_PLAN", d(2025, 10, 10), d(2025, 10, 15), "NOCHG", reason="ANNUAL")
    c.person(35, age(90))  # planned review in the year
    c.service(35, "NURSING", d(2024, 1, 1))
    c.step(35, "REVIEW_PLAN", d(2025, 11, 25), d(2025, 12, 1), "NOCHG", reason="ANNUAL")
    c.person(36, age(88))  # unplanned review in the year
    c.service(36, "HOMECARE", d(2024, 1, 1))
    c.step(36, "REVIEW_UNPL", d(2025, 10, 20), d(2025, 11, 1), "NOCHG", reason="HOSP")
    c.person(37, age(92), died=d(2026, 2, 1))  # died: not a client at the as-at date
    c.service(37, "HOMECARE", d(2024, 1, 1))
    # C1-C5 --------------------------------------------------------------------------------
    c.person(40, age(60), psr="CARER")
    c.step(40, "CONTACT", d(2025, 5, 1), d(2025, 5, 1), "ASSESS", carer=True)
    c.step(40, "ASSESS_CARER", d(2025, 5, 11), d(2025, 5, 21), "SUPPLAN", carer=True,
           eligible="Y")
    c.service(40, "CARERDP", d(2025, 6, 1), delivery="DP", for_carer=True)
    c.carer_of(40, 35, d(2024, 1, 1))
    c.person(41, age(63), psr="CARER")
    c.step(41, "ASSESS_CARER", d(2025, 2, 1), d(2025, 2, 10), "SUPPLAN", carer=True,
           eligible="Y")
    c.service(41, "CARERDP", d(2025, 1, 1), delivery="DP", for_carer=True)
    c.step(41, "REVIEW_CARER", d(2025, 2, 25), d(2025, 3, 1), "NOCHG", carer=True,
           reason="CARER")
    c.carer_of(41, 36, d(2024, 1, 1))
    c.person(42, age(59), psr="CARER")
    c.step(42, "CONTACT", d(2025, 9, 1), d(2025, 9, 1), "INFO", carer=True)
    return c
