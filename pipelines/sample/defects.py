"""Known defects injected into the sample council, and their manifest (docs/contracts.md s.7).

Every defect is put on a record that is *in scope* for the defect window (the first financial
quarter of the reference quarter's rolling 12-month file; April-June 2025 by default): a
completed request/assessment/review finished in it, or a service active in it. That quarter
lies inside the rolling 12-month files of four consecutive periods (2025-26Q1 to 2025-26Q4 by
default, the last the reference quarter), so each defect can surface in each of them; the
manifest's ``periods`` column lists them.

Each person carries at most one defect, so a finding can be traced to exactly one manifest
row; carers' cared-for people, transition clients and people who die are left alone. The kinds
and which stage must detect them are data: ``data/sample/defect_kinds.csv``.

One function per kind plants it, registered with ``@defect("kind", stage)`` in
:data:`REGISTRY`; every kind of defect_kinds.csv has exactly one function and every function
one row (:func:`check_kinds`, run by ``generate()`` and tests/sample/test_registry.py). Each
stage calls its kinds in **registration order, the order of the functions in this file**: that
is the order of the random draws, so moving a function changes the sample. The stages:

* ``database`` (:func:`inject_db`, first chunk only): each function once, ``per_kind`` records;
* ``feed`` (:func:`inject_feeds`): each function once, ``per_kind`` feed rows, before
* ``feed_round``: ``per_kind`` rounds; in round ``i`` each function plants one row in the
  carers feed (even ``i``) or the equipment feed (odd ``i``);
* ``feed_file`` (:func:`inject_feed_files`): whole extra feed files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from cld_schema.errors import CldError
from pipelines.sample.journeys import ADULT_DAYS, OUT_OF_SCOPE, ChunkBuilder, Ids
from pipelines.sample.nhs import invalid_numbers, spare_valid_numbers

MANIFEST_COLUMNS = [
    "defect_id",
    "kind",
    "source",
    "record_key",
    "person_id",
    "cld_field",
    "event_type",
    "detected_by",
    "detail",
    "periods",
]
IN_SCOPE_TYPES = {
    "CONTACT": "Request",
    "ASSESS_CA": "Assessment",
    "ASSESS_OT": "Assessment",
    "ASSESS_REAB": "Assessment",
    "ASSESS_FIN": "Assessment",
    "ASSESS_CARER": "Assessment",
    "REVIEW_PLAN": "Review",
    "REVIEW_UNPL": "Review",
    "REVIEW_CARER": "Review",
}
COST_MANDATORY_CODES = ["HOMECARE", "DPCASH", "SUPPLIV", "XCARE", "SHLIVES", "RESI", "NURSING"]
PLACEHOLDERS = ["9999999999", "0000000000", "1111111111"]
BAD_POSTCODES = ["SX 1AB", "NOT KNOWN", "S1X 11AB", "12345"]
EPOCH = date(1970, 1, 1)
STAGES = ("database", "feed", "feed_round", "feed_file")


def _d(n: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(n))


# ---------------------------------------------------------------------------- the registry
class DefectKindsError(CldError, ValueError):
    """The defect functions and data/sample/defect_kinds.csv name different kinds."""


@dataclass(frozen=True)
class Defect:
    kind: str
    stage: str
    plant: Callable[..., object]


REGISTRY: dict[str, Defect] = {}


def defect(kind: str, stage: str = "database") -> Callable[[Callable], Callable]:
    """Register the decorated function as the one that plants ``kind`` in ``stage``."""
    if stage not in STAGES:
        raise ValueError(f"defect {kind!r}: unknown stage {stage!r} (one of {', '.join(STAGES)})")

    def register(fn: Callable) -> Callable:
        if kind in REGISTRY:
            raise DefectKindsError(
                f"defect kind {kind!r} has two functions: "
                f"{REGISTRY[kind].plant.__name__} and {fn.__name__}"
            )
        REGISTRY[kind] = Defect(kind, stage, fn)
        return fn

    return register


def registered(stage: str) -> list[Defect]:
    """The kinds of one stage, in the order they are planted."""
    return [d for d in REGISTRY.values() if d.stage == stage]


def kinds_mismatch(functions: Iterable[str], listed: Iterable[str]) -> str | None:
    """One line naming the kinds that have a function but no row in defect_kinds.csv, or a
    row but no function, or two rows; None when registry and file agree."""
    functions, listed = list(functions), list(listed)
    problems = []
    twice = sorted({k for k in listed if listed.count(k) > 1})
    if twice:
        problems.append(f"listed twice in defect_kinds.csv: {', '.join(twice)}")
    no_row = sorted(set(functions) - set(listed))
    if no_row:
        problems.append(f"no row in defect_kinds.csv: {', '.join(no_row)}")
    no_fn = sorted(set(listed) - set(functions))
    if no_fn:
        problems.append(f"no @defect function: {', '.join(no_fn)}")
    return "defect kinds differ: " + "; ".join(problems) if problems else None


def check_kinds(kind_rows: Iterable[dict[str, str]], functions: Iterable[str] = REGISTRY) -> None:
    """Raise :class:`DefectKindsError` (one line) unless each defect_kinds.csv row has exactly
    one registered function and each function one row."""
    problem = kinds_mismatch(functions, [r["kind"] for r in kind_rows])
    if problem:
        raise DefectKindsError(problem)


# ---------------------------------------------------------------------------- database
class _Picker:
    """Draws records for each kind so that no person carries two defects."""

    def __init__(self, rng: np.random.Generator, excluded: set[int]):
        self.rng = rng
        self.used: set[int] = set(excluded)

    def take(self, frame: pl.DataFrame, k: int, person_col: str = "person_id") -> pl.DataFrame:
        if frame.height == 0 or k == 0:
            return frame.head(0)
        frame = frame.filter(~pl.col(person_col).is_in(list(self.used)))
        frame = frame.unique(person_col, keep="first", maintain_order=True)
        if frame.height == 0:
            return frame
        idx = np.sort(self.rng.choice(frame.height, min(k, frame.height), replace=False))
        got = frame[idx.tolist()]
        self.used.update(got[person_col].to_list())
        return got


@dataclass
class _Db:
    """What the database kinds share. ``t`` holds the chunk's tables, each kind replacing the
    ones it edits; the candidate frames were taken from the tables before any edit."""

    t: dict[str, pl.DataFrame]
    b: ChunkBuilder
    ids: Ids
    pick: _Picker
    per_kind: int
    w0: date
    w1: date
    done_steps: pl.DataFrame  # completed in-scope steps finished in the window
    user_steps: pl.DataFrame  # ... of service users (not carers)
    user_svc: pl.DataFrame  # service users' services active in the window
    in_window: pl.DataFrame  # person_id of service users with either
    non_request: pl.DataFrame  # ... with an assessment, review or service
    spans: pl.DataFrame  # person_id, first and last event start
    kind: str = ""  # the kind being planted (set by inject_db)
    rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, source, key, person, field, event_type="", detail="") -> None:
        self.rows.append(
            dict(
                kind=self.kind,
                source=source,
                record_key=str(key),
                person_id=str(person),
                cld_field=field,
                event_type=event_type,
                detail=detail,
            )
        )

    def people(self, source: str, field: str, frame: pl.DataFrame | None = None) -> list:
        """``per_kind`` people (default: in the window), one manifest row each."""
        got = self.pick.take(self.in_window if frame is None else frame, self.per_kind)
        got = got["person_id"].to_list()
        for p in got:
            self.add(source, p, p, field)
        return got

    def steps(self, frame: pl.DataFrame, field: str, source: str = "workflow_steps"):
        """``per_kind`` of these service users' steps, one manifest row each."""
        got = self.pick.take(frame.sort("step_id"), self.per_kind)
        for r in got.iter_rows(named=True):
            event_type = IN_SCOPE_TYPES[r["step_type_code"]]
            self.add(source, r["step_id"], r["person_id"], field, event_type)
        return got

    def services(self, frame: pl.DataFrame, field: str) -> pl.DataFrame:
        """``per_kind`` of these service agreements, one manifest row each."""
        got = self.pick.take(frame.sort("agreement_id"), self.per_kind)
        for r in got.iter_rows(named=True):
            self.add("service_agreements", r["agreement_id"], r["person_id"], field, "Service")
        return got

    def blank(self, table: str, col: str, people: list) -> None:
        """Empty ``col`` of ``table`` for these people."""
        self.t[table] = self.t[table].with_columns(
            pl.when(pl.col("person_id").is_in(people)).then(None).otherwise(pl.col(col)).alias(col)
        )

    def set_persons(self, col: str, values: dict, dtype: pl.DataType | None = None) -> None:
        self.t["persons"] = _replace(self.t["persons"], col, values, dtype=dtype)

    def set_services(self, col: str, values: dict) -> None:
        svc = self.t["service_agreements"]
        self.t["service_agreements"] = _replace(
            svc, col, values, key="agreement_id", dtype=svc.schema[col]
        )


def inject_db(
    tables: dict[str, pl.DataFrame],
    b: ChunkBuilder,
    rng: np.random.Generator,
    per_kind: int,
    window: tuple[int, int],
    ids: Ids,
) -> list[dict[str, object]]:
    """Plant each ``database`` kind in turn, in registration order (the order of the random
    draws). Edits the chunk's tables in place (dict entries replaced); returns manifest rows."""
    db = _database_context(tables, b, rng, per_kind, window, ids)
    excluded = set(db.pick.used)
    for d in registered("database"):
        db.kind = d.kind
        d.plant(db)
    b.defect_persons = np.asarray(sorted(db.pick.used - excluded), dtype=np.int64)
    return db.rows


def _database_context(tables, b, rng, per_kind, window, ids) -> _Db:
    """The candidate frames, from the tables as generated, and who is left alone."""
    w0, w1 = _d(window[0]), _d(window[1])
    steps = tables["workflow_steps"]
    svc = tables["service_agreements"]
    persons = tables["persons"]
    rel = tables["carer_relationships"]
    contact = tables["step_contact_details"]
    trans = steps.join(contact, on="step_id").filter(pl.col("route_code") == "TRANS")
    excluded = set(rel["cared_for_person_id"].to_list())
    excluded |= set(trans["person_id"].to_list())
    excluded |= set(persons.filter(pl.col("date_of_death").is_not_null())["person_id"].to_list())
    done_steps = steps.filter(
        (pl.col("status_code") == "COMP")
        & pl.col("completed_on").is_between(w0, w1)
        & pl.col("step_type_code").is_in(list(IN_SCOPE_TYPES))
    )
    active = svc.filter(
        pl.col("status_code").is_in(["ACT", "END", "SUSP"])
        & (pl.col("start_date") <= w1)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= w0))
    )
    user_steps = done_steps.filter(~pl.col("is_carer_step"))
    user_svc = active.filter(~pl.col("for_carer"))
    in_window = (
        pl.concat([user_steps.select("person_id"), user_svc.select("person_id")])
        .unique(maintain_order=True)
        .sort("person_id")
    )
    non_request = (
        pl.concat(
            [
                user_steps.filter(pl.col("step_type_code") != "CONTACT").select("person_id"),
                user_svc.select("person_id"),
            ]
        )
        .unique(maintain_order=True)
        .sort("person_id")
    )
    # first and last event of each person (for age and death edits)
    spans = (
        pl.concat(
            [
                steps.select("person_id", pl.col("started_on").alias("d")),
                svc.select("person_id", pl.col("start_date").alias("d")),
            ]
        )
        .group_by("person_id")
        .agg(pl.col("d").min().alias("first"), pl.col("d").max().alias("last"))
    )
    return _Db(
        t=tables,
        b=b,
        ids=ids,
        pick=_Picker(rng, excluded),
        per_kind=per_kind,
        w0=w0,
        w1=w1,
        done_steps=done_steps,
        user_steps=user_steps,
        user_svc=user_svc,
        in_window=in_window,
        non_request=non_request,
        spans=spans,
    )


# person-level -------------------------------------------------------------------------------
@defect("missing_gender")
def _missing_gender(db: _Db) -> None:
    db.blank("persons", "gender_code", db.people("persons", "Gender"))


@defect("missing_ethnicity")
def _missing_ethnicity(db: _Db) -> None:
    db.blank("persons", "ethnicity_code", db.people("persons", "Ethnicity"))


@defect("missing_dob")
def _missing_dob(db: _Db) -> None:
    db.blank("persons", "date_of_birth", db.people("persons", "Date_of_Birth"))


@defect("missing_nhs_number")
def _missing_nhs_number(db: _Db) -> None:
    db.blank("persons", "nhs_number", db.people("persons", "NHS_Number"))


@defect("invalid_nhs_number")
def _invalid_nhs_number(db: _Db) -> None:
    got = db.people("persons", "NHS_Number")
    persons = db.t["persons"]
    now = persons.filter(pl.col("person_id").is_in(got)).sort("person_id")["nhs_number"]
    db.set_persons("nhs_number", dict(zip(got, invalid_numbers(now.to_numpy()), strict=True)))


@defect("placeholder_nhs_number")
def _placeholder_nhs_number(db: _Db) -> None:
    got = db.people("persons", "NHS_Number")
    db.set_persons(
        "nhs_number", {p: PLACEHOLDERS[i % len(PLACEHOLDERS)] for i, p in enumerate(got)}
    )


@defect("missing_postcode")
def _missing_postcode(db: _Db) -> None:
    db.blank("person_addresses", "postcode", db.people("person_addresses", "Postcode"))


@defect("missing_accommodation")
def _missing_accommodation(db: _Db) -> None:
    got = db.people("person_addresses", "Accommodation_Status")
    db.blank("person_addresses", "accommodation_code", got)


@defect("invalid_postcode")
def _invalid_postcode(db: _Db) -> None:
    got = db.people("person_addresses", "Postcode")
    codes = {p: BAD_POSTCODES[i % len(BAD_POSTCODES)] for i, p in enumerate(got)}
    db.t["person_addresses"] = db.t["person_addresses"].with_columns(
        pl.col("person_id")
        .replace_strict(codes, default=None, return_dtype=pl.String)
        .fill_null(pl.col("postcode"))
        .alias("postcode")
    )


@defect("missing_psr")
def _missing_psr(db: _Db) -> None:
    got = db.people("person_support_reasons", "Primary_Support_Reason", db.non_request)
    reasons = db.t["person_support_reasons"]
    db.t["person_support_reasons"] = reasons.filter(~pl.col("person_id").is_in(got))


@defect("death_before_birth")
def _death_before_birth(db: _Db) -> None:
    got = db.people("persons", "Date_of_Death")
    db.t["persons"] = db.t["persons"].with_columns(
        pl.when(pl.col("person_id").is_in(got))
        .then(pl.col("date_of_birth") - pl.duration(days=400))
        .otherwise(pl.col("date_of_death"))
        .alias("date_of_death")
    )


@defect("under_18_at_event")
def _under_18_at_event(db: _Db) -> None:
    """Under 18 at a request that starts in the window, for people new to the council."""
    young = (
        db.user_steps.filter(pl.col("started_on").is_between(db.w0, db.w1))
        .join(db.spans, on="person_id")
        .filter(pl.col("first") >= pl.lit(db.w0) - pl.duration(days=30))
    )
    got = db.steps(young, "Date_of_Birth")
    dob = {
        r["person_id"]: date.fromordinal(r["first"].toordinal() - (ADULT_DAYS - 400))
        for r in got.iter_rows(named=True)
    }
    db.set_persons("date_of_birth", dob, dtype=pl.Date)


@defect("event_after_death")
def _event_after_death(db: _Db) -> None:
    """The latest event of the person starts in the window, after death."""
    last = db.user_steps.join(db.spans, on="person_id").filter(
        (pl.col("started_on") == pl.col("last"))
        & pl.col("started_on").is_between(db.w0, db.w1)
        & (pl.col("first") < pl.col("started_on") - pl.duration(days=10))
    )
    got = db.steps(last, "Event_Start_Date")
    death = {
        r["person_id"]: date.fromordinal(r["started_on"].toordinal() - 2)
        for r in got.iter_rows(named=True)
    }
    db.set_persons("date_of_death", death, dtype=pl.Date)


# step-level ---------------------------------------------------------------------------------
@defect("completed_without_end_date")
def _completed_without_end_date(db: _Db) -> None:
    got = db.steps(
        db.user_steps.filter(
            pl.col("started_on").is_between(db.w0, db.w1)
            & pl.col("step_type_code").is_in(["CONTACT", "ASSESS_CA", "ASSESS_OT", "REVIEW_PLAN"])
        ),
        "Event_End_Date",
    )
    db.t["workflow_steps"] = db.t["workflow_steps"].with_columns(
        pl.when(pl.col("step_id").is_in(got["step_id"].to_list()))
        .then(None)
        .otherwise(pl.col("completed_on"))
        .alias("completed_on")
    )


@defect("review_without_outcomes")
def _review_without_outcomes(db: _Db) -> None:
    got = db.steps(
        db.user_steps.filter(pl.col("step_type_code") == "REVIEW_PLAN"),
        "Review_Outcomes_Achieved",
        source="step_review_details",
    )
    db.t["step_review_details"] = db.t["step_review_details"].with_columns(
        pl.when(pl.col("step_id").is_in(got["step_id"].to_list()))
        .then(None)
        .otherwise(pl.col("outcomes_code"))
        .alias("outcomes_code")
    )


# service-level ------------------------------------------------------------------------------
def _costed(db: _Db) -> pl.DataFrame:
    return db.user_svc.filter(
        pl.col("service_code").is_in(COST_MANDATORY_CODES)
        & pl.col("delivery_code").is_in(["DP", "MPB", "ISF"])
    )


@defect("end_before_start")
def _end_before_start(db: _Db) -> None:
    late = db.user_svc.filter(pl.col("start_date") >= pl.lit(db.w0) + pl.duration(days=25))
    got = db.services(late, "Event_End_Date")
    ids = got["agreement_id"].to_list()
    ends = [date.fromordinal(s.toordinal() - 20) for s in got["start_date"].to_list()]
    db.set_services("end_date", dict(zip(ids, ends, strict=True)))
    db.set_services("status_code", dict.fromkeys(ids, "END"))
    db.set_services("end_reason_code", dict.fromkeys(ids, "ENDPLAN"))


@defect("missing_cost")
def _missing_cost(db: _Db) -> None:
    got = db.services(_costed(db), "Unit_Cost")
    db.set_services("unit_cost", dict.fromkeys(got["agreement_id"].to_list()))


@defect("negative_cost")
def _negative_cost(db: _Db) -> None:
    got = db.services(_costed(db), "Unit_Cost")
    db.set_services("unit_cost", {r["agreement_id"]: -abs(r["unit_cost"]) for r in got.to_dicts()})


@defect("planned_units_over_168")
def _planned_units_over_168(db: _Db) -> None:
    hourly = db.user_svc.filter(pl.col("cost_frequency_code") == "HR")
    got = db.services(hourly, "Planned_units_per_week")
    ids = got["agreement_id"].to_list()
    db.set_services("planned_units_per_week", {a: 170.0 + 37 * i for i, a in enumerate(ids)})


@defect("direct_payment_in_prison")
def _direct_payment_in_prison(db: _Db) -> None:
    homecare = db.user_svc.filter(pl.col("service_code") == "HOMECARE")
    ids = db.services(homecare, "Delivery_Mechanism")["agreement_id"].to_list()
    db.set_services("service_code", dict.fromkeys(ids, "PRISCARE"))
    db.set_services("delivery_code", dict.fromkeys(ids, "DP"))
    db.set_services("provider_id", dict.fromkeys(ids))


@defect("unmapped_local_code")
def _unmapped_local_code(db: _Db) -> None:
    """Case-system codes with no mapping row (``defect_only`` in the data), one record at a
    time, taking the code lists in turn."""
    lists = db.b.d.lists
    unmapped = {
        ct: lists[ct].defect_only
        for ct in ("ETHNICITY", "GENDER", "SERVICE", "ROUTE")
        if lists[ct].defect_only
    }
    targets = [k for k in ("ETHNICITY", "GENDER", "SERVICE", "ROUTE") if k in unmapped]
    for i in range(db.per_kind if targets else 0):
        which = targets[i % len(targets)]
        code = unmapped[which][0]
        if which in ("ETHNICITY", "GENDER"):
            got = db.pick.take(db.in_window, 1)["person_id"].to_list()
            col = which.lower() + "_code"
            field = "Ethnicity" if which == "ETHNICITY" else "Gender"
            for p in got:
                db.add("persons", p, p, field, "", f"{col}={code}")
            db.set_persons(col, dict.fromkeys(got, code))
        elif which == "SERVICE":
            got = db.pick.take(db.user_svc.sort("agreement_id"), 1)
            for r in got.iter_rows(named=True):
                db.add(
                    "service_agreements",
                    r["agreement_id"],
                    r["person_id"],
                    "Service_Type",
                    "Service",
                    f"service_code={code}",
                )
            db.set_services("service_code", dict.fromkeys(got["agreement_id"].to_list(), code))
        else:
            got = db.pick.take(
                db.user_steps.filter(pl.col("step_type_code") == "CONTACT").sort("step_id"), 1
            )
            for r in got.iter_rows(named=True):
                db.add(
                    "step_contact_details",
                    r["step_id"],
                    r["person_id"],
                    "Request_Route_of_Access",
                    "Request",
                    f"route_code={code}",
                )
            db.t["step_contact_details"] = _replace(
                db.t["step_contact_details"],
                "route_code",
                dict.fromkeys(got["step_id"].to_list(), code),
                key="step_id",
            )


@defect("duplicate_service")
def _duplicate_service(db: _Db) -> None:
    """The same agreement keyed twice (a copy of it as edited by the kinds before)."""
    dup = db.pick.take(
        db.user_svc.filter(pl.col("status_code") != "SUSP").sort("agreement_id"), db.per_kind
    )
    svc = db.t["service_agreements"]
    copies = svc.filter(pl.col("agreement_id").is_in(dup["agreement_id"].to_list())).sort(
        "agreement_id"
    )
    new_ids = db.ids.agreement + np.arange(copies.height)
    db.ids.agreement += copies.height
    for old, new in zip(copies["agreement_id"].to_list(), new_ids.tolist(), strict=True):
        person = copies.filter(pl.col("agreement_id") == old)["person_id"][0]
        db.add(
            "service_agreements", new, person, "Service_Type", "Service", f"copy of agreement {old}"
        )
    db.t["service_agreements"] = pl.concat(
        [svc, copies.with_columns(pl.Series("agreement_id", new_ids))]
    )


@defect("carer_link_to_nobody")
def _carer_link_to_nobody(db: _Db) -> None:
    """A carer linked to somebody who is no service user in any file."""
    nobody = np.flatnonzero(db.b.ptype == OUT_OF_SCOPE)
    rel = db.t["carer_relationships"]
    carers = (
        db.done_steps.filter(pl.col("is_carer_step"))
        .join(
            rel.select("relationship_id", pl.col("carer_person_id").alias("person_id")),
            on="person_id",
        )
        .sort("relationship_id")
    )
    got = db.pick.take(carers, min(db.per_kind, len(nobody)))
    link = {}
    for i, r in enumerate(got.iter_rows(named=True)):
        target = int(db.b.pid[nobody[i]])
        link[r["relationship_id"]] = target
        db.add(
            "carer_relationships",
            r["relationship_id"],
            r["person_id"],
            "Adult_1_Linked_Person_ID",
            "",
            f"linked to person {target}",
        )
    db.t["carer_relationships"] = _replace(
        rel,
        "cared_for_person_id",
        link,
        key="relationship_id",
        dtype=rel.schema["cared_for_person_id"],
    )
    by_carer = {r["person_id"]: link[r["relationship_id"]] for r in got.iter_rows(named=True)}
    svc = db.t["service_agreements"]
    db.t["service_agreements"] = svc.with_columns(
        pl.when(pl.col("cared_for_person_id").is_not_null())
        .then(
            pl.col("person_id")
            .replace_strict(by_carer, default=None, return_dtype=svc.schema["cared_for_person_id"])
            .fill_null(pl.col("cared_for_person_id"))
        )
        .otherwise(None)
        .alias("cared_for_person_id")
    )


def _replace(
    frame: pl.DataFrame,
    col: str,
    values: dict,
    key: str = "person_id",
    dtype: pl.DataType | None = None,
) -> pl.DataFrame:
    """Set ``col`` for the keys in ``values`` (None allowed), leave other rows alone."""
    if not values:
        return frame
    dtype = dtype or frame.schema[col]
    keys = list(values)
    lut = pl.DataFrame(
        {key: keys, "__v": list(values.values())}, schema={key: frame.schema[key], "__v": dtype}
    )
    return (
        frame.join(lut, on=key, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col(key).is_in(keys)).then(pl.col("__v")).otherwise(pl.col(col)).alias(col)
        )
        .drop("__v")
    )


# ---------------------------------------------------------------------------- feeds
FEED_COLUMNS = {  # key, NHS number, council id, date of birth, gender, day of the activity
    "carers": (
        "Record ID",
        "Carer NHS Number",
        "Carer Council ID",
        "Carer Date of Birth",
        "Carer Gender",
        "Activity Start Date",
    ),
    "equipment": (
        "Order Number",
        "NHS Number",
        "Client ID",
        "Date of Birth",
        "Gender",
        "Delivery Date",
    ),
}
ROUND_FEEDS = ("carers", "equipment")  # round i of the feed_round kinds edits ROUND_FEEDS[i % 2]


@dataclass
class _Feeds:
    """What the feed kinds share: the two feeds (edited), the rows and people already used (one
    defect per row and per person), spare valid NHS numbers, the manifest rows."""

    feeds: dict[str, pl.DataFrame]
    rng: np.random.Generator
    per_kind: int
    w0: date
    w1: date
    spare: Iterable[str]
    kind: str = ""  # the kind being planted (set by inject_feeds)
    used: set[str] = field(default_factory=set)
    used_people: set[int] = field(default_factory=set)
    base: dict[str, pl.DataFrame] = field(default_factory=dict)
    rows: list[dict[str, object]] = field(default_factory=list)

    def candidates(self, name: str, extra: pl.Expr | None = None) -> pl.DataFrame:
        """Unused rows in the window that name a council id (and match ``extra``)."""
        if name not in self.base:  # filtered once
            f = self.feeds[name]
            if f.height == 0:
                return f
            _, _, la, _, _, day = FEED_COLUMNS[name]
            self.base[name] = f.filter(
                pl.col(day).is_between(self.w0, self.w1) & pl.col(la).is_not_null()
            )
        key = FEED_COLUMNS[name][0]
        c = self.base[name].filter(
            ~pl.col(key).is_in(list(self.used))
            & ~pl.col("_person_id").is_in(list(self.used_people))
        )
        return c.filter(extra) if extra is not None else c

    def take(self, name: str, frame: pl.DataFrame, k: int) -> list[dict]:
        if frame.height == 0 or k == 0:
            return []
        idx = np.sort(self.rng.choice(frame.height, min(k, frame.height), replace=False))
        got = frame[idx.tolist()].to_dicts()
        self.used.update(r[FEED_COLUMNS[name][0]] for r in got)
        self.used_people.update(r["_person_id"] for r in got)
        return got

    def edit(self, name: str, key: str, **values) -> None:
        f = self.feeds[name]
        keycol = FEED_COLUMNS[name][0]
        self.feeds[name] = f.with_columns(
            [
                pl.when(pl.col(keycol) == key)
                .then(pl.lit(v, dtype=f.schema[c]))
                .otherwise(pl.col(c))
                .alias(c)
                for c, v in values.items()
            ]
        )

    def add(self, name, r, field, event_type="", detail="", person=True) -> None:
        self.rows.append(
            dict(
                kind=self.kind,
                source=f"feeds/{name}",
                record_key="",
                person_id=str(r["_person_id"]) if person else "",
                cld_field=field,
                event_type=event_type,
                detail=detail,
                _feed_key=r[FEED_COLUMNS[name][0]],
            )
        )


def inject_feeds(
    carers: pl.DataFrame,
    equipment: pl.DataFrame,
    rng: np.random.Generator,
    per_kind: int,
    window: tuple[int, int],
    known: np.ndarray,
):
    """Wrong or missing identifiers and conflicting attributes on feed rows in the window: the
    ``feed`` kinds once each, then ``per_kind`` rounds of the ``feed_round`` kinds, each in
    registration order (the order of the random draws)."""
    spare = iter(spare_valid_numbers(rng, 4 * per_kind + 4))
    f = _Feeds(
        {"carers": carers, "equipment": equipment},
        rng,
        per_kind,
        _d(window[0]),
        _d(window[1]),
        spare,
    )
    for d in registered("feed"):
        f.kind = d.kind
        d.plant(f)
    for i in range(per_kind):
        for d in registered("feed_round"):
            f.kind = d.kind
            d.plant(f, i)
    return f.feeds["carers"], f.feeds["equipment"], f.rows


@defect("open_service_wrong_outcome", stage="feed")
def _open_service_wrong_outcome(f: _Feeds) -> None:
    """Open carers' support whose outcome says completed (first: the scarcest candidates)."""
    support = f.candidates("carers", pl.col("Activity Type") == "SUPPORT")
    for r in f.take("carers", support, f.per_kind):
        f.edit("carers", r["Record ID"], **{"Activity End Date": None, "Outcome": "COMPLETED"})
        f.add("carers", r, "Event_Outcome", "Service", f"Record ID {r['Record ID']}")


@defect("feed_unmatched_person", stage="feed_round")
def _feed_unmatched_person(f: _Feeds, i: int) -> None:
    """An NHS number that belongs to nobody, or (every other time) no identifier at all."""
    name = ROUND_FEEDS[i % 2]
    key, nhs, la, _, _, _ = FEED_COLUMNS[name]
    for r in f.take(name, f.candidates(name), 1):
        neither = (i // 2) % 2 == 1
        f.edit(name, r[key], **{la: None, nhs: None if neither else next(f.spare)})
        what = "no NHS number, no council id" if neither else "unknown NHS number, no id"
        f.add(name, r, "", detail=f"{key} {r[key]}: {what}", person=False)


@defect("feed_nhs_conflict", stage="feed_round")
def _feed_nhs_conflict(f: _Feeds, i: int) -> None:
    name = ROUND_FEEDS[i % 2]
    key, nhs, *_ = FEED_COLUMNS[name]
    for r in f.take(name, f.candidates(name), 1):
        f.edit(name, r[key], **{nhs: next(f.spare)})
        f.add(name, r, "NHS_Number", detail=f"{key} {r[key]}")


@defect("feed_dob_conflict", stage="feed_round")
def _feed_dob_conflict(f: _Feeds, i: int) -> None:
    name = ROUND_FEEDS[i % 2]
    key, _, _, dob, _, _ = FEED_COLUMNS[name]
    for r in f.take(name, f.candidates(name, pl.col(dob).is_not_null()), 1):
        f.edit(name, r[key], **{dob: date(r[dob].year - 1 - i % 3, r[dob].month, 1)})
        f.add(name, r, "Date_of_Birth", detail=f"{key} {r[key]}")


@defect("feed_gender_conflict", stage="feed_round")
def _feed_gender_conflict(f: _Feeds, i: int) -> None:
    name = ROUND_FEEDS[i % 2]
    key, _, _, _, gender, _ = FEED_COLUMNS[name]
    if gender not in f.feeds[name].columns:
        return
    for r in f.take(name, f.candidates(name, pl.col(gender).is_in(["M", "F"])), 1):
        f.edit(name, r[key], **{gender: "F" if r[gender] == "M" else "M"})
        f.add(name, r, "Gender", detail=f"{key} {r[key]}")


def inject_feed_files(
    feeds_dir: Path,
    carers: pl.DataFrame,
    equipment: pl.DataFrame,
    rng: np.random.Generator,
    per_kind: int,
    month: str = "2025-02",
) -> tuple[list[Path], list[dict[str, object]]]:
    """The ``feed_file`` kinds in registration order: extra whole files (the monthly ones
    stay); returns the files written and their manifest rows."""
    out: list[Path] = []
    rows: list[dict[str, object]] = []
    for d in registered("feed_file"):
        files, new = d.plant(feeds_dir, carers, equipment, rng, per_kind, month)
        out += files
        rows += [{**r, "kind": d.kind} for r in new]
    return out, rows


@defect("malformed_feed_file", stage="feed_file")
def _malformed_feed_file(
    feeds_dir: Path,
    carers: pl.DataFrame,
    equipment: pl.DataFrame,
    rng: np.random.Generator,
    per_kind: int,
    month: str,
) -> tuple[list[Path], list[dict[str, object]]]:
    """Up to three whole files that break their contract."""
    from pipelines.sample.data import _write_csv

    out: list[Path] = []
    rows: list[dict[str, object]] = []
    specs = [
        ("carers", "renamed column 'Carer NHS Number' -> 'Carer NHS No'"),
        ("equipment", "impossible dates (31/02/2025, 2025-13-01)"),
        ("equipment", "text in the integer column Quantity"),
    ]
    for i, (stem, what) in enumerate(specs[: min(per_kind, 3)]):
        src = carers if stem == "carers" else equipment
        if src.height == 0:
            continue
        part = src.head(5).select([c for c in src.columns if not c.startswith("_")])
        key = part.columns[0]
        part = part.with_columns((pl.lit(f"X{i}-") + pl.col(key)).alias(key))
        if i == 0:
            part = part.rename({"Carer NHS Number": "Carer NHS No"})
        elif i == 1:
            part = part.with_columns(pl.col("Delivery Date").dt.strftime("%d/%m/%Y"))
            bad = ["31/02/2025", "2025-13-01"] + ["31/02/2025"] * (part.height - 2)
            part = part.with_columns(pl.Series("Delivery Date", bad[: part.height]))
        else:
            part = part.with_columns(pl.Series("Quantity", ["two"] * part.height))
        path = feeds_dir / f"{stem}_{month}_resend{i + 1}.csv"
        _write_csv(path, part, "cp1252")
        out.append(path)
        rows.append(
            dict(
                source=f"feeds/{path.name}",
                record_key=path.name,
                person_id="",
                cld_field="",
                event_type="",
                detail=what,
            )
        )
    return out, rows


def write_manifest(path: Path, rows: list[dict[str, object]], data, periods: list[str]) -> None:
    """``defects.csv``: one row per injected defect, ``detected_by`` from defect_kinds.csv."""
    by_kind = {k["kind"]: k["detected_by"] for k in data.defect_kinds}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, MANIFEST_COLUMNS, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for i, r in enumerate(rows, start=1):
            w.writerow(
                {
                    **r,
                    "defect_id": f"D{i:05d}",
                    "detected_by": by_kind.get(r["kind"], ""),
                    "periods": ";".join(periods),
                }
            )
