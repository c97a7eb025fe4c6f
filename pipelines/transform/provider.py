"""Provider feed rows as CLD rows (rules.md section 1: carers in contact through a commissioned
provider count; equipment is a service).

Only rows the feed reader matched to a person arrive here (``FeedResult.frames``; unmatched
rows are listed for the provider by ``pipelines.source.feeds``).

* Carers' centre (``carers``): the carer's own activity, Client_Type Carer. ``Activity Type``
  goes through ``carers_activity.csv`` (Event_Type, Assessment_Type, Review_Reason, methods…),
  ``Support Type`` through ``carers_support.csv`` (Service_Type, Service_Component, …),
  ``Outcome`` through ``carers_outcome.csv`` (Event_Outcome, Review_Outcomes_Achieved): every
  event field a table has a column for. Assessments and reviews count when completed in
  the period; support when active in it. A support type the mapping gives no Service_Type
  (information and advice, peer groups) is not a CLD service and is left out, counted.
* Community equipment (``equipment``): a service of the person it was delivered to, from the
  installation (else delivery) date to the collection date ('Service ended as planned' once
  collected, 'Provision of service' while in place); cancelled orders out. ``Item Code`` goes
  through ``equipment_item.csv``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from pipelines.transform.common import CARER, SERVICE_USER, Context
from pipelines.transform.services import money
from pipelines.transform.staging import EVENT_CODED, coded

CARERS, EQUIPMENT = "carers", "equipment"


def coded_from(ctx: Context, table_name: str, code: pl.Expr) -> list[pl.Expr]:
    """Every event field the mapping table carries, coded from one feed column (the table's
    columns say which fields a provider code feeds, e.g. Delivery_Mechanism for equipment)."""
    if not ctx.mappings.has(table_name):
        return []
    fields = [f for f in ctx.mappings.table(table_name).fields if f in EVENT_CODED]
    return [e for f in fields for e in coded(f, code, table_name)]


def _step_id() -> pl.Expr:
    return pl.format("feed:{}:{}", pl.col("_file"), pl.col("_line"))


def _active(ctx: Context) -> pl.Expr:
    return (pl.col("_start") <= pl.lit(ctx.end)) & (
        pl.col("_end").is_null() | (pl.col("_end") >= pl.lit(ctx.start))
    )


def _open_outcome(ctx: Context) -> pl.Expr:
    open_at_end = pl.col("_end").is_null() | (pl.col("_end") > pl.lit(ctx.end))
    return pl.when(open_at_end).then(pl.lit(ctx.text("Event_Outcome", "PROVISION_OF_SERVICE")))


def _carers(frame: pl.DataFrame, ctx: Context) -> pl.LazyFrame | None:
    if not ctx.mappings.has("carers_activity"):
        return None
    activity = ctx.mappings.table("carers_activity")
    kinds = activity.frame.lazy().select(
        pl.col("local_code").alias("Activity Type"),
        pl.col("Event_Type").alias("_event_type"),
    )
    support = (
        ctx.mappings.table("carers_support")
        .frame.lazy()
        .select(
            pl.col("local_code").alias("Support Type"),
            pl.col("Service_Type").alias("_service_type"),
        )
        if ctx.mappings.has("carers_support")
        else pl.LazyFrame(schema={"Support Type": pl.String, "_service_type": pl.String})
    )
    service, s, e = ctx.text("Event_Type", "SERVICE"), pl.lit(ctx.start), pl.lit(ctx.end)
    rows = (
        frame.lazy()
        .join(kinds, on="Activity Type", how="left")
        .join(support, on="Support Type", how="left")
        .with_columns(
            pl.col("Activity Start Date").alias("_start"),
            pl.col("Activity End Date").alias("_end"),
        )
    )
    is_service = pl.col("_event_type") == service
    reason = (
        pl.when(is_service & ~_active(ctx))
        .then(pl.lit("outside_period"))
        .when(~is_service & ~pl.col("_end").is_between(s, e).fill_null(False))
        .then(
            pl.when(pl.col("_end").is_null() & (pl.col("_start") <= e))
            .then(pl.lit("feed_not_completed"))
            .otherwise(pl.lit("outside_period"))
        )
        .when(pl.col("_event_type").is_null())
        .then(pl.lit("feed_activity_not_mapped"))
        .when(is_service & pl.col("_service_type").is_null())
        .then(pl.lit("feed_support_not_a_service"))
        .otherwise(None)
    )
    rows = rows.with_columns(reason.alias("_reason"))
    rows = ctx.keep_included(rows)
    return rows.select(
        pl.col("_person_id").cast(pl.Int64),
        _step_id().alias("_step_id"),
        pl.lit("carers_feed").alias("_source"),
        pl.lit(CARER).alias("_client"),
        "_start",
        pl.when(is_service & (pl.col("_end") > e))
        .then(None)
        .otherwise(pl.col("_end"))
        .alias("_end"),
        pl.col("_event_type").alias("Event_Type"),
        pl.col("Record ID").alias("Event_Reference"),
        *coded_from(ctx, "carers_activity", pl.col("Activity Type")),
        pl.when(is_service).then(_open_outcome(ctx)).alias("Event_Outcome"),
        *coded_from(
            ctx,
            "carers_outcome",
            pl.when(is_service & (pl.col("_end").is_null() | (pl.col("_end") > e)))
            .then(None)
            .otherwise(pl.col("Outcome")),
        ),
        *coded_from(ctx, "carers_support", pl.when(is_service).then(pl.col("Support Type"))),
    )


def _equipment(frame: pl.DataFrame, ctx: Context) -> pl.LazyFrame:
    e = pl.lit(ctx.end)
    rows = frame.lazy().with_columns(
        pl.coalesce("Installation Date", "Delivery Date").alias("_start"),
        pl.col("Collection Date").alias("_end"),
    )
    reason = (
        pl.when(pl.col("Status") == "CANCELLED")
        .then(pl.lit("feed_equipment_cancelled"))
        .when(pl.col("_start").is_null())
        .then(pl.lit("feed_equipment_not_delivered"))
        .when(~_active(ctx))
        .then(pl.lit("outside_period"))
        .otherwise(None)
    )
    rows = rows.with_columns(reason.alias("_reason"))
    rows = ctx.keep_included(rows)
    return rows.select(
        pl.col("_person_id").cast(pl.Int64),
        _step_id().alias("_step_id"),
        pl.lit("equipment_feed").alias("_source"),
        pl.lit(SERVICE_USER).alias("_client"),
        "_start",
        pl.when(pl.col("_end") > e).then(None).otherwise(pl.col("_end")).alias("_end"),
        pl.lit(ctx.text("Event_Type", "SERVICE")).alias("Event_Type"),
        pl.col("Order Number").alias("Event_Reference"),
        _open_outcome(ctx)
        .when(pl.col("Status") == "COLLECTED")
        .then(pl.lit(ctx.text("Event_Outcome", "SERVICE_ENDED_AS_PLANNED")))
        .alias("Event_Outcome"),
        *coded_from(ctx, "equipment_item", pl.col("Item Code")),
        money(pl.col("Unit Cost")).alias("Unit_Cost"),
    )


def feed_rows(feeds: Any, ctx: Context) -> list[pl.LazyFrame]:
    """Staging rows from the matched feed rows (none when there are no feeds)."""
    frames: dict[str, pl.DataFrame] = getattr(feeds, "frames", None) or {}
    out = []
    carers = frames.get(CARERS)
    if carers is not None and carers.height:
        rows = _carers(carers, ctx)
        if rows is not None:
            out.append(rows)
    equipment = frames.get(EQUIPMENT)
    if equipment is not None and equipment.height:
        out.append(_equipment(equipment, ctx))
    return out
