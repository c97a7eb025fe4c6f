"""Within-period rules: which events belong in a file for this reporting period
(rules.md sections 1, 2 and 5.2-5.4)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import (
    PEND,
    PSTART,
    RuleContext,
    blank,
    d,
    event_is,
    f,
    is_in,
    present,
    rule,
)


@rule("LOG020")
def completed_event_without_end(ctx: RuleContext) -> pl.Expr:
    return f(event_is(ctx, "REQUEST", "ASSESSMENT", "REVIEW") & blank("Event_End_Date"))


@rule("LOG021")
def completed_event_ends_outside_period(ctx: RuleContext) -> pl.Expr:
    end = d("Event_End_Date")
    return f(event_is(ctx, "REQUEST", "ASSESSMENT", "REVIEW") & ((end < PSTART) | (end > PEND)))


@rule("LOG022")
def service_not_active_in_period(ctx: RuleContext) -> pl.Expr:
    return f(event_is(ctx, "SERVICE") & (d("Event_End_Date") < PSTART))


@rule("LOG023")
def event_starts_after_period_end(ctx: RuleContext) -> pl.Expr:
    return f(d("Event_Start_Date") > PEND)


@rule("LOG024")
def service_end_after_period_end(ctx: RuleContext) -> pl.Expr:
    return f(event_is(ctx, "SERVICE") & (d("Event_End_Date") > PEND))


@rule("LOG025")
def open_service_wrong_outcome(ctx: RuleContext) -> pl.Expr:
    provision = ctx.vals("Event_Outcome", "PROVISION_OF_SERVICE", "CONTINUATION_OF_SUPPORT")
    return f(
        event_is(ctx, "SERVICE")
        & blank("Event_End_Date")
        & present("Event_Outcome")
        & ~is_in("Event_Outcome", provision)
    )


@rule("LOG026")
def ended_service_outcome_provision(ctx: RuleContext) -> pl.Expr:
    # Release 1 only (period.yaml releases:): in Release 2 'Continuation of support' may close
    # a line that continues
    provision = ctx.vals("Event_Outcome", "PROVISION_OF_SERVICE")
    return f(
        event_is(ctx, "SERVICE") & (d("Event_End_Date") <= PEND) & is_in("Event_Outcome", provision)
    )


@rule("LOG027")
def open_service_after_death(ctx: RuleContext) -> pl.Expr:
    return f(event_is(ctx, "SERVICE") & blank("Event_End_Date") & (d("Date_of_Death") <= PEND))


@rule("LOG028")
def event_start_implausibly_old(ctx: RuleContext) -> pl.Expr:
    """Non-service events are completed in the period; starting 5+ years earlier is a slip."""
    return f(
        event_is(ctx, "REQUEST", "ASSESSMENT", "REVIEW")
        & (d("Event_Start_Date") < PSTART.dt.offset_by("-5y"))
    )
