"""Value rules applied to every field of the row: texts the portal, the national DQ report or
Excel would mangle (rules.md 5.15, section 6, section 10)."""

from __future__ import annotations

import polars as pl

from checks.rules.base import RuleContext, f, rule

# Windows-1252 printable characters: the file must be encodable in it (rules.md section 6).
_CP1252_EXTRA = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
NOT_CP1252 = r"[^\x20-\x7E\xA0-\xFF" + _CP1252_EXTRA + "]"
NUMBER = r"^-?\d+(\.\d+)?$"


@rule("LOG090")
def literal_null(ctx: RuleContext, field_name: str) -> pl.Expr:
    return f(pl.col(field_name).str.contains(r"^\s*(?i:null|none|nan)\s*$"))


@rule("LOG091")
def formula_like(ctx: RuleContext, field_name: str) -> pl.Expr:
    col = pl.col(field_name)
    return f(col.str.contains(r"^[=+\-@]") & ~col.str.contains(NUMBER))


@rule("LOG092")
def stray_whitespace(ctx: RuleContext, field_name: str) -> pl.Expr:
    col = pl.col(field_name)
    return f(col.str.contains(r"^\s|\s$|\s{2,}") | (col == ""))


@rule("LOG093")
def release_1_value_in_release_2(ctx: RuleContext, field_name: str) -> pl.Expr:
    # Release 2 only (values.yaml releases:)
    try:
        r1_only = ctx.spec.r1_values_only(field_name)
    except (KeyError, ValueError, LookupError):
        return pl.lit(False)
    if not r1_only:
        return pl.lit(False)
    return f(pl.col(field_name).is_in(list(r1_only)))


@rule("LOG094")
def not_windows_1252(ctx: RuleContext, field_name: str) -> pl.Expr:
    return f(pl.col(field_name).str.contains(NOT_CP1252))


@rule("LOG095")
def identifier_in_free_text(ctx: RuleContext, field_name: str) -> pl.Expr:
    """Free text leaves the council as is: an NHS number or postcode in it is a data leak."""
    return f(
        pl.col(field_name).str.contains(
            r"(^|\D)\d{3}\s?\d{3}\s?\d{4}(\D|$)|\b[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}\b"
        )
    )
