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

EVENT_FIELDS = (
    "Event_Type",
    "Event_Reference",
    "Event_Start_Date",
    "Event_End_Date",
    "Event_Description",
    "Event_Outcome",
)
ASSESSMENT_FIELDS = ("Assessment_Type", "Eligible_Needs_Identified", "Method_of_Assessment")
SERVICE_FIELDS = (
    "Service_Type",
    "Service_Component",
    "Delivery_Mechanism",
    "Provider_CQC_Location_ID",
    "Provider_CQC_Location_Name",
    "Unit_Cost",
    "Cost_Frequency_Unit_Type",
    "Planned_units_per_week",
)
REVIEW_FIELDS = ("Review_Reason", "Review_Outcomes_Achieved", "Method_of_Review")
CARER_FIELDS = (
    "Total_Hrs_Caring_per_week",
    "No_of_adults_being_cared_for",
    "Adult_1_Linked_Person_ID",
    "Adult_2_Linked_Person_ID",
    "Adult_3_Linked_Person_ID",
)
SERVICE_USER_FIELDS = (
    "Autism_Spectrum_Disorder_ASD",
    "Visual_Impairment",
    "Hearing_Impairment",
    "Dementia",
    "Client_Funding_Status",
)


def any_present(ctx: RuleContext, fields: tuple[str, ...]) -> pl.Expr:
    """Any of these fields (that this release has) filled on the row."""
    cols = [present(x) for x in fields if ctx.has(x)]
    return pl.any_horizontal(cols) if cols else pl.lit(False)


@rule("LOG050")
def ckba_with_event_fields(ctx: RuleContext) -> pl.Expr:
    return f(ckba(ctx) & any_present(ctx, EVENT_FIELDS))


@rule("LOG051")
def route_of_access_on_non_request(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "REQUEST") & present("Request_Route_of_Access"))


@rule("LOG052")
def assessment_fields_on_non_assessment(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "ASSESSMENT") & any_present(ctx, ASSESSMENT_FIELDS))


@rule("LOG053")
def service_fields_on_non_service(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "SERVICE") & any_present(ctx, SERVICE_FIELDS))


@rule("LOG054")
def review_fields_on_non_review(ctx: RuleContext) -> pl.Expr:
    return f(~event_is(ctx, "REVIEW") & any_present(ctx, REVIEW_FIELDS))


@rule("LOG055")
def carer_fields_on_service_user(ctx: RuleContext) -> pl.Expr:
    return f(client_is(ctx, "SERVICE_USER") & any_present(ctx, CARER_FIELDS))


@rule("LOG056")
def service_user_fields_on_carer(ctx: RuleContext) -> pl.Expr:
    return f(
        client_is(ctx, "CARER", "CARER_KNOWN_BY_ASSOCIATION")
        & any_present(ctx, SERVICE_USER_FIELDS)
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
