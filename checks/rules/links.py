"""Link rules: carers' linked person ids must point at service users in the same file
(rules.md 1 'Carers', 5.8)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import RuleContext, client_is, f, person_key, rule


def _service_user_ids(ctx: RuleContext) -> pl.Expr:
    return person_key().filter(client_is(ctx, "SERVICE_USER")).implode()


def _link_to_nobody(ctx: RuleContext, field_name: str) -> pl.Expr:
    link = pl.col(field_name)
    return f(link.is_not_null() & ~link.is_in(_service_user_ids(ctx)))


@rule("LOG040")
def linked_person_1_not_service_user(ctx: RuleContext) -> pl.Expr:
    return _link_to_nobody(ctx, "Adult_1_Linked_Person_ID")


@rule("LOG041")
def linked_person_2_not_service_user(ctx: RuleContext) -> pl.Expr:
    return _link_to_nobody(ctx, "Adult_2_Linked_Person_ID")


@rule("LOG042")
def linked_person_3_not_service_user(ctx: RuleContext) -> pl.Expr:
    return _link_to_nobody(ctx, "Adult_3_Linked_Person_ID")


@rule("LOG043")
def linked_to_self(ctx: RuleContext) -> pl.Expr:
    own = person_key()
    links = [pl.col(f"Adult_{i}_Linked_Person_ID") for i in (1, 2, 3)]
    return f(pl.any_horizontal([(link == own) for link in links]))


@rule("LOG044")
def fewer_adults_than_links(ctx: RuleContext) -> pl.Expr:
    linked = pl.sum_horizontal(
        [pl.col(f"Adult_{i}_Linked_Person_ID").is_not_null().cast(pl.Int32) for i in (1, 2, 3)]
    )
    return f(pl.col("__n_No_of_adults_being_cared_for") < linked)


@rule("LOG045")
def carer_without_links(ctx: RuleContext) -> pl.Expr:
    """A carer known by association exists only through the person they care for."""
    links = [pl.col(f"Adult_{i}_Linked_Person_ID").is_null() for i in (1, 2, 3)]
    return f(client_is(ctx, "CARER_KNOWN_BY_ASSOCIATION") & pl.all_horizontal(links))
