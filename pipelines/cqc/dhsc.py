"""DHSC's waiting-times method, reimplemented in polars for one council's own CLD rows.

Source read (not copied): github:DataS-DHSC/ASC-CLD-LA-Dashboard at commit
9bee728f40102c4f6cee25a5511c5144c2209b4c —

* ``Waiting_times/waiting_times_method.sql`` (v1.1, 19 May 2026, "provisional and subject to
  change"): stages 1-4, implemented stage by stage below and named in the comments;
* the joined table it reads, as ``Main_tables/create_main_table_for_period.sql`` builds it:
  ``Stored_procedures/create_FilterToEventsInPeriod_procedure.sql`` (death-adjusted end
  date, events in each reference period), ``create_GetDerivedFields_procedure.sql`` (person
  key, cleaned R2 values, ages, the unique-event reference) and
  ``create_GetUniqueEvents_procedure.sql`` (one row per unique event, 'Joined' ranking).

What cannot be reproduced from a council's own data, and what this module does instead
(docs/cqc.md lists them): ``Der_Conversation`` is derived centrally and its derivation is not
public, so it is 0 for every row (the stage 3.1 override never applies); the traced NHS number
pseudonym is not available, so the person key is the submitted NHS number, else the council's
person id; ``ImportDate`` orders submissions, here the reference period's end does.
GetDerivedFields' closing of services "ongoing at the end of a reference period and not found
in the next" never applies here: both periods' rows come from the same extract, so a service
open at the earlier period's end is in the later period's rows too (and the later row wins).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import yaml

DATA = Path(__file__).with_name("dhsc.yaml")


@functools.cache
def settings() -> dict:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))


@functools.cache
def _outcome_r2() -> dict[str, str]:
    """Event_Outcome KEY (either release) → the KEY of its cleaned Release 2 value, as DHSC's
    REF_Event_Outcome_Mapping gives it; R1-only values → ``R1_ONLY`` ('Release 1
    specification only: Not mapped')."""
    from cld_schema import load_spec

    r1, r2 = load_spec("R1"), load_spec("R2")
    out: dict[str, str] = {}
    for text, r2_text in r2.r1_to_r2("Event_Outcome").items():
        out[r1.key("Event_Outcome", text)] = (
            r2.key("Event_Outcome", r2_text) if r2_text else "R1_ONLY"
        )
    for text in r2.values("Event_Outcome"):
        k = r2.key("Event_Outcome", text)
        out.setdefault(k, k)
    return out


@functools.cache
def _outcome_group() -> dict[str, str]:
    """Cleaned R2 outcome KEY → DHSC's Event_Outcome_Grouped ('NFA' for every NFA value,
    'Admitted to hospital'; otherwise the value itself)."""
    from cld_schema import load_spec

    r2 = load_spec("R2")
    out = {}
    for text in r2.values("Event_Outcome"):
        k = r2.key("Event_Outcome", text)
        out[k] = "NFA" if text.upper().startswith("NFA") else k
    out["R1_ONLY"] = "R1_ONLY"
    return out


def _age(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """DHSC's age: whole years from the 1st of the birth month, days / 365.25 floored
    (GetDerivedFields, Der_Latest_Age)."""
    first = born.dt.truncate("1mo")
    return ((on - first).dt.total_days() / 365.25).floor().cast(pl.Int64)


def working_band(age: pl.Expr) -> pl.Expr:
    return (
        pl.when(age < 18).then(pl.lit("Under 18"))
        .when(age <= 64).then(pl.lit("18 to 64"))
        .when(age >= 65).then(pl.lit("65 and above"))
        .otherwise(pl.lit("Unknown"))
    )


def joined_table(parts: list[tuple[date, date, pl.DataFrame]]) -> pl.DataFrame:
    """DHSC's joined, cleaned and de-duplicated table from one or more reference periods.

    ``parts``: (reference period start, end, CLD rows as :func:`inputs.cld_keys` gives them).
    """
    frames = []
    for ref_start, ref_end, rows in parts:
        s, e = pl.lit(ref_start), pl.lit(ref_end)
        start, end, dod = pl.col("start"), pl.col("end"), pl.col("dod")
        is_service = pl.col("Event_Type") == "SERVICE"
        der_end = (
            pl.when(dod.is_between(start, end) | ((dod > start) & end.is_null()))
            .then(dod).otherwise(end)
        )
        f = (
            rows.with_columns(der_end.alias("der_end"), s.alias("ref_start"), e.alias("ref_end"))
            # FilterToEventsInPeriod: req/ass/rev ending in the period, services overlapping it
            .filter(
                (
                    (~is_service & pl.col("der_end").is_between(s, e) & (start <= e))
                    | (is_service & ((pl.col("der_end") >= s) | pl.col("der_end").is_null())
                       & (start <= e))
                )
                & (dod.is_null() | ((dod >= s) & (dod >= start)))
            )
        )
        frames.append(f)
    if not frames:
        raise ValueError("no CLD rows")
    rows = pl.concat(frames, how="vertical_relaxed")
    out_r2, group = _outcome_r2(), _outcome_group()
    hierarchy = settings()["outcome_hierarchy"]
    ev = pl.col("Event_Type")
    rows = rows.with_columns(
        # GetDerivedFields: traced NHS number, else submitted NHS number, else LA id
        pl.coalesce(pl.col("NHS_Number"), pl.lit("LA_") + pl.col("person_id").cast(pl.String))
        .alias("pid"),
        pl.col("Event_Outcome").replace_strict(out_r2, default=None, return_dtype=pl.String)
        .alias("outcome"),
    ).with_columns(
        pl.col("outcome").replace_strict(group, default=None, return_dtype=pl.String)
        .alias("outcome_group"),
        pl.col("outcome").replace_strict(hierarchy, default=999, return_dtype=pl.Int64)
        .alias("hierarchy"),
        pl.lit(0, pl.Int8).alias("conversation"),
        _age(pl.col("dob"), pl.col("start")).alias("age_start"),
        _age(
            pl.col("dob"),
            pl.when(ev == "SERVICE")
            .then(pl.coalesce(pl.col("der_end"), pl.col("ref_end")))
            .otherwise(pl.col("der_end")),
        ).alias("age_latest"),
    ).with_columns(working_band(pl.col("age_latest")).alias("band"))
    # GetUniqueEvents ('Joined'): one row per unique event reference
    key = [
        pl.col("start"),
        pl.when(ev != "SERVICE").then(pl.col("der_end")).alias("_k_end"),
        pl.col("Client_Type"),
        pl.col("pid"),
        ev,
        pl.when(ev == "REQUEST").then(pl.col("Request_Route_of_Access")).alias("_k_route"),
        pl.when(ev == "ASSESSMENT").then(pl.col("Assessment_Type")).alias("_k_at"),
        pl.when(ev == "SERVICE").then(pl.col("Service_Type")).alias("_k_st"),
        pl.when(ev == "SERVICE").then(pl.col("Service_Component")).alias("_k_sc"),
    ]
    far = pl.lit(date(9999, 1, 1))
    return (
        rows.with_columns(key[1], *key[5:])
        .sort(
            [
                pl.col("ref_end"),
                pl.coalesce(pl.col("der_end"), far),
                pl.col("hierarchy"),
                pl.col("conversation"),
                pl.col("row"),
            ],
            descending=[True, True, False, True, True],
            nulls_last=True,
        )
        .unique(
            subset=["start", "_k_end", "Client_Type", "pid", "Event_Type", "_k_route", "_k_at",
                    "_k_st", "_k_sc"],
            keep="first",
            maintain_order=True,
        )
        .drop("_k_end", "_k_route", "_k_at", "_k_st", "_k_sc")
    )


LTS = ("LONG_TERM_NURSING", "LONG_TERM_RESIDENTIAL", "LONG_TERM_COMMUNITY", "LONG_TERM_PRISON")
SHORT = ("SHORT_TERM_ST_MAX", "SHORT_TERM_ONGOING_LOW_LEVEL", "SHORT_TERM_OTHER")


@dataclass(frozen=True)
class Cohort:
    """Who the method is run for: DHSC's service-user cohort, or carers (figure C2)."""

    client: str = "SERVICE_USER"
    min_age: int | None = 25
    existing_clients_out: bool = True


def waiting_times(joined: pl.DataFrame, cohort: Cohort = Cohort()) -> pl.DataFrame:
    """Stages 1-4 of ``waiting_times_method.sql``: one row per request with its first
    response and first service, the waits (``part1_wait`` / ``part2_wait``, null when the
    request is left out) and the age band of the response and service events."""
    s = settings()
    history_start = date.fromisoformat(str(s["history_start"]))
    ev, st = pl.col("Event_Type"), pl.col("Service_Type")
    # 1.2 assessments (short/long term) and the services of interest
    acts = joined.filter(
        ((ev == "ASSESSMENT") & pl.col("Assessment_Type").is_in(["SHORT_TERM", "LONG_TERM"]))
        | ((ev == "SERVICE") & st.is_in([*LTS, *SHORT]))
    )
    # 1.3a requests of the cohort's client type starting on/after the start of CLD
    req = joined.filter(
        (ev == "REQUEST") & (pl.col("Client_Type") == cohort.client)
        & (pl.col("start") >= pl.lit(history_start))
    )
    # 1.3b age at the request's start; the band as DHSC relabels it
    if cohort.min_age is not None:
        req = req.filter(pl.col("age_start") >= cohort.min_age)
    relabel = pl.col("band").replace({"18 to 64": "25 to 64"})
    req = req.with_columns(relabel.alias("mband"))
    # 1.3c existing clients out: a service that started before the request and ends within
    # 12 months (LTS) / 3 months (ST-Max, other short term) before it, after it, or is open
    if cohort.existing_clients_out:
        svc = acts.filter(ev == "SERVICE").select(
            "pid", pl.col("Service_Type").alias("s_type"), pl.col("start").alias("s_start"),
            pl.col("der_end").alias("s_end"),
        )
        r = req.with_row_index("_rid")
        hits = (
            r.select("_rid", "pid", pl.col("start").alias("r_start"))
            .join(svc, on="pid", how="inner")
            .filter(
                (pl.col("s_start") < pl.col("r_start"))
                & (
                    (pl.col("s_type").is_in(LTS)
                     & ((pl.col("s_end") >= pl.col("r_start").dt.offset_by("-12mo"))
                        | pl.col("s_end").is_null()))
                    | (pl.col("s_type").is_in(["SHORT_TERM_ST_MAX", "SHORT_TERM_OTHER"])
                       & ((pl.col("s_end") >= pl.col("r_start").dt.offset_by("-3mo"))
                          | pl.col("s_end").is_null()))
                )
            )
            .select("_rid").unique()
        )
        req = r.join(hits, on="_rid", how="anti").drop("_rid")
    # 1.4 requests whose outcome does not indicate progress out (NULL fails NOT IN, as in SQL)
    req = req.filter(
        pl.col("outcome_group").is_not_null()
        & ~pl.col("outcome_group").is_in(["NFA", "ADMITTED_TO_HOSPITAL"])
    )
    # 2.1 one chronology per person: requests, then assessments, then services on a day
    others = acts
    if cohort.min_age is not None:
        others = others.filter(pl.col("age_start") >= cohort.min_age)
    others = others.with_columns(relabel.alias("mband"))
    prio = ev.replace_strict({"REQUEST": 1, "ASSESSMENT": 2, "SERVICE": 3}, default=4,
                             return_dtype=pl.Int64)
    u = (
        pl.concat([req, others], how="vertical_relaxed")
        .with_columns(prio.alias("_prio"))
        .sort(["pid", "start", "_prio", "ref_end", "row"],
              descending=[False, False, False, True, True])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("pid").alias("order"))
    )
    # 2.2 people with no valid request out
    u = u.filter((ev == "REQUEST").any().over("pid"))
    # 2.3a progress flags
    progress_svc = ["PROGRESS_TO_REABLEMENT", "PROGRESS_TO_SUPPORT_PLANNING",
                    "CONTINUATION_OF_SUPPORT"]
    out = pl.col("outcome")
    u = u.with_columns(
        pl.when(ev == "ASSESSMENT").then(out.is_in(progress_svc).fill_null(False).cast(pl.Int8))
        .alias("a_prog_svc"),
        pl.when(ev == "REQUEST")
        .then(out.is_in([*progress_svc, "PROGRESS_TO_ASSESSMENT_REVIEW_OR_REASSESSMENT",
                         "R1_ONLY"]).fill_null(False).cast(pl.Int8))
        .alias("r_prog"),
    )
    # 2.3b consecutive assessments form a block; the block indicates progress to a service
    # when any of its assessments does
    u = u.sort("pid", "order").with_columns(
        (ev != "ASSESSMENT").cast(pl.Int64).cum_sum().over("pid").alias("_block")
    ).with_columns(
        pl.when(ev == "ASSESSMENT")
        .then(pl.col("a_prog_svc").max().over("pid", "_block")).alias("block_prog_svc")
    )
    # 2.4 each request's first later assessment and first later service
    reqs = u.filter(ev == "REQUEST").select(
        "pid", "person_id", "team_id", pl.col("order").alias("r_order"),
        pl.col("start").alias("r_start"), "r_prog", "conversation", "mband", "ref",
    )
    later = u.filter(ev != "REQUEST").select(
        "pid", "order", "Event_Type", "start", "mband", "block_prog_svc", "Service_Type",
        "Assessment_Type",
    )

    def first_after(kind: str, prefix: str) -> pl.DataFrame:
        cand = later.filter(pl.col("Event_Type") == kind)
        j = reqs.select("pid", "r_order").join(cand, on="pid", how="inner").filter(
            pl.col("order") > pl.col("r_order")
        )
        j = j.sort("order").group_by("pid", "r_order", maintain_order=True).first()
        return j.select(
            "pid", "r_order",
            *[pl.col(c).alias(f"{prefix}{c}") for c in
              ("order", "start", "mband", "block_prog_svc", "Service_Type", "Assessment_Type")],
        )

    b = (
        reqs.join(first_after("ASSESSMENT", "a_"), on=["pid", "r_order"], how="left")
        .join(first_after("SERVICE", "s_"), on=["pid", "r_order"], how="left")
    )
    # 3.1 an R1 request flagged as an initial conversation that indicates progress acts as
    # its own response (Der_Conversation is 0 here: see the module docstring)
    r2_from = date.fromisoformat(str(s["release2_from"]))
    c1 = (
        ((pl.col("r_start") < pl.col("a_start")) | pl.col("a_start").is_null())
        & (pl.col("conversation") == 1) & (pl.col("r_prog") == 1)
        & (pl.col("r_start") < pl.lit(r2_from))
    )
    b = b.with_columns(
        pl.when(c1).then(pl.col("r_order")).otherwise(pl.col("a_order")).alias("t_order"),
        pl.when(c1).then(pl.lit("REQUEST")).otherwise(
            pl.when(pl.col("a_order").is_not_null()).then(pl.lit("ASSESSMENT"))
        ).alias("t_type"),
        pl.when(c1).then(pl.col("r_start")).otherwise(pl.col("a_start")).alias("t_start"),
        pl.when(c1).then(pl.col("mband")).otherwise(pl.col("a_mband")).alias("t_mband"),
        pl.when(c1).then(None).otherwise(pl.col("a_block_prog_svc")).alias("t_block"),
        pl.when(c1).then(None).otherwise(pl.col("a_Assessment_Type")).alias("t_atype"),
    )
    # 3.2 a service that comes before the first assessment is the first response
    svc_first = (
        (pl.col("t_order") > pl.col("s_order"))
        | (pl.col("t_order").is_null() & pl.col("s_order").is_not_null())
    ).fill_null(False)
    b = b.with_columns(
        pl.when(svc_first).then(pl.col("s_order")).otherwise(pl.col("t_order")).alias("m_order"),
        pl.when(svc_first).then(pl.lit("SERVICE")).otherwise(pl.col("t_type")).alias("m_type"),
        pl.when(svc_first).then(pl.col("s_start")).otherwise(pl.col("t_start")).alias("m_start"),
        pl.when(svc_first).then(pl.col("s_mband")).otherwise(pl.col("t_mband")).alias("m_mband"),
        pl.when(svc_first).then(None).otherwise(pl.col("t_block")).alias("m_block"),
        pl.when(svc_first).then(None).otherwise(pl.col("t_atype")).alias("m_atype"),
    )
    # 3.3 no service for part 2 when the assessment block in between did not indicate one
    no_svc = ((pl.col("m_type") == "ASSESSMENT") & (pl.col("m_block") == 0)).fill_null(False)
    b = b.with_columns(
        *[pl.when(no_svc).then(None).otherwise(pl.col(f"s_{c}")).alias(f"ms_{c}")
          for c in ("order", "start", "mband", "Service_Type")]
    )
    # 3.4 requests overlapping the follow-up of an earlier request out
    b = b.sort("pid", "r_order")
    greatest = pl.max_horizontal("m_order", "ms_order")
    # MAX() OVER (… ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), nulls ignored, else 0
    prev_m = pl.col("m_order").cum_max().forward_fill().shift(1).over("pid").fill_null(0)
    prev_s = pl.col("ms_order").cum_max().forward_fill().shift(1).over("pid").fill_null(0)
    b = b.with_columns(
        greatest.shift(1).over("pid").alias("_lag"),
        prev_m.alias("_prev_m"),
        prev_s.alias("_prev_s"),
    ).with_columns(
        (
            (pl.col("_lag") > pl.col("r_order")).fill_null(False)
            | (pl.col("m_order") <= pl.col("_prev_m")).fill_null(False)
            | (pl.col("ms_order") <= pl.col("_prev_s")).fill_null(False)
        ).alias("overlaps")
    )
    # 4.1 the waits
    keep = ~pl.col("overlaps")
    return b.with_columns(
        pl.when(keep).then((pl.col("m_start") - pl.col("r_start")).dt.total_days())
        .alias("part1_wait"),
        pl.when(keep).then((pl.col("ms_start") - pl.col("r_start")).dt.total_days())
        .alias("part2_wait"),
    ).select(
        "pid", "person_id", "team_id", "ref", "r_start", "r_prog", "overlaps",
        pl.col("m_type").alias("response_type"), pl.col("m_atype").alias("response_assessment"),
        pl.col("m_start").alias("response_start"), pl.col("m_mband").alias("response_band"),
        pl.col("ms_start").alias("service_start"), pl.col("ms_Service_Type").alias("service_type"),
        pl.col("ms_mband").alias("service_band"), "part1_wait", "part2_wait",
    )


def quarter_start(col: pl.Expr) -> pl.Expr:
    return col.dt.truncate("1q")


def la_medians(waits: pl.DataFrame) -> pl.DataFrame:
    """Stage 4.2: median waits (PERCENTILE_CONT 0.5) and counts per quarter of the response /
    service event, for the 25-64 and 65+ bands."""
    bands = ["25 to 64", "65 and above"]
    parts = []
    for metric, wait, when, band in (
        ("Wait time to first response", "part1_wait", "response_start", "response_band"),
        ("Wait time to first service", "part2_wait", "service_start", "service_band"),
    ):
        parts.append(
            waits.filter(pl.col(wait).is_not_null() & pl.col(band).is_in(bands))
            .group_by(quarter_start(pl.col(when)).alias("quarter_start"),
                      pl.col(band).alias("age_band"))
            .agg(
                pl.lit(metric).alias("metric"),
                pl.col(wait).median().alias("median_days"),
                pl.len().cast(pl.Int64).alias("waits"),
            )
        )
    return pl.concat(parts).sort("metric", "quarter_start", "age_band").select(
        "metric", "quarter_start", "age_band", "median_days", "waits"
    )
