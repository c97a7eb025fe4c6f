"""Applicability rules: fields filled only where they apply, and filled where they must be
for a case the spec leaves to guidance (rules.md sections 1, 3, 4, 5.9, 5.10)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import (
    RuleContext,
    blank,
    ckba,
    client_is,
    event_is,
    f,
    is_in,
    present,
    rule,
)

# The field groups are the spec's own (the fields' ``applies:`` conditions in
# cld_schema/data/fields.yaml), asked of the release being checked; see Spec.fields_applying.
CKBA_KEYS = ["CARER_KNOWN_BY_ASSOCIATION"]
CARER_KEYS = ["CARER", "CARER_KNOWN_BY_ASSOCIATION"]


def event_fields(ctx: RuleContext) -> list[str]:
    """The fields that apply on every row but a carer known by association's."""
    return ctx.spec.fields_not_applying(field="Client_Type", keys=CKBA_KEYS)


def event_type_fields(ctx: RuleContext, key: str) -> list[str]:
    """The fields that apply only to events of this type (``SERVICE``: the service fields)."""
    return ctx.spec.fields_applying(field="Event_Type", keys=[key])


def client_type_fields(ctx: RuleContext, keys: list[str]) -> list[str]:
    """The fields that apply only to these client types."""
    return ctx.spec.fields_applying(field="Client_Type", keys=keys)


def any_present(ctx: RuleContext, fields: list[str]) -> pl.Expr:
    """Any of these fields (that this release has) filled on the row."""
    cols = [present(x) for x in fields if ctx.has(x)]
    return pl.any_horizontal(cols) if cols else pl.lit(False)


@rule("LOG050")
def ckba_with_event_fields(ctx: RuleContext) -> pl.Expr:
    return f(ckba(ctx) & any_present(ctx, event_fields(ctx)))


@rule("LOG051")
def route_of_access_on_non_request(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "REQUEST") & any_present(ctx, event_type_fields(ctx, "REQUEST")))


@rule("LOG052")
def assessment_fields_on_non_assessment(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "ASSESSMENT") & any_present(ctx, event_type_fields(ctx, "ASSESSMENT")))


@rule("LOG053")
def service_fields_on_non_service(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "SERVICE") & any_present(ctx, event_type_fields(ctx, "SERVICE")))


@rule("LOG054")
def review_fields_on_non_review(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "REVIEW") & any_present(ctx, event_type_fields(ctx, "REVIEW")))


@rule("LOG055")
def carer_fields_on_service_user(ctx: RuleContext) -> pl.Expr:
    return f(client_is(ctx, "SERVICE_USER") & any_present(ctx, client_type_fields(ctx, CARER_KEYS)))


@rule("LOG056")
def service_user_fields_on_carer(ctx: RuleContext) -> pl.Expr:
    return f(
        client_is(ctx, "CARER", "CARER_KNOWN_BY_ASSOCIATION")
        & any_present(ctx, client_type_fields(ctx, ["SERVICE_USER"]))
    )


@rule("LOG057")
def financial_assessment_with_outcome(ctx: RuleContext) -> pl.Expr:
    financial = ctx.vals("Assessment_Type", "FINANCIAL")
    return f(
        event_is(ctx, "ASSESSMENT") & is_in("Assessment_Type", financial) & present("Event_Outcome")
    )


@rule("LOG058")
def planned_review_without_outcomes(ctx: RuleContext) -> pl.Expr:
    planned = ctx.vals("Review_Reason", "PLANNED")
    return f(
        event_is(ctx, "REVIEW")
        & is_in("Review_Reason", planned)
        & blank("Review_Outcomes_Achieved")
    )


@rule("LOG059")
def carer_event_psr_not_support_to_carer(ctx: RuleContext) -> pl.Expr:
    to_carer = ctx.vals("Primary_Support_Reason", "SUPPORT_TO_CARER")
    if not to_carer:
        return pl.lit(False)
    return f(
        client_is(ctx, "CARER")
        & present("Primary_Support_Reason")
        & ~is_in("Primary_Support_Reason", to_carer)
    )


@rule("LOG060")
def event_row_without_event_type(ctx: RuleContext) -> pl.Expr:
    """Event details with no event type: the row cannot be counted anywhere."""
    return f(~ckba(ctx) & blank("Event_Type") & present("Event_Start_Date"))


@rule("LOG061")
def unknown_client_type_event(ctx: RuleContext) -> pl.Expr:
    """A CKBA row is the only row without an event; any other client type must have one."""
    return f(present("Client_Type") & ~ckba(ctx) & blank("Event_Start_Date"))
