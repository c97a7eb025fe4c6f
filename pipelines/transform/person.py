"""Person attributes on every row (rules.md section 4): the latest known in the period.

* Primary_Support_Reason, Employment_Status: latest record starting by the period end.
* Postcode and Accommodation_Status: the latest address starting by the period end.
* GP practice: the latest registration starting by the period end.
* Disability flags (ASD, visual, hearing, dementia): the latest condition recorded by the period
  end that the ``condition`` mapping sends to that field; none recorded = 'Unknown' where the
  list has it.
* Has_Unpaid_Carer: 'Yes' when a carer relationship to the person is active in the period.
* Client_Funding_Status: from the latest completed financial assessment up to the event (its
  end, or the period end for open events); none = 'Unknown - Individual Level'.
* Date_of_Death: known by the period end.
"""

from __future__ import annotations

import polars as pl

from pipelines.source.tables import STEP_COMPLETED
from pipelines.transform.common import (
    CONDITION_FIELDS,
    Context,
    code_col,
    map_col,
    table,
)
from pipelines.transform.staging import coded
from pipelines.transform.steps import load_steps


def _latest(lf: pl.LazyFrame, by: str, order: list[str]) -> pl.LazyFrame:
    return lf.sort([by, *order], nulls_last=False).unique(subset=[by], keep="last")


def _latest_code(
    tables: dict[str, pl.DataFrame], ctx: Context, name: str, code: str, field_name: str
) -> pl.LazyFrame:
    id_col = {
        "person_support_reasons": "psr_id",
        "person_employment": "employment_id",
    }[name]
    src = table(
        tables, name, **{id_col: "id", "person_id": "id", code: "text", "start_date": "date"}
    )
    latest = _latest(
        src.filter(pl.col("start_date") <= pl.lit(ctx.end)), "person_id", ["start_date", id_col]
    )
    from pipelines.transform.common import FIELD_TABLES

    return latest.select("person_id", *coded(field_name, pl.col(code), FIELD_TABLES[field_name]))


def _address(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    src = table(
        tables,
        "person_addresses",
        address_id="id",
        person_id="id",
        postcode="text",
        accommodation_code="text",
        start_date="date",
    )
    latest = _latest(
        src.filter(pl.col("start_date") <= pl.lit(ctx.end)),
        "person_id",
        ["start_date", "address_id"],
    )
    return latest.select(
        "person_id",
        pl.col("postcode").alias("Postcode"),
        *coded("Accommodation_Status", pl.col("accommodation_code"), "accommodation"),
    )


def _gp(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    regs = table(
        tables,
        "person_gp_registrations",
        registration_id="id",
        person_id="id",
        practice_code="text",
        start_date="date",
    )
    practices = table(tables, "gp_practices", practice_code="text", practice_name="text")
    latest = _latest(
        regs.filter(pl.col("start_date") <= pl.lit(ctx.end)),
        "person_id",
        ["start_date", "registration_id"],
    )
    return latest.join(practices, on="practice_code", how="left").select(
        "person_id",
        pl.col("practice_code").alias("GP_Practice_Code"),
        pl.col("practice_name").alias("GP_Practice_Name"),
    )


def _conditions(tables: dict[str, pl.DataFrame], ctx: Context) -> list[pl.LazyFrame]:
    if not ctx.mappings.has("condition"):
        return []
    cond = table(
        tables,
        "person_conditions",
        condition_id="id",
        person_id="id",
        condition_code="text",
        recorded_on="date",
    ).filter(pl.col("recorded_on") <= pl.lit(ctx.end))
    mapping = ctx.mappings.table("condition")
    out = []
    for f in CONDITION_FIELDS:
        if f not in mapping.fields:
            continue
        targets = mapping.lookup(f, code_name="condition_code", value_name="_v").filter(
            pl.col("_v").is_not_null()
        )
        hits = cond.join(targets, on="condition_code", how="semi")
        latest = _latest(hits, "person_id", ["recorded_on", "condition_id"])
        out.append(latest.select("person_id", *coded(f, pl.col("condition_code"), "condition")))
    return out


def active_relationships(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    rel = table(
        tables,
        "carer_relationships",
        relationship_id="id",
        carer_person_id="id",
        cared_for_person_id="id",
        start_date="date",
        end_date="date",
        hours_caring_code="text",
    )
    return rel.filter(
        (pl.col("start_date") <= pl.lit(ctx.end))
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.lit(ctx.start)))
    )


def deaths(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    return (
        table(tables, "persons", person_id="id", date_of_death="date")
        .filter(pl.col("date_of_death") <= pl.lit(ctx.end))
        .select("person_id", "date_of_death")
    )


def person_attributes(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    """One row per person: ``_person_id`` plus person-level staging columns.

    The persons of the extract, plus anyone else in its ``person_index`` (identity only)."""
    persons = table(
        tables,
        "persons",
        person_id="id",
        nhs_number="text",
        first_name="text",
        last_name="text",
        date_of_birth="date",
        date_of_death="date",
        gender_code="text",
        ethnicity_code="text",
    )
    if "person_index" in tables:
        # People matched only through a provider feed may be outside the extract's persons
        # (no step or service of their own in the window): their identity comes from the
        # person index, so the row still says who it is about.
        index = table(
            tables,
            "person_index",
            person_id="id",
            nhs_number="text",
            date_of_birth="date",
            gender_code="text",
        ).join(persons.select("person_id"), on="person_id", how="anti")
        persons = pl.concat([persons, index], how="diagonal")
    cared_for = (
        active_relationships(tables, ctx)
        .select(pl.col("cared_for_person_id").alias("person_id"))
        .unique()
        .with_columns(pl.lit(True).alias("_has_carer"))
    )
    out = persons.select(
        "person_id",
        pl.col("nhs_number").alias("NHS_Number"),
        pl.col("person_id").cast(pl.String).alias("LA_Person_Unique_Identifier"),
        pl.col("first_name").alias("First_Name"),
        pl.col("last_name").alias("Last_Name"),
        pl.col("date_of_birth").alias("_dob"),
        pl.when(pl.col("date_of_death") <= pl.lit(ctx.end))
        .then(pl.col("date_of_death"))
        .otherwise(None)
        .alias("_dod"),
        *coded("Gender", pl.col("gender_code"), "gender"),
        *coded("Ethnicity", pl.col("ethnicity_code"), "ethnicity"),
    )
    parts = [
        _latest_code(tables, ctx, "person_support_reasons", "psr_code", "Primary_Support_Reason"),
        _latest_code(tables, ctx, "person_employment", "employment_code", "Employment_Status"),
        _address(tables, ctx),
        _gp(tables, ctx),
        cared_for,
        *_conditions(tables, ctx),
    ]
    for part in parts:
        out = out.join(part, on="person_id", how="left")
    yes, no = ctx.text("Has_Unpaid_Carer", "YES"), ctx.text("Has_Unpaid_Carer", "NO")
    defaults = []
    for f in CONDITION_FIELDS:
        unknown = ctx.text_or_none(f, "UNKNOWN")
        if code_col(f) not in out.collect_schema().names():
            out = out.with_columns(
                pl.lit(None, pl.String).alias(code_col(f)),
                pl.lit(None, pl.String).alias(map_col(f)),
            )
        defaults.append(
            pl.when(pl.col(code_col(f)).is_null()).then(pl.lit(unknown)).otherwise(None).alias(f)
        )
    return (
        out.with_columns(
            pl.when(pl.col("_has_carer").fill_null(False))
            .then(pl.lit(yes))
            .otherwise(pl.lit(no))
            .alias("Has_Unpaid_Carer"),
            *defaults,
        )
        .drop("_has_carer")
        .rename({"person_id": "_person_id"})
    )


def funding_status(
    rows: pl.LazyFrame, tables: dict[str, pl.DataFrame], ctx: Context
) -> pl.LazyFrame:
    """Add Client_Funding_Status codes from the latest financial assessment up to each event.

    Financial assessments are often years old, older than the steps the extract reads for the
    period. An extract may therefore return a ``financial_assessments`` table (person_id,
    step_id, completed_on, funding_status_code: every completed one up to the period end); it is
    used together with the assessments among the extracted steps.
    """
    from pipelines.transform.assessments import assessment_details

    from_steps = (
        load_steps(tables)
        .filter((pl.col("status_code") == STEP_COMPLETED) & pl.col("completed_on").is_not_null())
        .join(assessment_details(tables), on="step_id", how="inner")
        .select("person_id", "step_id", "completed_on", "funding_status_code")
    )
    parts = [from_steps]
    if "financial_assessments" in tables:
        parts.append(
            table(
                tables,
                "financial_assessments",
                person_id="id",
                step_id="id",
                completed_on="date",
                funding_status_code="text",
            )
        )
    fas = (
        pl.concat(parts)
        .filter(pl.col("funding_status_code").is_not_null() & pl.col("completed_on").is_not_null())
        .unique(subset=["step_id"], keep="first")
        .select(
            pl.col("person_id").alias("_person_id"),
            pl.col("completed_on").alias("_fa_on"),
            pl.col("funding_status_code").alias("_fa_code"),
            pl.col("step_id").alias("_fa_step"),
        )
        .sort("_fa_on", "_fa_step")
        .drop("_fa_step")
    )
    ref = pl.min_horizontal(pl.col("_end").fill_null(pl.lit(ctx.end)), pl.lit(ctx.end))
    unknown = ctx.text_or_none("Client_Funding_Status", "UNKNOWN")
    return (
        rows.with_columns(ref.alias("_ref"))
        .sort("_ref")
        .join_asof(
            fas,
            left_on="_ref",
            right_on="_fa_on",
            by="_person_id",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(
            *coded("Client_Funding_Status", pl.col("_fa_code"), "funding"),
            pl.when(pl.col("_fa_code").is_null())
            .then(pl.lit(unknown))
            .otherwise(None)
            .alias("Client_Funding_Status"),
        )
        .drop("_ref", "_fa_on", "_fa_code")
    )


def owners(rows: pl.LazyFrame, tables: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    """``_team_id``/``_team_name``/``_worker_name``: the step's own team and worker, else the
    allocation open at the event start (for services, feed rows and CKBA rows)."""
    alloc = (
        table(
            tables,
            "allocations",
            person_id="id",
            team_id="id",
            worker_id="id",
            start_date="date",
        )
        .rename({"person_id": "_person_id", "team_id": "_a_team", "worker_id": "_a_worker"})
        .sort("start_date")
    )
    teams = table(tables, "teams", team_id="id", team_name="text")
    workers = table(tables, "workers", worker_id="id", worker_name="text")
    return (
        # rows without an event (CKBA) take the person's latest allocation
        rows.with_columns(pl.col("_start").fill_null(pl.date(2999, 12, 31)).alias("_at"))
        .sort("_at")
        .join_asof(
            alloc,
            left_on="_at",
            right_on="start_date",
            by="_person_id",
            strategy="backward",
            check_sortedness=False,
        )
        .with_columns(
            pl.coalesce("_team_id", "_a_team").alias("_team_id"),
            pl.when(pl.col("_team_id").is_null())
            .then(pl.col("_a_worker"))
            .otherwise(pl.col("_worker_id"))
            .alias("_worker_id"),
        )
        .join(
            teams.rename({"team_id": "_team_id", "team_name": "_team_name"}),
            on="_team_id",
            how="left",
        )
        .join(
            workers.rename({"worker_id": "_worker_id", "worker_name": "_worker_name"}),
            on="_worker_id",
            how="left",
        )
        .drop("_at", "_a_team", "_a_worker", "start_date")
    )
