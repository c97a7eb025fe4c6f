"""Assessment rows (rules.md sections 1 and 4): completed assessments with type, eligibility and
method. Financial assessments carry no Event_Outcome; their funding status feeds
Client_Funding_Status on later rows (see ``person.funding_status``)."""

from __future__ import annotations

import polars as pl

from pipelines.transform.common import Context, table
from pipelines.transform.staging import coded
from pipelines.transform.steps import STEP_TABLE, of_type, step_base


def assessment_details(tables: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    return table(
        tables,
        "step_assessment_details",
        step_id="id",
        eligible_code="text",
        method_code="text",
        funding_status_code="text",
    )


def build_assessments(
    steps: pl.LazyFrame, tables: dict[str, pl.DataFrame], ctx: Context
) -> pl.LazyFrame:
    financial = ctx.text_or_none("Assessment_Type", "FINANCIAL")
    is_fin = (pl.col("_assessment_type") == financial).fill_null(False)
    return (
        of_type(steps, ctx, "ASSESSMENT")
        .join(assessment_details(tables), on="step_id", how="left")
        .select(
            *step_base(steps),
            pl.col("_assessment_type").alias("Assessment_Type"),
            *coded("Assessment_Type", pl.col("step_type_code"), STEP_TABLE),
            is_fin.alias("_is_fin"),
            *coded(
                "Event_Outcome",
                pl.when(is_fin).then(None).otherwise(pl.col("outcome_code")),
                "outcome",
            ),
            *coded("Eligible_Needs_Identified", pl.col("eligible_code"), "yesno"),
            *coded("Method_of_Assessment", pl.col("method_code"), "method"),
        )
    )
