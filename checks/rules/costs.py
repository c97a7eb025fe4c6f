"""Service and cost rules (rules.md 4 'Delivery_Mechanism', 5.13; DHSC cost derivation)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import RuleContext, blank, event_is, f, is_in, n, present, rule

UNIT_FREQUENCIES = ("HOURLY", "DAILY", "PER_SESSION")


@rule("LOG070")
def negative_unit_cost(ctx: RuleContext) -> pl.Expr:
    return f(n("Unit_Cost") < 0)


@rule("LOG071")
def planned_units_over_168(ctx: RuleContext) -> pl.Expr:
    return f(n("Planned_units_per_week") > 168)


@rule("LOG072")
def daily_units_over_7(ctx: RuleContext) -> pl.Expr:
    daily = ctx.vals("Cost_Frequency_Unit_Type", "DAILY")
    return f(is_in("Cost_Frequency_Unit_Type", daily) & (n("Planned_units_per_week") > 7))


@rule("LOG073")
def planned_units_missing_for_unit_frequency(ctx: RuleContext) -> pl.Expr:
    freq = ctx.vals("Cost_Frequency_Unit_Type", *UNIT_FREQUENCIES)
    return f(
        event_is(ctx, "SERVICE")
        & is_in("Cost_Frequency_Unit_Type", freq)
        & blank("Planned_units_per_week")
    )


@rule("LOG074")
def cost_without_frequency(ctx: RuleContext) -> pl.Expr:
    return f(present("Unit_Cost") & blank("Cost_Frequency_Unit_Type"))


@rule("LOG075")
def frequency_without_cost(ctx: RuleContext) -> pl.Expr:
    return f(present("Cost_Frequency_Unit_Type") & blank("Unit_Cost"))


@rule("LOG076")
def planned_units_not_positive(ctx: RuleContext) -> pl.Expr:
    return f(n("Planned_units_per_week") <= 0)


@rule("LOG077")
def unit_cost_implausibly_high(ctx: RuleContext) -> pl.Expr:
    return f(n("Unit_Cost") >= 100_000)


@rule("LOG078")
def direct_payment_in_prison(ctx: RuleContext) -> pl.Expr:
    prison = ctx.vals("Service_Type", "LONG_TERM_PRISON")
    dp = ctx.vals("Delivery_Mechanism", "DIRECT_PAYMENT")
    return f(is_in("Service_Type", prison) & is_in("Delivery_Mechanism", dp))


@rule("LOG079")
def metering_only_delivery(ctx: RuleContext) -> pl.Expr:
    metering = ctx.vals("Delivery_Mechanism", "SELF_FUNDER_METERING_ONLY")
    return f(is_in("Delivery_Mechanism", metering))


@rule("LOG080")
def funding_status_not_to_be_used(ctx: RuleContext) -> pl.Expr:
    barred = ctx.vals(
        "Client_Funding_Status",
        "SELF_FUNDER_METERING_ONLY",
        "JOINT_HEALTH_AND_SOCIAL_CARE",
        "FULLY_HEALTH_FUNDED",
    )
    return f(is_in("Client_Funding_Status", barred))


@rule("LOG081")
def planned_units_more_than_2dp(ctx: RuleContext) -> pl.Expr:
    return f(pl.col("Planned_units_per_week").str.contains(r"\.\d{3,}$"))


@rule("LOG082")
def service_without_start(ctx: RuleContext) -> pl.Expr:
    """A service line with no start cannot be placed in any period or costed."""
    return f(event_is(ctx, "SERVICE") & blank("Event_Start_Date"))
