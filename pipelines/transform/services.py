"""Service rows (rules.md sections 1, 2 and 4).

* Services *active at any time* in the period: start ≤ period end and (end ≥ period start or
  open).
* Cancelled before any support (``CANC``) and recorded in error (``ERR``): out.
* Suspended (``SUSP``): in, as open, until confirmed it will not resume (the end date is
  ignored).
* Death: a service continuing past the date of death ends on the date of death (outcome
  'NFA - Deceased').
* Open at period end (no end date, or an end date after the period): end date blank, outcome
  'Provision of service'.
"""

from __future__ import annotations

import polars as pl

from pipelines.source.tables import SERVICE_CANCELLED, SERVICE_IN_ERROR, SERVICE_SUSPENDED
from pipelines.transform.common import (
    CARER,
    SERVICE_USER,
    Context,
    table,
)
from pipelines.transform.staging import coded


def load_services(tables: dict[str, pl.DataFrame]) -> pl.LazyFrame:
    return table(
        tables,
        "service_agreements",
        agreement_id="id",
        person_id="id",
        service_code="text",
        provider_id="id",
        delivery_code="text",
        status_code="text",
        start_date="date",
        end_date="date",
        suspended_on="date",
        end_reason_code="text",
        unit_cost="num",
        cost_frequency_code="text",
        planned_units_per_week="num",
        for_carer="bool",
        cared_for_person_id="id",
        source_step_id="id",
    )


def money(expr: pl.Expr) -> pl.Expr:
    """Plain decimal text with two places ('12.50', '-3.00'), as the file wants."""
    return expr.cast(pl.Decimal(18, 2)).cast(pl.String)


def _effective_end(deaths: pl.LazyFrame) -> list[pl.Expr]:
    status, end, death = pl.col("status_code"), pl.col("end_date"), pl.col("date_of_death")
    end0 = pl.when(status == SERVICE_SUSPENDED).then(None).otherwise(end)
    died_during = (
        death.is_not_null() & (death >= pl.col("start_date")) & (end0.is_null() | (end0 > death))
    )
    return [
        pl.when(died_during).then(death).otherwise(end0).alias("_eff_end"),
        died_during.alias("_died"),
    ]


def _reason(ctx: Context) -> pl.Expr:
    s, e = pl.lit(ctx.start), pl.lit(ctx.end)
    active = (pl.col("start_date") <= e) & (
        pl.col("_eff_end").is_null() | (pl.col("_eff_end") >= s)
    )
    return (
        pl.when(~active)
        .then(pl.lit("outside_period"))
        .when(pl.col("status_code") == SERVICE_CANCELLED)
        .then(pl.lit("service_cancelled"))
        .when(pl.col("status_code") == SERVICE_IN_ERROR)
        .then(pl.lit("service_in_error"))
        .otherwise(None)
    )


def build_services(
    tables: dict[str, pl.DataFrame], deaths: pl.LazyFrame, ctx: Context
) -> pl.LazyFrame:
    """``deaths``: person_id, date_of_death (deaths known by the period end)."""
    providers = table(
        tables,
        "providers",
        provider_id="id",
        cqc_location_id="text",
        cqc_location_name="text",
    )
    services = (
        load_services(tables)
        .join(deaths, on="person_id", how="left")
        .with_columns(_effective_end(deaths))
        .with_columns(_reason(ctx).alias("_reason"))
    )
    services = ctx.keep_included(services)
    open_at_end = pl.col("_eff_end").is_null() | (pl.col("_eff_end") > pl.lit(ctx.end))
    outcome_code = (
        pl.when(open_at_end | pl.col("_died")).then(None).otherwise(pl.col("end_reason_code"))
    )
    return (
        services.join(providers, on="provider_id", how="left")
        .select(
            pl.col("person_id").alias("_person_id"),
            pl.col("agreement_id").cast(pl.String).alias("_step_id"),
            pl.lit("db").alias("_source"),
            pl.when(pl.col("for_carer"))
            .then(pl.lit(CARER))
            .otherwise(pl.lit(SERVICE_USER))
            .alias("_client"),
            pl.col("start_date").alias("_start"),
            pl.when(open_at_end).then(None).otherwise(pl.col("_eff_end")).alias("_end"),
            pl.lit(ctx.text("Event_Type", "SERVICE")).alias("Event_Type"),
            pl.col("agreement_id").cast(pl.String).alias("Event_Reference"),
            pl.when(open_at_end)
            .then(pl.lit(ctx.text("Event_Outcome", "PROVISION_OF_SERVICE")))
            .when(pl.col("_died"))
            .then(pl.lit(ctx.text("Event_Outcome", "NFA_DECEASED")))
            .otherwise(None)
            .alias("Event_Outcome"),
            *coded("Event_Outcome", outcome_code, "outcome"),
            *coded("Service_Type", pl.col("service_code"), "service"),
            *coded("Service_Component", pl.col("service_code"), "service"),
            *coded("Delivery_Mechanism", pl.col("delivery_code"), "delivery"),
            *coded("Cost_Frequency_Unit_Type", pl.col("cost_frequency_code"), "cost_frequency"),
            pl.col("cqc_location_id").alias("Provider_CQC_Location_ID"),
            pl.col("cqc_location_name").alias("Provider_CQC_Location_Name"),
            money(pl.col("unit_cost")).alias("Unit_Cost"),
            money(pl.col("planned_units_per_week")).alias("Planned_units_per_week"),
        )
    )
