"""CQC pack cases planted in the sample council, so every figure of ``cld cqc`` has cases and
the tests can assert exact figures (docs/cqc.md, issue 14).

The planted people come after the generated ones (their own ids), each with one scenario:
open contacts and assessments of varying ages, eligible people waiting for services, reviews
overdue and on time (planned and unplanned), carers' assessments and carers waiting,
transition, autism, learning-disability and mental-health clients. Every scenario declares,
as it plants, which figures it must appear in and with how many days; the manifest
(``cqc_manifest.json``) records them, with the as-at date they hold for (the sample's
reference date). Deterministic: no random draws.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from pipelines.sample.nhs import valid_numbers
from pipelines.source.tables import metadata


@dataclass
class Planted:
    tables: dict[str, pl.DataFrame]
    expected: dict[str, dict[int, int | None]]  # figure -> person id -> days (None: no days)
    strata: dict[str, list[int]]  # stratum -> planted people who should fall in it
    as_at: date
    people: list[int] = field(default_factory=list)

    def manifest(self) -> dict[str, Any]:
        return {
            "as_at": self.as_at.isoformat(),
            "note": "people planted for the CQC pack (pipelines/sample/cqc.py): for each "
                    "figure, the planted people it must count and their days",
            "people": len(self.people),
            "person_ids": {"from": min(self.people), "to": max(self.people)},
            "planted": {f: len(v) for f, v in sorted(self.expected.items())},
            "figures": {f: {str(k): v for k, v in sorted(d.items())}
                        for f, d in sorted(self.expected.items())},
            "strata": {k: sorted(v) for k, v in self.strata.items()},
        }


class _Plant:
    def __init__(self, world: Any, ids: Any, as_at: date):
        self.w, self.ids, self.D = world, ids, as_at
        self.rows: dict[str, list[dict]] = {}
        self.expected: dict[str, dict[int, int | None]] = {}
        self.strata: dict[str, list[int]] = {}
        self.people: list[int] = []

    def day(self, back: int) -> date:
        return self.D - timedelta(days=back)

    def _next(self, name: str) -> int:
        v = getattr(self.ids, name)
        setattr(self.ids, name, v + 1)
        return int(v)

    def add(self, table: str, **row: object) -> None:
        self.rows.setdefault(table, []).append(row)

    def expect(self, fid: str, pid: int, days: int | None) -> None:
        self.expected.setdefault(fid, {})[pid] = days

    def team(self, role: str) -> tuple[int, int]:
        teams = self.w.team_ids[self.w.team_roles == role]
        if not len(teams):
            teams = self.w.team_ids
        team = int(teams[len(self.people) % len(teams)])
        workers = np.flatnonzero(self.w.worker_team == team) + 1
        return team, int(workers[len(self.people) % len(workers)])

    def person(self, age: int, role: str = "OP", psr: str = "PHYS_PC", female: bool = True,
               employment: str | None = None, autism: bool = False) -> int:
        pid = self._next("person")
        self.people.append(pid)
        team, worker = self.team(role)
        self._current = (team, worker)
        born = date(self.D.year - age - 1, 7, 1)  # well clear of the as-at date
        created = self.day(900)
        self.add("persons", person_id=pid,
                 nhs_number=str(valid_numbers(np.asarray([pid]))[0]),
                 first_name="Sam", last_name=f"Planted{pid % 1000:03d}", date_of_birth=born,
                 date_of_death=None, gender_code="F" if female else "M",
                 ethnicity_code="WBRI", created_on=created)
        self.add("person_addresses", address_id=self._next("address"), person_id=pid,
                 postcode=f"SX{1 + pid % 9} {1 + pid % 8}AB", accommodation_code="OWN",
                 start_date=created, end_date=None)
        self.add("person_gp_registrations", registration_id=self._next("registration"),
                 person_id=pid, practice_code=str(self.w.gp_codes[pid % len(self.w.gp_codes)]),
                 start_date=created, end_date=None)
        self.add("allocations", allocation_id=self._next("allocation"), person_id=pid,
                 team_id=team, worker_id=worker, start_date=created, end_date=None)
        self.add("person_support_reasons", psr_id=self._next("psr"), person_id=pid,
                 psr_code=psr, start_date=created)
        self.add("person_employment", employment_id=self._next("employment"), person_id=pid,
                 employment_code=employment or ("RET" if age >= 66 else "SEEK"),
                 start_date=created)
        if autism:
            self.add("person_conditions", condition_id=self._next("condition"), person_id=pid,
                     condition_code="AUT", recorded_on=created)
        return pid

    def step(self, pid: int, kind: str, start: int, end: int | None, outcome: str | None,
             carer: bool = False, eligible: str | None = None, reason: str | None = None,
             route: str = "SELF", prev: int | None = None) -> int:
        sid = self._next("step")
        team, worker = self._current
        self.add("workflow_steps", step_id=sid, person_id=pid, step_type_code=kind,
                 status_code="COMP" if end is not None else "OPEN", started_on=self.day(start),
                 completed_on=self.day(end) if end is not None else None,
                 outcome_code=outcome if end is not None else None, worker_id=worker,
                 team_id=team, previous_step_id=prev, is_carer_step=carer)
        if kind == "CONTACT":
            self.add("step_contact_details", step_id=sid, route_code=route,
                     contact_source="Phone", description="Planted contact")
        elif kind.startswith("ASSESS"):
            self.add("step_assessment_details", step_id=sid,
                     eligible_code=eligible if end is not None else None,
                     method_code="SU" if not carer else "CAR",
                     funding_status_code=None)
        elif kind.startswith("REVIEW"):
            self.add("step_review_details", step_id=sid, review_reason_code=reason,
                     method_code="SU" if not carer else "CAR",
                     outcomes_code="FULL" if end is not None else None)
        return sid

    def service(self, pid: int, code: str, start: int, source: int | None = None,
                for_carer: bool = False, delivery: str = "COMM") -> int:
        aid = self._next("agreement")
        freq, cost, units = {
            "HOMECARE": ("HR", 21.5, 10.0), "SUPPLIV": ("HR", 22.0, 40.0),
            "RESI": ("WK", 900.0, 1.0), "NURSING": ("WK", 1200.0, 1.0),
            "REAB": ("HR", 24.0, 8.0), "CARERDP": ("4WK", 150.0, 0.25),
        }[code]
        has_cqc = self.w.provider_ids[self.w.provider_has_cqc]
        provider = None if delivery == "DP" else int(has_cqc[pid % len(has_cqc)])
        self.add("service_agreements", agreement_id=aid, person_id=pid, service_code=code,
                 provider_id=provider, delivery_code=delivery, status_code="ACT",
                 start_date=self.day(start), end_date=None, suspended_on=None,
                 end_reason_code=None, unit_cost=cost, cost_frequency_code=freq,
                 planned_units_per_week=units, for_carer=for_carer, cared_for_person_id=None,
                 source_step_id=source)
        return aid

    def carer_of(self, carer: int, cared_for: int) -> None:
        self.add("carer_relationships", relationship_id=self._next("relationship"),
                 carer_person_id=carer, cared_for_person_id=cared_for,
                 start_date=self.day(800), end_date=None, hours_caring_code="20TO34")

    # -- scenarios ---------------------------------------------------------------------------
    def long_term(self, pid: int, code: str, since: int, reviews: list[tuple[int, str]]) -> None:
        """A long-standing client: a service since ``since`` days ago and completed reviews
        (days ago, reason)."""
        a = self.step(pid, "ASSESS_CA", since + 20, since + 10, "SUPPLAN", eligible="Y")
        self.service(pid, code, since, source=a)
        for back, reason in reviews:
            kind = "REVIEW_PLAN" if reason == "ANNUAL" else "REVIEW_UNPL"
            self.step(pid, kind, back + 5, back, "NOCHG", reason=reason)

    def build(self) -> None:
        D = self.D
        # W1: request completed, progress to assessment, none started (0 = on the as-at date)
        for i, wait in enumerate((0, 20, 45, 100, 200)):
            p = self.person(70 if i % 2 else 45, role="FRONT_DOOR")
            self.step(p, "CONTACT", wait, max(wait - 1, 0), "ASSESS")
            self.expect("W1", p, wait)
        # W2: assessments in progress (after a contact)
        for i, open_for in enumerate((10, 40, 120, 190)):
            p = self.person(80 if i % 2 else 50, role="OP" if i % 2 else "WA")
            c = self.step(p, "CONTACT", open_for + 5, open_for + 4, "ASSESS")
            self.step(p, "ASSESS_CA", open_for, None, None, prev=c)
            self.expect("W2", p, open_for)
        # W3: eligible, awaiting a service; the request-to-assessment wait is a T1 wait
        for i, since in enumerate((15, 60, 150, 250)):
            p = self.person(78 if i % 2 else 55, role="OP" if i % 2 else "WA")
            c = self.step(p, "CONTACT", since + 30, since + 29, "ASSESS")
            self.step(p, "ASSESS_CA", since + 10, since, "SUPPLAN", eligible="Y", prev=c)
            self.expect("W3", p, since)
            self.expect("T1", p, 20)
        # W4: reviews in progress / requested, for long-standing clients reviewed in the year
        for i, open_for in enumerate((10, 70)):
            p = self.person(84, role="OP")
            # a cared-for person: supported throughout the sample's two years
            self.long_term(p, "HOMECARE", 760, [(300, "ANNUAL")])
            self.step(p, "REVIEW_PLAN", open_for, None, None, reason="ANNUAL")
            self.expect("W4", p, open_for)
            self.expect("R3", p, 300)
            if i == 0:
                self.expect("C5", p, None)
                self._cared = p
        p = self.person(82, role="OP")
        self.long_term(p, "HOMECARE", 700, [(200, "HOSP")])
        self.step(p, "CONTACT", 30, 30, "REASS")
        self.expect("W4", p, 30)
        self.expect("R3", p, 200)
        # complete journeys: request -> assessment -> service (T1 10, T2 40, T3 20)
        for age in (72, 40, 68):
            p = self.person(age, role="OP" if age >= 65 else "WA")
            c = self.step(p, "CONTACT", 300, 299, "ASSESS")
            a = self.step(p, "ASSESS_CA", 290, 280, "SUPPLAN", eligible="Y", prev=c)
            self.service(p, "HOMECARE", 260, source=a)
            self.expect("T1", p, 10)
            self.expect("T2", p, 40)
            self.expect("T3", p, 20)
            if age == 68:  # reviewed 40 days after the start: not an R2 case
                self.step(p, "REVIEW_PLAN", 225, 220, "NOCHG", reason="ANNUAL")
            else:
                self.expect("R2", p, 260)
        # straight to reablement: the service is the first response and the first service
        p = self.person(77, role="OP")
        c = self.step(p, "CONTACT", 200, 200, "STMAX")
        self.service(p, "REAB", 195, source=c)
        self.rows["service_agreements"][-1].update(end_date=self.day(160), status_code="END",
                                                   end_reason_code="ENDPLAN")
        self.expect("T1", p, 5)
        self.expect("T2", p, 5)
        # R1 / R4: overdue reviews (last review 400 / 500 days ago; never since 700 days)
        for back in (400, 500):
            p = self.person(86, role="OP")
            self.long_term(p, "NURSING" if back == 500 else "HOMECARE", 800,
                           [(back, "ANNUAL")])
            self.expect("R1", p, back)
            self.expect("R4", p, back - _days_in_year_before(D, back))
        p = self.person(79, role="OP")
        self.long_term(p, "RESI", 700, [])
        self.expect("R1", p, 700)
        self.expect("R4", p, 700 - _days_in_year_before(D, 700))
        # on time: reviewed exactly 12 months before the as-at date (not overdue)
        p = self.person(81, role="OP")
        exactly = (D - _minus_months(D, 12)).days
        self.long_term(p, "HOMECARE", 800, [(exactly, "ANNUAL")])
        self.expect("C5", p, None)
        self._cared2 = p
        # strata: transition (19, planned entry, first LTS this year), autism, LD, MH
        for _ in range(2):
            p = self.person(19, role="WA", psr="LD", employment="SEEK")
            c = self.step(p, "CONTACT", 150, 150, "ASSESS", route="TRANS")
            a = self.step(p, "ASSESS_CA", 140, 130, "SUPPLAN", eligible="Y", prev=c)
            self.service(p, "SUPPLIV", 120, source=a)
            self.step(p, "REVIEW_PLAN", 95, 90, "NOCHG", reason="ANNUAL")
            self.strata.setdefault("transition", []).append(p)
            self.expect("T3", p, 10)
        for stratum, psr, autism in (("autism", "PHYS_PC", True),
                                     ("learning disability", "LD", False),
                                     ("mental health", "MH", False)):
            for _ in range(2):
                p = self.person(38, role="WA", psr=psr, autism=autism, employment="SEEK")
                self.long_term(p, "SUPPLIV" if psr == "LD" else "HOMECARE", 500,
                               [(100, "ANNUAL")])
                self.strata.setdefault(stratum, []).append(p)
                self.expect("R3", p, 100)
        # carers: assessed and supported this year; overdue carer's review; advice only;
        # waiting for a carer's assessment; carer's assessment in progress
        p = self.person(58, role="CARERS", psr="CARER")
        c = self.step(p, "CONTACT", 200, 200, "ASSESS", carer=True)
        a = self.step(p, "ASSESS_CARER", 190, 180, "SUPPLAN", carer=True, eligible="Y", prev=c)
        self.service(p, "CARERDP", 170, source=a, for_carer=True, delivery="DP")
        self.carer_of(p, self._cared)
        self.expect("C1", p, 10)
        self.expect("C2", p, 10)
        self.expect("C3", p, None)
        self.strata.setdefault("unpaid carers", []).append(p)
        p = self.person(61, role="CARERS", psr="CARER")
        a = self.step(p, "ASSESS_CARER", 620, 610, "SUPPLAN", carer=True, eligible="Y")
        self.service(p, "CARERDP", 600, source=a, for_carer=True, delivery="DP")
        self.step(p, "REVIEW_CARER", 425, 420, "NOCHG", carer=True, reason="CARER")
        self.carer_of(p, self._cared2)
        self.expect("C3", p, None)
        self.expect("C4", p, 420)
        self.strata["unpaid carers"].append(p)
        p = self.person(55, role="CARERS", psr="CARER")
        self.step(p, "CONTACT", 100, 100, "INFO", carer=True)
        self.expect("C3", p, None)
        for wait in (25, 95):
            p = self.person(60, role="CARERS", psr="CARER")
            self.step(p, "CONTACT", wait, wait, "ASSESS", carer=True)
            self.expect("W1", p, wait)
            self.expect("W5", p, wait)
        p = self.person(63, role="CARERS", psr="CARER")
        self.step(p, "ASSESS_CARER", 35, None, None, carer=True)
        self.expect("W2", p, 35)
        self.expect("W5", p, 35)

    def tables(self) -> dict[str, pl.DataFrame]:
        out = {}
        for name, rows in self.rows.items():
            cols = [c.name for c in metadata.tables[name].columns]
            out[name] = pl.DataFrame([{c: r.get(c) for c in cols} for r in rows],
                                     infer_schema_length=None)
        return out


def _minus_months(d: date, months: int) -> date:
    from pipelines.cqc.inputs import add_months

    return add_months(d, -months)


def _days_in_year_before(D: date, back: int) -> int:
    """Days from a date ``back`` days before ``D`` to 12 months after it."""
    start = D - timedelta(days=back)
    from pipelines.cqc.inputs import add_months

    return (add_months(start, 12) - start).days


def plant(world: Any, ids: Any, as_at: date) -> Planted:
    p = _Plant(world, ids, as_at)
    p.build()
    return Planted(tables=p.tables(), expected=p.expected, strata=p.strata, as_at=as_at,
                   people=p.people)


def write_manifest(path: Path, planted: Planted) -> Path:
    path.write_text(json.dumps(planted.manifest(), indent=2) + "\n", encoding="utf-8")
    return path
