"""Date-order rules: dates that cannot be in that order for one person or event."""

from __future__ import annotations

import polars as pl

from checks.rules.base import PEND, RuleContext, client_is, d, f, rule, years_between


@rule("LOG001")
def end_before_start(ctx: RuleContext) -> pl.Expr:
    return f(d("Event_End_Date") < d("Event_Start_Date"))


@rule("LOG002")
def death_before_birth(ctx: RuleContext) -> pl.Expr:
    return f(d("Date_of_Death") < d("Date_of_Birth"))


@rule("LOG003")
def event_starts_after_death(ctx: RuleContext) -> pl.Expr:
    return f(d("Event_Start_Date") > d("Date_of_Death"))


@rule("LOG004")
def event_ends_after_death(ctx: RuleContext) -> pl.Expr:
    return f(d("Event_End_Date") > d("Date_of_Death"))


@rule("LOG005")
def born_after_event_start(ctx: RuleContext) -> pl.Expr:
    return f(d("Date_of_Birth") > d("Event_Start_Date"))


@rule("LOG006")
def under_18_at_event_start(ctx: RuleContext) -> pl.Expr:
    age = years_between(d("Date_of_Birth"), d("Event_Start_Date"))
    return f(client_is(ctx, "SERVICE_USER") & (age >= 0) & (age < 18))


@rule("LOG007")
def implausible_age(ctx: RuleContext) -> pl.Expr:
    return f(years_between(d("Date_of_Birth"), PEND) > 115)


@rule("LOG008")
def birth_after_period_end(ctx: RuleContext) -> pl.Expr:
    return f(d("Date_of_Birth") > PEND)


@rule("LOG009")
def death_after_period_end(ctx: RuleContext) -> pl.Expr:
    return f(d("Date_of_Death") > PEND)


@rule("LOG010")
def period_end_before_start(ctx: RuleContext) -> pl.Expr:
    return f(d("Reporting_Period_End_Date") < d("Reporting_Period_Start_Date"))


@rule("LOG011")
def period_dates_differ(ctx: RuleContext) -> pl.Expr:
    """Every row of one file states the same reporting period (rows unlike the most common fail)."""
    start, end = pl.col("Reporting_Period_Start_Date"), pl.col("Reporting_Period_End_Date")
    return f((start != start.mode().first()) | (end != end.mode().first()))


@rule("LOG012")
def la_code_differs(ctx: RuleContext) -> pl.Expr:
    """One file, one council."""
    code = pl.col("LA_Code")
    return f(code != code.mode().first())
