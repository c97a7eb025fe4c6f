"""The staging shape: every builder (requests, assessments, reviews, services, feeds, carers
known by association) returns rows in exactly these columns so they stack with one concat."""

from __future__ import annotations

import polars as pl

from pipelines.transform.common import code_col, map_col

# Event-level fields that come from a local code through a mapping table.
EVENT_CODED = (
    "Event_Type",
    "Assessment_Type",
    "Event_Outcome",
    "Request_Route_of_Access",
    "Eligible_Needs_Identified",
    "Method_of_Assessment",
    "Method_of_Review",
    "Review_Reason",
    "Review_Outcomes_Achieved",
    "Service_Type",
    "Service_Component",
    "Delivery_Mechanism",
    "Cost_Frequency_Unit_Type",
)

# Event-level fields whose text a builder may set directly (rules or plain data).
EVENT_DIRECT = (
    "Event_Type",
    "Event_Reference",
    "Event_Description",
    "Event_Outcome",
    "Assessment_Type",
    "Request_Route_of_Access",
    "Review_Reason",
    "Service_Type",
    "Service_Component",
    "Primary_Support_Reason",
    "Provider_CQC_Location_ID",
    "Provider_CQC_Location_Name",
    "Unit_Cost",
    "Planned_units_per_week",
)

STAGING: dict[str, pl.DataType] = {
    "_person_id": pl.Int64(),
    "_step_id": pl.String(),
    "_source": pl.String(),
    "_team_id": pl.Int64(),
    "_worker_id": pl.Int64(),
    "_client": pl.String(),
    "_start": pl.Date(),
    "_end": pl.Date(),
    "_is_fin": pl.Boolean(),
}
for _f in EVENT_DIRECT:
    STAGING[_f] = pl.String()
for _f in EVENT_CODED:
    STAGING[code_col(_f)] = pl.String()
    STAGING[map_col(_f)] = pl.String()


def conform(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Add any staging column the builder did not set (as null) and order them."""
    have = set(lf.collect_schema().names())
    missing = [
        pl.lit(None, dtype).alias(name) for name, dtype in STAGING.items() if name not in have
    ]
    return lf.with_columns(missing).select(
        [pl.col(name).cast(dtype) for name, dtype in STAGING.items()]
    )


def coded(field_name: str, code: pl.Expr, table: str) -> list[pl.Expr]:
    """The two staging columns of a mapped field: the local code and its mapping table."""
    return [
        code.cast(pl.String).alias(code_col(field_name)),
        pl.when(code.is_not_null()).then(pl.lit(table)).otherwise(None).alias(map_col(field_name)),
    ]
