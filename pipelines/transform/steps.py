"""Workflow steps in scope (rules.md section 1): requests, assessments and reviews *completed*
in the reporting period (the start may be earlier); open, cancelled (``CANC``) and in-error
(``ERR``) steps out; steps whose type the ``step_type`` mapping leaves without an
``Event_Type`` (safeguarding, DoLS, mental capacity, Mental Health Act) out.

Which step types are out of scope is data (a blank ``Event_Type`` in ``step_type.csv``), never
a list of codes here. A step type with no row at all is *unmapped*: reported with its count and
left out (it cannot be placed as an event).
"""

from __future__ import annotations

import polars as pl

from pipelines.source.tables import STEP_CANCELLED, STEP_COMPLETED, STEP_IN_ERROR, STEP_OPEN
from pipelines.transform.common import (
    CARER,
    ENGINE,
    SERVICE_USER,
    Context,
    table,
)
from pipelines.transform.staging import coded

STEP_TABLE = "step_type"


def load_steps(tables: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    return table(
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
        is_carer_step="bool",
    )


def _exclusion_reason(ctx: Context) -> pl.Expr:
    """Why a step is left out (null = it goes in). Steps of other periods are not counted."""
    s, e = pl.lit(ctx.start), pl.lit(ctx.end)
    status, done, began = pl.col("status_code"), pl.col("completed_on"), pl.col("started_on")
    in_window = (
        done.is_between(s, e)
        | (done.is_null() & began.is_between(s, e))
        | ((status == STEP_OPEN) & (began <= e) & done.is_null())
    )
    return (
        pl.when(~in_window)
        .then(pl.lit("outside_period"))
        .when(status == STEP_CANCELLED)
        .then(pl.lit("cancelled"))
        .when(status == STEP_IN_ERROR)
        .then(pl.lit("in_error"))
        .when(~pl.col("_type_known"))
        .then(pl.lit("unmapped_step_type"))
        .when(pl.col("_event_type").is_null())
        .then(pl.lit("out_of_scope_step_type"))
        .when(status != STEP_COMPLETED)
        .then(pl.lit("not_completed"))
        .otherwise(None)
    )


def in_scope_steps(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    """Steps that become CLD rows, with ``_event_type`` / ``_assessment_type`` (R1 texts).

    A completed step without a completion date stays in when it started in the period: the
    blank end date is then a data-quality finding for the checks, not silently dropped.
    """
    mapping = ctx.mappings.table(STEP_TABLE)
    types = mapping.frame.lazy().select(
        pl.col("local_code").alias("step_type_code"),
        pl.col("Event_Type").alias("_event_type"),
        (
            pl.col("Assessment_Type")
            if "Assessment_Type" in mapping.frame.columns
            else pl.lit(None, pl.String)
        ).alias("_assessment_type"),
        pl.lit(True).alias("_type_known"),
    )
    steps = (
        load_steps(tables)
        .join(types, on="step_type_code", how="left")
        .with_columns(pl.col("_type_known").fill_null(False))
        .with_columns(_exclusion_reason(ctx).alias("_reason"))
    )
    left_out = (
        steps.filter(pl.col("_reason").is_not_null() & (pl.col("_reason") != "outside_period"))
        .select("_reason", "step_type_code")
        .collect(engine=ENGINE)
    )
    ctx.count_excluded(left_out.group_by("_reason").len())
    ctx.unmapped_early.append(
        left_out.filter(pl.col("_reason") == "unmapped_step_type")
        .group_by("step_type_code")
        .len()
        .select(
            pl.lit(mapping.file).alias("mapping"),
            pl.lit("Event_Type").alias("field"),
            pl.col("step_type_code").alias("code"),
            pl.col("len").cast(pl.Int64).alias("rows"),
        )
    )
    return steps.filter(pl.col("_reason").is_null()).drop("_reason", "_type_known")


def step_base(steps: pl.LazyFrame) -> list[pl.Expr]:
    """Columns every step row has, whatever its event type."""
    return [
        pl.col("person_id").alias("_person_id"),
        pl.col("step_id").cast(pl.String).alias("_step_id"),
        pl.lit("db").alias("_source"),
        pl.col("team_id").alias("_team_id"),
        pl.col("worker_id").alias("_worker_id"),
        pl.when(pl.col("is_carer_step"))
        .then(pl.lit(CARER))
        .otherwise(pl.lit(SERVICE_USER))
        .alias("_client"),
        pl.col("started_on").alias("_start"),
        pl.col("completed_on").alias("_end"),
        pl.col("_event_type").alias("Event_Type"),
        pl.col("step_id").cast(pl.String).alias("Event_Reference"),
        *coded("Event_Type", pl.col("step_type_code"), STEP_TABLE),
    ]


def of_type(steps: pl.LazyFrame, ctx: Context, key: str) -> pl.LazyFrame:
    return steps.filter(pl.col("_event_type") == ctx.text("Event_Type", key))
