"""One small declared unit per figure (W1-W5, T1-T3, R1-R4, C1-C5).

Each unit is a function ``Inputs -> items``: one row per person, event or request the
figure is about, with the columns of :data:`ITEM_COLUMNS` (``counted`` marks the rows in the
figure when the items are its denominator, as for R1's share of long-term clients). The
figures' definitions, in words, are data (``figures.yaml``); :mod:`pipelines.cqc.stats` turns
items into count, median, 90th percentile, maximum and bands, by age group and team.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import yaml

from pipelines.cqc import dhsc
from pipelines.cqc.inputs import LTS, SHORT_TERM, Inputs, add_months

ITEM_SCHEMA = {
    "person_id": pl.Int64,
    "team_id": pl.Int64,
    "ref": pl.String,  # the step / agreement / event reference
    "start": pl.Date,  # when the wait (or the thing counted) began
    "days": pl.Int64,  # the figure's days (see figures.yaml `wait`), null when none
    "kind": pl.String,  # the figure's own split (assessment type, setting, planned…)
    "client": pl.String,  # Service user | Carer
    "age_group": pl.String,  # filled from the date of birth when the unit leaves it null
    "counted": pl.Boolean,
}
ITEM_COLUMNS = tuple(ITEM_SCHEMA)
DONE = ("CANC", "ERR")  # cancelled / recorded in error: never count as started


@functools.cache
def definitions() -> dict:
    return yaml.safe_load(Path(__file__).with_name("figures.yaml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Figure:
    id: str
    compute: Callable[[Inputs], pl.DataFrame]

    @property
    def spec(self) -> dict:
        return definitions()["figures"][self.id]


FIGURES: dict[str, Figure] = {}


def figure(fid: str) -> Callable[[Callable[[Inputs], pl.DataFrame]], Callable]:
    """Declare a figure's unit (its definition must be in figures.yaml)."""

    def wrap(fn: Callable[[Inputs], pl.DataFrame]) -> Callable:
        if fid not in definitions()["figures"]:
            raise KeyError(f"figure {fid} has no definition in figures.yaml")
        FIGURES[fid] = Figure(fid, fn)
        return fn

    return wrap


def items(**cols: pl.Expr) -> list[pl.Expr]:
    """The item columns from expressions (missing ones null), in order and typed."""
    out = []
    for name, dtype in ITEM_SCHEMA.items():
        e = cols.get(name, pl.lit(None))
        out.append(e.cast(dtype).alias(name))
    return out


def _client(carer: pl.Expr) -> pl.Expr:
    return pl.when(carer).then(pl.lit("Carer")).otherwise(pl.lit("Service user"))


def _alive(inp: Inputs) -> pl.DataFrame:
    p = inp.extract.persons
    return p.filter(pl.col("dod").is_null() | (pl.col("dod") > inp.as_at)).select("person_id")


def _days_to(d: date, col: str) -> pl.Expr:
    return (pl.lit(d) - pl.col(col)).dt.total_days()


# -- waiting now (extract) --------------------------------------------------------------------
def _awaiting_assessment(inp: Inputs) -> pl.DataFrame:
    d, st = inp.as_at, inp.extract.steps
    req = st.filter(
        (pl.col("kind") == "REQUEST") & (pl.col("status") == "COMP")
        & (pl.col("completed") <= d) & (pl.col("outcome") == "PROGRESS_TO_ASSESSMENT")
    )
    began = st.filter(
        (pl.col("kind") == "ASSESSMENT") & ~pl.col("status").is_in(DONE)
        & (pl.col("assess_type").fill_null("") != "FINANCIAL") & (pl.col("started") <= d)
    ).select("person_id", pl.col("started").alias("a_started"))
    answered = (
        req.select("step_id", "person_id", "started")
        .join(began, on="person_id", how="inner")
        .filter(pl.col("a_started") >= pl.col("started"))
        .select("step_id").unique()
    )
    return (
        req.join(answered, on="step_id", how="anti")
        .join(_alive(inp), on="person_id", how="semi")
        .sort("started", "step_id")
        .unique("person_id", keep="first", maintain_order=True)
    )


def _open_at(inp: Inputs, kind: str) -> pl.DataFrame:
    d = inp.as_at
    return inp.extract.steps.filter(
        (pl.col("kind") == kind) & ~pl.col("status").is_in(DONE) & (pl.col("started") <= d)
        & (pl.col("completed").is_null() | (pl.col("completed") > d))
    ).join(_alive(inp), on="person_id", how="semi")


@figure("W1")
def w1(inp: Inputs) -> pl.DataFrame:
    w = _awaiting_assessment(inp)
    return w.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"),
        ref=pl.col("step_id").cast(pl.String), start=pl.col("started"),
        days=_days_to(inp.as_at, "started"), kind=pl.lit("awaiting assessment"),
        client=_client(pl.col("carer")), counted=pl.lit(True),
    ))


@figure("W2")
def w2(inp: Inputs) -> pl.DataFrame:
    a = _open_at(inp, "ASSESSMENT")
    kind = pl.col("assess_type").replace_strict(
        {"LONG_TERM": "long term", "SHORT_TERM": "short term", "FINANCIAL": "financial"},
        default="not known", return_dtype=pl.String,
    )
    return a.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"),
        ref=pl.col("step_id").cast(pl.String), start=pl.col("started"),
        days=_days_to(inp.as_at, "started"), kind=kind,
        client=_client(pl.col("carer")), counted=pl.lit(True),
    ))


@figure("W3")
def w3(inp: Inputs) -> pl.DataFrame:
    d, st, sv = inp.as_at, inp.extract.steps, inp.extract.services
    latest = (
        st.filter(
            (pl.col("kind") == "ASSESSMENT") & (pl.col("status") == "COMP")
            & (pl.col("completed") <= d) & (pl.col("assess_type").fill_null("") != "FINANCIAL")
        )
        .sort("completed", "step_id")
        .unique("person_id", keep="last", maintain_order=True)
        .filter((pl.col("outcome") == "PROGRESS_TO_SUPPORT_PLANNING")
                & (pl.col("eligible") == "YES")
                # the extract reads steps completed in the two years before the period's end
                # (older ones only as links): older assessments are not a waiting list
                & (pl.col("completed") > pl.lit(add_months(d, -24))))
    )
    started = sv.filter(~pl.col("status").is_in(DONE) & (pl.col("start") <= d)).select(
        "person_id", pl.col("start").alias("s_start")
    )
    served = (
        latest.select("step_id", "person_id", "completed")
        .join(started, on="person_id", how="inner")
        .filter(pl.col("s_start") >= pl.col("completed"))
        .select("step_id").unique()
    )
    receiving = sv.filter(
        ~pl.col("status").is_in(DONE) & (pl.col("start") <= d)
        & (pl.col("end").is_null() | (pl.col("end") >= d))
    ).select("person_id")
    w = (
        latest.join(served, on="step_id", how="anti")
        .join(receiving, on="person_id", how="anti")
        .join(_alive(inp), on="person_id", how="semi")
    )
    return w.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"),
        ref=pl.col("step_id").cast(pl.String), start=pl.col("completed"),
        days=_days_to(d, "completed"), kind=pl.lit("eligible, awaiting service"),
        client=_client(pl.col("carer")), counted=pl.lit(True),
    ))


@figure("W4")
def w4(inp: Inputs) -> pl.DataFrame:
    d, st = inp.as_at, inp.extract.steps
    open_reviews = _open_at(inp, "REVIEW").with_columns(pl.lit("review in progress").alias("k"))
    req = st.filter(
        (pl.col("kind") == "REQUEST") & (pl.col("status") == "COMP")
        & (pl.col("completed") <= d) & (pl.col("outcome") == "PROGRESS_TO_REASSESSMENT")
    )
    began = st.filter(
        pl.col("kind").is_in(["REVIEW", "ASSESSMENT"]) & ~pl.col("status").is_in(DONE)
        & (pl.col("started") <= d)
    ).select("person_id", pl.col("started").alias("b"))
    answered = (
        req.select("step_id", "person_id", "started").join(began, on="person_id")
        .filter(pl.col("b") >= pl.col("started")).select("step_id").unique()
    )
    requested = (
        req.join(answered, on="step_id", how="anti")
        .join(_alive(inp), on="person_id", how="semi")
        .with_columns(pl.lit("review requested").alias("k"))
    )
    both = pl.concat([open_reviews, requested], how="vertical_relaxed")
    return both.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"),
        ref=pl.col("step_id").cast(pl.String), start=pl.col("started"),
        days=_days_to(d, "started"), kind=pl.col("k"),
        client=_client(pl.col("carer")), counted=pl.lit(True),
    ))


@figure("W5")
def w5(inp: Inputs) -> pl.DataFrame:
    waiting = w1(inp).with_columns(pl.lit("awaiting carer's assessment").alias("kind"))
    doing = w2(inp).with_columns(pl.lit("carer's assessment in progress").alias("kind"))
    return pl.concat([waiting, doing]).filter(pl.col("client") == "Carer")


# -- waits for completed journeys (CLD rows, DHSC method) ------------------------------------
def _in_year(inp: Inputs, col: str) -> pl.Expr:
    return pl.col(col).is_between(pl.lit(inp.year_start), pl.lit(inp.as_at))


_DHSC_BAND = {"25 to 64": "25-64", "65 and above": "65+"}


def service_user_waits(inp: Inputs) -> pl.DataFrame:
    if inp.cache.get("waits") is None:
        inp.cache["waits"] = dhsc.waiting_times(inp.cld)
    return inp.cache["waits"]


@figure("T1")
def t1(inp: Inputs) -> pl.DataFrame:
    w = service_user_waits(inp).filter(
        pl.col("part1_wait").is_not_null() & _in_year(inp, "response_start")
        & pl.col("response_band").is_in(list(_DHSC_BAND))
    )
    return w.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("r_start"), days=pl.col("part1_wait"),
        kind=pl.col("response_type").str.to_lowercase(), client=pl.lit("Service user"),
        age_group=pl.col("response_band").replace_strict(_DHSC_BAND), counted=pl.lit(True),
    ))


_SETTING = {
    "LONG_TERM_COMMUNITY": "community",
    "LONG_TERM_RESIDENTIAL": "residential",
    "LONG_TERM_NURSING": "nursing",
    "LONG_TERM_PRISON": "prison",
    "SHORT_TERM_ST_MAX": "short term",
    "SHORT_TERM_ONGOING_LOW_LEVEL": "short term",
    "SHORT_TERM_OTHER": "short term",
}


@figure("T2")
def t2(inp: Inputs) -> pl.DataFrame:
    w = service_user_waits(inp).filter(
        pl.col("part2_wait").is_not_null() & _in_year(inp, "service_start")
        & pl.col("service_band").is_in(list(_DHSC_BAND))
    )
    return w.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("r_start"), days=pl.col("part2_wait"),
        kind=pl.col("service_type").replace_strict(_SETTING, default="other"),
        client=pl.lit("Service user"),
        age_group=pl.col("service_band").replace_strict(_DHSC_BAND), counted=pl.lit(True),
    ))


@figure("T3")
def t3(inp: Inputs) -> pl.DataFrame:
    j, d = inp.cld, inp.as_at
    a = j.filter(
        (pl.col("Event_Type") == "ASSESSMENT") & (pl.col("Assessment_Type") == "LONG_TERM")
        & (pl.col("Client_Type") == "SERVICE_USER")
        & (pl.col("outcome") == "PROGRESS_TO_SUPPORT_PLANNING") & _in_year(inp, "der_end")
    ).select("pid", "person_id", "team_id", "ref", pl.col("der_end").alias("a_end"))
    s = j.filter(
        (pl.col("Event_Type") == "SERVICE") & (pl.col("Client_Type") == "SERVICE_USER")
        & pl.col("Service_Type").is_in([*LTS, *SHORT_TERM]) & (pl.col("start") <= d)
    ).select("pid", pl.col("start").alias("s_start"), "Service_Type")
    nxt = (
        a.join(s, on="pid").filter(pl.col("s_start") >= pl.col("a_end"))
        .sort("s_start").group_by("ref", maintain_order=True).first()
    )
    return nxt.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("a_end"), days=(pl.col("s_start") - pl.col("a_end")).dt.total_days(),
        kind=pl.col("Service_Type").replace_strict(_SETTING, default="other"),
        client=pl.lit("Service user"), counted=pl.lit(True),
    ))


# -- reviews ---------------------------------------------------------------------------------
_SETTING_RANK = {"LONG_TERM_NURSING": 1, "LONG_TERM_RESIDENTIAL": 2, "LONG_TERM_COMMUNITY": 3,
                 "LONG_TERM_PRISON": 4}


def _support_open(inp: Inputs, client: str, types: tuple[str, ...]) -> pl.DataFrame:
    """People with a service of ``types`` open at the as-at date (alive then): their
    setting, team, and support start (the earliest start among their services of those types
    still open at some point in the 12 months before the as-at date)."""
    j, d = inp.cld, inp.as_at
    back = add_months(d, -12)
    svc = j.filter(
        (pl.col("Event_Type") == "SERVICE") & (pl.col("Client_Type") == client)
        & pl.col("Service_Type").is_in(list(types)) & (pl.col("start") <= d)
    )
    alive = pl.col("dod").is_null() | (pl.col("dod") > d)
    now = svc.filter((pl.col("der_end").is_null() | (pl.col("der_end") >= d)) & alive)
    spell = svc.filter(pl.col("der_end").is_null() | (pl.col("der_end") >= back)).group_by(
        "person_id").agg(pl.col("start").min().alias("support_start"))
    return (
        now.with_columns(pl.col("Service_Type").replace_strict(_SETTING_RANK, default=9)
                         .alias("_rank"))
        .sort("_rank", "start")
        .group_by("person_id", maintain_order=True)
        .agg(pl.col("team_id").first(), pl.col("Service_Type").first().alias("setting"),
             pl.col("ref").first())
        .join(spell, on="person_id", how="left")
    )


def _last_review(inp: Inputs, client: str) -> pl.DataFrame:
    return (
        inp.cld.filter((pl.col("Event_Type") == "REVIEW") & (pl.col("Client_Type") == client)
                       & (pl.col("der_end") <= inp.as_at))
        .group_by("person_id").agg(pl.col("der_end").max().alias("last_review"))
    )


def _overdue(inp: Inputs, client: str, types: tuple[str, ...]) -> pl.DataFrame:
    d = inp.as_at
    due_before = add_months(d, -12)
    people = _support_open(inp, client, types).join(
        _last_review(inp, client), on="person_id", how="left"
    )
    base = (
        pl.when(pl.col("last_review").is_not_null()
                & (pl.col("last_review") >= pl.col("support_start")))
        .then(pl.col("last_review")).otherwise(pl.col("support_start"))
    )
    return people.with_columns(base.alias("base")).with_columns(
        (pl.col("base") < pl.lit(due_before)).alias("overdue"),
        pl.col("base").dt.offset_by("12mo").alias("due"),
    )


@figure("R1")
def r1(inp: Inputs) -> pl.DataFrame:
    o = _overdue(inp, "SERVICE_USER", LTS)
    return o.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("base"), days=_days_to(inp.as_at, "base"),
        kind=pl.col("setting").replace_strict(_SETTING, default="other"),
        client=pl.lit("Service user"), counted=pl.col("overdue"),
    ))


@figure("R4")
def r4(inp: Inputs) -> pl.DataFrame:
    o = _overdue(inp, "SERVICE_USER", LTS).filter(pl.col("overdue"))
    return o.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("due"), days=_days_to(inp.as_at, "due"),
        kind=pl.col("setting").replace_strict(_SETTING, default="other"),
        client=pl.lit("Service user"), counted=pl.lit(True),
    ))


@figure("R2")
def r2(inp: Inputs) -> pl.DataFrame:
    j, d = inp.cld, inp.as_at
    svc = j.filter(
        (pl.col("Event_Type") == "SERVICE") & (pl.col("Client_Type") == "SERVICE_USER")
        & pl.col("Service_Type").is_in(list(LTS))
        & pl.col("start").is_between(pl.lit(add_months(d, -12)), pl.lit(d - timedelta(days=56)))
    )
    rev = j.filter((pl.col("Event_Type") == "REVIEW") & (pl.col("Client_Type") == "SERVICE_USER")
                   & (pl.col("der_end") <= d)).select("person_id", pl.col("der_end").alias("rv"))
    done = (
        svc.select("ref", "person_id", "start").join(rev, on="person_id")
        .filter(pl.col("rv").is_between(pl.col("start"), pl.col("start") + timedelta(days=56)))
        .select("ref").unique()
    )
    late = svc.join(done, on="ref", how="anti").unique("ref")
    return late.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("start"), days=_days_to(d, "start"),
        kind=pl.col("Service_Type").replace_strict(_SETTING, default="other"),
        client=pl.lit("Service user"), counted=pl.lit(True),
    ))


@figure("R3")
def r3(inp: Inputs) -> pl.DataFrame:
    j, d, y0 = inp.cld, inp.as_at, inp.year_start
    lts = _support_open(inp, "SERVICE_USER", LTS)
    lts = lts.filter(pl.col("support_start") <= pl.lit(y0))  # LTS001c: supported all year
    rev = (
        j.filter((pl.col("Event_Type") == "REVIEW") & (pl.col("Client_Type") == "SERVICE_USER")
                 & _in_year(inp, "der_end"))
        .sort("der_end")
        .group_by("person_id", maintain_order=True)
        .agg(pl.col("der_end").last().alias("rv"), pl.col("Review_Reason").last().alias("why"))
    )
    kind = (
        pl.when(pl.col("rv").is_null()).then(pl.lit("not reviewed"))
        .when(pl.col("why") == "PLANNED").then(pl.lit("planned"))
        .when(pl.col("why").str.starts_with("UNPLANNED")).then(pl.lit("unplanned"))
        .otherwise(pl.lit("reason not recorded"))
    )
    x = lts.join(rev, on="person_id", how="left")
    return x.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("rv"), days=_days_to(d, "rv"), kind=kind,
        client=pl.lit("Service user"), counted=pl.col("rv").is_not_null(),
    ))


# -- carers ----------------------------------------------------------------------------------
@figure("C1")
def c1(inp: Inputs) -> pl.DataFrame:
    a = inp.cld.filter((pl.col("Event_Type") == "ASSESSMENT") & (pl.col("Client_Type") == "CARER")
                       & _in_year(inp, "der_end"))
    kind = pl.concat_str(
        [pl.col("outcome").fill_null("NO_OUTCOME").str.to_lowercase().str.replace_all("_", " "),
         pl.lit("; eligible: "),
         pl.col("Eligible_Needs_Identified").fill_null("not recorded").str.to_lowercase()]
    )
    return a.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("start"), days=(pl.col("der_end") - pl.col("start")).dt.total_days(),
        kind=kind, client=pl.lit("Carer"), counted=pl.lit(True),
    ))


@figure("C2")
def c2(inp: Inputs) -> pl.DataFrame:
    if inp.cache.get("carer_waits") is None:
        inp.cache["carer_waits"] = dhsc.waiting_times(
            inp.cld, dhsc.Cohort(client="CARER", min_age=None, existing_clients_out=False)
        )
    w = inp.cache["carer_waits"].filter(
        pl.col("part1_wait").is_not_null() & (pl.col("response_type") == "ASSESSMENT")
        & _in_year(inp, "response_start")
    )
    return w.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("r_start"), days=pl.col("part1_wait"), kind=pl.lit("carer's assessment"),
        client=pl.lit("Carer"), counted=pl.lit(True),
    ))


LTS003 = {
    1: "direct payment",
    2: "council-managed personal budget",
    3: "council-commissioned support",
    4: "direct support, mechanism not recorded",
    5: "information and advice only",
    6: "no direct support",
}


@figure("C3")
def c3(inp: Inputs) -> pl.DataFrame:
    j, d, y0 = inp.cld, inp.as_at, inp.year_start
    ev, st = pl.col("Event_Type"), pl.col("Service_Type")
    carer = j.filter(pl.col("Client_Type") == "CARER")
    svc_in_year = (ev == "SERVICE") & (pl.col("start") <= d) & (
        pl.col("der_end").is_null() | (pl.col("der_end") >= y0))
    other_in_year = (ev != "SERVICE") & _in_year(inp, "der_end")
    direct = st == "CARER_SUPPORT_DIRECT"
    dm, sc = pl.col("Delivery_Mechanism"), pl.col("Service_Component")
    rank = (
        pl.when(svc_in_year & direct & ((dm == "DIRECT_PAYMENT") | (sc == "DIRECT_PAYMENT")))
        .then(1)
        .when(svc_in_year & direct & (dm == "CASSR_MANAGED_PERSONAL_BUDGET")).then(2)
        .when(svc_in_year & direct & (dm == "CASSR_COMMISSIONED_SUPPORT")).then(3)
        .when(svc_in_year & direct).then(4)
        .when(other_in_year & st.is_null() & (pl.col("outcome") == "NFA_INFORMATION_ADVICE"))
        .then(5)
        .when(svc_in_year & (st == "CARER_SUPPORT_INVOLVING_CARED_FOR")).then(6)
        .when(other_in_year & ev.is_in(["ASSESSMENT", "REVIEW"])).then(6)
        .otherwise(None)
    )
    best = (
        carer.with_columns(rank.alias("_rank")).filter(pl.col("_rank").is_not_null())
        .sort("_rank", "start").group_by("person_id", maintain_order=True).first()
    )
    return best.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("start"),
        kind=pl.col("_rank").replace_strict(LTS003, return_dtype=pl.String),
        client=pl.lit("Carer"), counted=pl.lit(True),
    ))


@figure("C4")
def c4(inp: Inputs) -> pl.DataFrame:
    o = _overdue(inp, "CARER", ("CARER_SUPPORT_DIRECT",))
    return o.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        start=pl.col("base"), days=_days_to(inp.as_at, "base"), kind=pl.lit("direct to carer"),
        client=pl.lit("Carer"), counted=pl.col("overdue"),
    ))


@figure("C5")
def c5(inp: Inputs) -> pl.DataFrame:
    j = inp.cld
    lts = _support_open(inp, "SERVICE_USER", LTS)
    flagged = j.filter(pl.col("Has_Unpaid_Carer") == "YES").select("person_id")
    carers = j.filter(pl.col("Client_Type").is_in(["CARER", "CARER_KNOWN_BY_ASSOCIATION"]))
    named = pl.concat([carers.select(pl.col(c).alias("person_id"))
                       for c in ("linked_1", "linked_2", "linked_3")])
    has = pl.concat([flagged, named]).drop_nulls().unique()
    x = lts.join(has.with_columns(pl.lit(True).alias("has")), on="person_id", how="left")
    return x.select(items(
        person_id=pl.col("person_id"), team_id=pl.col("team_id"), ref=pl.col("ref"),
        kind=pl.when(pl.col("has")).then(pl.lit("carer recorded"))
        .otherwise(pl.lit("no carer recorded")),
        client=pl.lit("Service user"), counted=pl.col("has").fill_null(False),
    ))
