"""Review rows (rules.md sections 1 and 4): completed reviews with reason, method and outcomes.
Carers' reviews with no reason recorded are 'Planned' (the guidance default)."""

from __future__ import annotations

import polars as pl

from pipelines.transform.common import Context, table
from pipelines.transform.staging import coded
from pipelines.transform.steps import of_type, step_base


def build_reviews(
    steps: pl.LazyFrame, tables: dict[str, pl.DataFrame], ctx: Context
) -> pl.LazyFrame:
    details = table(
        tables,
        "step_review_details",
        step_id="id",
        review_reason_code="text",
        method_code="text",
        outcomes_code="text",
    )
    planned = ctx.text("Review_Reason", "PLANNED")
    return (
        of_type(steps, ctx, "REVIEW")
        .join(details, on="step_id", how="left")
        .select(
            *step_base(steps),
            *coded("Event_Outcome", pl.col("outcome_code"), "outcome"),
            *coded("Review_Reason", pl.col("review_reason_code"), "review_reason"),
            pl.when(pl.col("review_reason_code").is_null() & pl.col("is_carer_step"))
            .then(pl.lit(planned))
            .otherwise(None)
            .alias("Review_Reason"),
            *coded("Method_of_Review", pl.col("method_code"), "method"),
            *coded("Review_Outcomes_Achieved", pl.col("outcomes_code"), "outcomes_met"),
        )
    )
