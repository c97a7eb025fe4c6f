"""One-per-person rules: a person's details agree across all their rows, and each row says
who it is about (rules.md 5.6, 5.7)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import RuleContext, blank, f, nunique_over, person_group, rule


def _inconsistent(field_name: str) -> pl.Expr:
    return f(
        pl.col(field_name).is_not_null() & (nunique_over(pl.col(field_name), person_group()) > 1)
    )


@rule("LOG030")
def dob_inconsistent(ctx: RuleContext) -> pl.Expr:
    return _inconsistent("Date_of_Birth")


@rule("LOG031")
def gender_inconsistent(ctx: RuleContext) -> pl.Expr:
    return _inconsistent("Gender")


@rule("LOG032")
def ethnicity_inconsistent(ctx: RuleContext) -> pl.Expr:
    return _inconsistent("Ethnicity")


@rule("LOG033")
def la_id_two_nhs_numbers(ctx: RuleContext) -> pl.Expr:
    return _inconsistent("NHS_Number")


@rule("LOG034")
def nhs_number_two_la_ids(ctx: RuleContext) -> pl.Expr:
    nhs = pl.col("NHS_Number")
    return f(nhs.is_not_null() & (nunique_over(person_group(), nhs) > 1))


@rule("LOG035")
def no_person_identifier(ctx: RuleContext) -> pl.Expr:
    return f(blank("NHS_Number") & blank("LA_Person_Unique_Identifier"))


@rule("LOG036")
def death_date_inconsistent(ctx: RuleContext) -> pl.Expr:
    return _inconsistent("Date_of_Death")


@rule("LOG037")
def postcode_inconsistent(ctx: RuleContext) -> pl.Expr:
    return _inconsistent("Postcode")


@rule("LOG038")
def death_missing_on_some_rows(ctx: RuleContext) -> pl.Expr:
    """A death recorded on one row must be on all the person's rows (DHSC crops events to it)."""
    dod = pl.col("Date_of_Death")
    return f(dod.is_null() & dod.is_not_null().any().over(person_group()))
