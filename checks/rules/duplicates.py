"""One-per-event rules: events that DHSC would treat as the same event (rules.md 5.12)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import RuleContext, event_is, f, rule

PERSON_KEYS = ["LA_Code", "LA_Person_Unique_Identifier", "Event_Start_Date", "Client_Type"]


def _duplicated(ctx: RuleContext, event_key: str, keys: list[str]) -> pl.Expr:
    cols = [k for k in ["Event_Type", *keys] if ctx.has(k)]
    return f(event_is(ctx, event_key) & (pl.len().over(cols) > 1))


@rule("LOG100")
def duplicate_request(ctx: RuleContext) -> pl.Expr:
    return _duplicated(ctx, "REQUEST", [*PERSON_KEYS, "Event_End_Date", "Request_Route_of_Access"])


@rule("LOG101")
def duplicate_assessment(ctx: RuleContext) -> pl.Expr:
    return _duplicated(ctx, "ASSESSMENT", [*PERSON_KEYS, "Event_End_Date", "Assessment_Type"])


@rule("LOG102")
def duplicate_review(ctx: RuleContext) -> pl.Expr:
    return _duplicated(ctx, "REVIEW", [*PERSON_KEYS, "Event_End_Date"])


@rule("LOG103")
def duplicate_service(ctx: RuleContext) -> pl.Expr:
    keys = [
        *PERSON_KEYS,
        "Service_Type",
        "Service_Component",
        "Delivery_Mechanism",
        "Unit_Cost",
        "Cost_Frequency_Unit_Type",
        "Planned_units_per_week",
    ]
    return _duplicated(ctx, "SERVICE", keys)


@rule("LOG104")
def exact_duplicate_row(ctx: RuleContext) -> pl.Expr:
    # A 64-bit hash of the whole row (as before), combined from each field's own hash (its
    # own seed, so equal texts in two fields do not cancel): a few MB where a struct of every
    # field is a row-encoded copy of the file (~300 MB for a large county); nulls hash alike.
    names = list(ctx.spec.field_names)
    row = pl.col(names[0]).hash(seed=7)
    for i, name in enumerate(names[1:], 8):
        row = row ^ pl.col(name).hash(seed=i)
    return f(row.is_duplicated())


@rule("LOG105")
def event_reference_shared_by_people(ctx: RuleContext) -> pl.Expr:
    ref = pl.col("Event_Reference")
    people = pl.col("__pid").n_unique().over(ref)
    return f(ref.is_not_null() & (people > 1))
