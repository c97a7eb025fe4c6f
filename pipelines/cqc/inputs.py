"""The pack's inputs in one shape: the case-management extract as at a date, and the CLD rows.

Two sources, as the reference says (shared/reference/cqc.md section 2):

* ``extract``: every workflow step and service agreement the extract holds, with the
  council's local codes mapped through its own mapping tables into stable CLD value KEYs
  (``PROGRESS_TO_ASSESSMENT``, ``LONG_TERM``…), so the waiting-now figures read the same
  words as the CLD rows whatever the council's codes are. Open, cancelled and in-error steps
  are kept (the figures decide).
* ``cld``: the CLD rows the build makes, for the period and for the year before it (the same
  extract reads 12 months back), de-duplicated and with DHSC's derived fields
  (:mod:`pipelines.cqc.dhsc`), every coded field as a KEY.

Everything here is person-level and stays in memory: nothing is logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from pipelines.period import Period
from pipelines.transform.common import table

# The coded CLD fields the pack reads, turned into KEYs.
KEY_FIELDS = (
    "Event_Type",
    "Client_Type",
    "Event_Outcome",
    "Assessment_Type",
    "Service_Type",
    "Review_Reason",
    "Request_Route_of_Access",
    "Primary_Support_Reason",
    "Eligible_Needs_Identified",
    "Autism_Spectrum_Disorder_ASD",
    "Delivery_Mechanism",
    "Service_Component",
    "Has_Unpaid_Carer",
)
LTS = ("LONG_TERM_NURSING", "LONG_TERM_RESIDENTIAL", "LONG_TERM_COMMUNITY", "LONG_TERM_PRISON")
SHORT_TERM = ("SHORT_TERM_ST_MAX", "SHORT_TERM_ONGOING_LOW_LEVEL", "SHORT_TERM_OTHER")


def add_months(d: date, months: int) -> date:
    """``d`` moved by whole calendar months (the day clipped to the month's end), as SQL
    Server's DATEADD(MONTH, …) does."""
    import calendar

    m = d.year * 12 + d.month - 1 + months
    y, mo = divmod(m, 12)
    return date(y, mo + 1, min(d.day, calendar.monthrange(y, mo + 1)[1]))


def months_expr(col: pl.Expr, months: int) -> pl.Expr:
    return col.dt.offset_by(f"{months}mo")


@dataclass
class Extract:
    """The case-management extract, mapped to KEYs (see the module docstring)."""

    steps: pl.DataFrame  # step_id person_id kind status started completed outcome assess_type
    #                      eligible review_reason carer team_id worker_id prev route
    services: pl.DataFrame  # agreement_id person_id service_type status start end for_carer
    persons: pl.DataFrame  # person_id dob dod
    owners: pl.DataFrame  # person_id team_id worker_id (allocation open at the as-at date)
    teams: pl.DataFrame  # team_id team_name
    workers: pl.DataFrame  # worker_id worker_name
    autism: pl.DataFrame  # person_id (recorded autism)
    psr: pl.DataFrame  # person_id psr (latest, KEY)
    carers: pl.DataFrame  # carer_person_id cared_for_person_id start end


def _keys(spec: Any, field_name: str, texts: pl.Expr) -> pl.Expr:
    """CLD texts of ``field`` (any release) → their stable KEY (null when not in the list)."""
    from cld_schema import RELEASES, load_spec

    mapping: dict[str, str] = {}
    for release in RELEASES:
        s = load_spec(release)
        try:
            values = s.values(field_name)
        except (KeyError, ValueError, LookupError):
            values = []
        for v in values:
            k = s.key(field_name, v)
            if k is not None:
                mapping.setdefault(v, k)
    del spec
    return texts.replace_strict(mapping, default=None, return_dtype=pl.String)


def _mapped(mappings: Any, table_name: str, target: str, field: str, code: str) -> pl.LazyFrame:
    """local code → KEY of ``field`` through the council's mapping table (R1 column)."""
    look = mappings.table(table_name).lookup(target, code_name=code, value_name="_text")
    return look.with_columns(_keys(None, field, pl.col("_text")).alias(f"{code}_key")).drop("_text")


def load_extract(tables: dict[str, pl.DataFrame], mappings: Any, as_at: date) -> Extract:
    """Map the extract's steps and services to KEYs (see :class:`Extract`)."""
    steps = table(
        tables,
        "workflow_steps",
        step_id="id",
        person_id="id",
        step_type_code="text",
        status_code="text",
        started_on="date",
        completed_on="date",
        outcome_code="text",
        worker_id="id",
        team_id="id",
        previous_step_id="id",
        is_carer_step="bool",
    )
    kinds = _mapped(mappings, "step_type", "Event_Type", "Event_Type", "step_type_code")
    atypes = _mapped(
        mappings, "step_type", "Assessment_Type", "Assessment_Type", "step_type_code"
    ).rename({"step_type_code_key": "assess_type"})
    outcomes = _mapped(mappings, "outcome", "Event_Outcome", "Event_Outcome", "outcome_code")
    a_det = table(tables, "step_assessment_details", step_id="id", eligible_code="text")
    elig = _mapped(mappings, "yesno", "Eligible_Needs_Identified", "Eligible_Needs_Identified",
                   "eligible_code")
    r_det = table(tables, "step_review_details", step_id="id", review_reason_code="text")
    reasons = _mapped(mappings, "review_reason", "Review_Reason", "Review_Reason",
                      "review_reason_code")
    c_det = table(tables, "step_contact_details", step_id="id", route_code="text")
    routes = _mapped(mappings, "route", "Request_Route_of_Access", "Request_Route_of_Access",
                     "route_code")
    st = (
        steps.join(kinds, on="step_type_code", how="left")
        .join(atypes, on="step_type_code", how="left")
        .join(outcomes, on="outcome_code", how="left")
        .join(a_det.join(elig, on="eligible_code", how="left"), on="step_id", how="left")
        .join(r_det.join(reasons, on="review_reason_code", how="left"), on="step_id", how="left")
        .join(c_det.join(routes, on="route_code", how="left"), on="step_id", how="left")
        .select(
            "step_id",
            "person_id",
            pl.col("step_type_code_key").alias("kind"),
            pl.col("status_code").alias("status"),
            pl.col("started_on").alias("started"),
            pl.col("completed_on").alias("completed"),
            pl.col("outcome_code_key").alias("outcome"),
            "assess_type",
            pl.col("eligible_code_key").alias("eligible"),
            pl.col("review_reason_code_key").alias("review_reason"),
            pl.col("route_code_key").alias("route"),
            pl.col("is_carer_step").alias("carer"),
            "team_id",
            "worker_id",
            pl.col("previous_step_id").alias("prev"),
        )
        .collect()
    )
    svc = table(
        tables,
        "service_agreements",
        agreement_id="id",
        person_id="id",
        service_code="text",
        status_code="text",
        start_date="date",
        end_date="date",
        for_carer="bool",
    )
    stypes = _mapped(mappings, "service", "Service_Type", "Service_Type", "service_code")
    services = (
        svc.join(stypes, on="service_code", how="left")
        .select(
            "agreement_id",
            "person_id",
            pl.col("service_code_key").alias("service_type"),
            pl.col("status_code").alias("status"),
            pl.col("start_date").alias("start"),
            pl.col("end_date").alias("end"),
            "for_carer",
        )
        .collect()
    )
    persons = table(tables, "persons", person_id="id", date_of_birth="date",
                    date_of_death="date").select(
        "person_id", pl.col("date_of_birth").alias("dob"), pl.col("date_of_death").alias("dod")
    ).unique("person_id").collect()
    alloc = table(tables, "allocations", allocation_id="id", person_id="id", team_id="id",
                  worker_id="id", start_date="date", end_date="date")
    d = pl.lit(as_at)
    owners = (
        alloc.filter((pl.col("start_date") <= d)
                     & (pl.col("end_date").is_null() | (pl.col("end_date") >= d)))
        .sort("start_date", "allocation_id")
        .group_by("person_id")
        .agg(pl.col("team_id").last(), pl.col("worker_id").last())
        .collect()
    )
    teams = table(tables, "teams", team_id="id", team_name="text").collect()
    workers = table(tables, "workers", worker_id="id", worker_name="text").collect()
    cond = table(tables, "person_conditions", person_id="id", condition_code="text",
                 recorded_on="date")
    asd = _mapped(mappings, "condition", "Autism_Spectrum_Disorder_ASD",
                  "Autism_Spectrum_Disorder_ASD", "condition_code")
    autism = (
        cond.filter(pl.col("recorded_on") <= d)
        .join(asd, on="condition_code", how="inner")
        .filter(pl.col("condition_code_key") == "YES")
        .select("person_id").unique().collect()
    )
    psr_t = table(tables, "person_support_reasons", psr_id="id", person_id="id",
                  psr_code="text", start_date="date")
    psr_map = _mapped(mappings, "psr", "Primary_Support_Reason", "Primary_Support_Reason",
                      "psr_code")
    psr = (
        psr_t.filter(pl.col("start_date") <= d)
        .join(psr_map, on="psr_code", how="left")
        .sort("start_date", "psr_id")
        .group_by("person_id")
        .agg(pl.col("psr_code_key").last().alias("psr"))
        .collect()
    )
    rel = table(tables, "carer_relationships", carer_person_id="id", cared_for_person_id="id",
                start_date="date", end_date="date").collect()
    return Extract(
        steps=st,
        services=services,
        persons=persons,
        owners=owners,
        teams=teams,
        workers=workers,
        autism=autism,
        psr=psr,
        carers=rel.rename({"start_date": "start", "end_date": "end"}),
    )


def cld_keys(frame: pl.DataFrame) -> pl.DataFrame:
    """A CLD frame (either release) as the pack reads it: dates as dates, coded fields as
    KEYs, and the internal team / step columns kept."""
    from cld_schema import load_spec

    spec = load_spec("R1")

    def d(name: str) -> pl.Expr:
        return pl.col(name).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)

    cols = set(frame.columns)
    exprs = [
        pl.col("_person_id").cast(pl.Int64, strict=False).alias("person_id"),
        pl.col("_step_id").alias("ref"),
        pl.col("_team_id").cast(pl.Int64, strict=False).alias("team_id")
        if "_team_id" in cols else pl.lit(None, pl.Int64).alias("team_id"),
        pl.col("_row").cast(pl.Int64).alias("row") if "_row" in cols
        else pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        d("Event_Start_Date").alias("start"),
        d("Event_End_Date").alias("end"),
        d("Date_of_Birth").alias("dob"),
        d("Date_of_Death").alias("dod"),
        pl.col("NHS_Number"),
        pl.col("Adult_1_Linked_Person_ID").cast(pl.Int64, strict=False).alias("linked_1"),
        pl.col("Adult_2_Linked_Person_ID").cast(pl.Int64, strict=False).alias("linked_2"),
        pl.col("Adult_3_Linked_Person_ID").cast(pl.Int64, strict=False).alias("linked_3"),
    ]
    for f in KEY_FIELDS:
        expr = pl.col(f) if f in cols else pl.lit(None, pl.String)
        exprs.append(_keys(spec, f, expr).alias(f))
    return frame.select(exprs)


@dataclass
class Inputs:
    """Everything a figure may read (see the module docstring)."""

    as_at: date
    period: Period
    extract: Extract
    cld: pl.DataFrame  # DHSC-cleaned, de-duplicated CLD rows of the period and the year before
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def year_start(self) -> date:
        """First day of the 12 months ending at the as-at date."""
        return add_months(self.as_at, -12) + timedelta(days=1)
