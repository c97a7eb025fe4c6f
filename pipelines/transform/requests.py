"""Request rows (rules.md sections 1 and 4): completed contacts with their route of access.

Carers' requests with no route recorded get 'Community / Other route', the guidance default
(rules.md 4, Request_Route_of_Access).
"""

from __future__ import annotations

import polars as pl

from pipelines.transform.common import Context, table
from pipelines.transform.staging import coded
from pipelines.transform.steps import of_type, step_base


def build_requests(
    steps: pl.LazyFrame, tables: dict[str, pl.DataFrame], ctx: Context
) -> pl.LazyFrame:
    details = table(
        tables, "step_contact_details", step_id="id", route_code="text", description="text"
    )
    carer_default = ctx.text("Request_Route_of_Access", "COMMUNITY_OTHER_ROUTE")
    return (
        of_type(steps, ctx, "REQUEST")
        .join(details, on="step_id", how="left")
        .select(
            *step_base(steps),
            pl.col("description").alias("Event_Description"),
            *coded("Event_Outcome", pl.col("outcome_code"), "outcome"),
            *coded("Request_Route_of_Access", pl.col("route_code"), "route"),
            pl.when(pl.col("route_code").is_null() & pl.col("is_carer_step"))
            .then(pl.lit(carer_default))
            .otherwise(None)
            .alias("Request_Route_of_Access"),
        )
    )
