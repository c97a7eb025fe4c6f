"""Per-row field status and validity, as the national DQ report computes them (rules.md §9).

For each field ``F`` of the spec, :func:`field_status` adds two Int8 columns:

``F__status``   2 mandatory · 1 applicable, not mandatory · 0 not applicable · -1 undetermined
``F__validity`` 1 valid · 0 blank, allowed · -1 blank but mandatory · -2 invalid ·
                -7 a Release 1 value in a Release 2 file

Status comes from the field's ``applies`` / ``mandatory`` conditions (spec data); validity
from its type, format, length and defined list. Everything is one polars expression per
column: no Python per row, so it runs on a LazyFrame of millions of rows.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from cld_schema.conditions import atom_key
from cld_schema.conditions import leaves as leaves_of
from cld_schema.spec import FieldSpec, Spec

STATUS_MANDATORY, STATUS_APPLICABLE, STATUS_NOT_APPLICABLE, STATUS_UNDETERMINED = 2, 1, 0, -1
VALID, BLANK_OK, BLANK_MANDATORY, INVALID, RELEASE_1 = 1, 0, -1, -2, -7

STATUS_LABELS = {
    2: "Mandatory",
    1: "Applicable but not mandatory",
    0: "Not applicable",
    -1: "Undetermined",
}
VALIDITY_LABELS = {
    1: "Passed: Valid",
    0: "Passed: Blank (Not Mandatory)",
    -1: "Failed: Blank (Mandatory)",
    -2: "Failed: Invalid",
    -7: "Failed: Release 1",
}

POSTCODE_RE = r"^(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][ABD-HJLNP-UW-Z]{2})$"
_F = TypeVar("_F", pl.DataFrame, pl.LazyFrame)


def blank(name: str) -> pl.Expr:
    # blank or only white space: the same test as ``strip_chars() == ""`` (both Unicode
    # White_Space) without a stripped copy of every field's text
    col = pl.col(name)
    return col.is_null() | col.str.contains(r"^\s*$")


def nhs_placeholder(expr: pl.Expr) -> pl.Expr:
    """Ten of the same digit (0000000000, 9999999999): a placeholder, not a number."""
    return expr.str.contains("^(" + "|".join(f"{d}{{10}}" for d in range(10)) + ")$")


def nhs_mod11_ok(expr: pl.Expr) -> pl.Expr:
    """10 digits whose 10th is the Modulus 11 check digit (NHS Data Dictionary).

    Weights 10..2 on digits 1-9; check = 11 - (sum mod 11); 11 means 0; 10 means invalid.
    Null where the text is null.
    """
    digits = [expr.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
    total = sum(d * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - (total % 11)
    check = pl.when(check == 11).then(0).otherwise(check)
    return expr.str.contains(r"^\d{10}$") & (check != 10) & (check == digits[9])


def nhs_number_valid(expr: pl.Expr) -> pl.Expr:
    """10 digits, Modulus 11 check digit (NHS Data Dictionary), not all one digit; the one
    NHS-number test (checks' field contract and the feedback intake use its two parts)."""
    return (nhs_mod11_ok(expr) & ~nhs_placeholder(expr)).fill_null(False)


def _format_ok(f: FieldSpec, spec: Spec) -> pl.Expr:
    """True where a non-blank value has the right type, format and length."""
    col = pl.col(f.name)
    length_ok = col.str.len_chars() <= f.max_length if f.max_length else pl.lit(True)
    match f.type:
        case "date":
            parsed = col.str.to_date(spec.date_format, strict=False)
            ok = parsed.dt.strftime(spec.date_format) == col
        case "code":
            ok = col.str.contains(r"^\d+$") & length_ok
        case "integer":
            ok = col.str.contains(r"^\d+$") & length_ok
        case "decimal":
            ok = col.str.contains(r"^-?\d+(\.\d+)?$") & length_ok
        case "nhs_number":
            ok = nhs_number_valid(col)
        case "postcode":
            ok = col.str.contains(POSTCODE_RE)
        case "person_id":
            ok = (col.str.strip_chars() == col) & length_ok
        case "list":
            ok = col.is_in(spec.values(f.name))
        case _:  # text
            ok = length_ok
    return ok.fill_null(False)


def status_expr(f: FieldSpec, spec: Spec, atoms=None) -> pl.Expr:
    applies = spec.condition_expr(f.applies, atoms)
    mandatory = spec.condition_expr(f.mandatory, atoms)
    return (
        pl.when(applies.is_null())
        .then(pl.lit(STATUS_UNDETERMINED))
        .when(~applies)
        .then(pl.lit(STATUS_NOT_APPLICABLE))
        .when(mandatory.is_null())
        .then(pl.lit(STATUS_UNDETERMINED))
        .when(mandatory)
        .then(pl.lit(STATUS_MANDATORY))
        .otherwise(pl.lit(STATUS_APPLICABLE))
        .cast(pl.Int8)
        .alias(f"{f.name}__status")
    )


def validity_expr(f: FieldSpec, spec: Spec, status: pl.Expr) -> pl.Expr:
    r1_only = spec.r1_values_only(f.name) if f.type == "list" else []
    when_blank = pl.when(status == STATUS_MANDATORY).then(pl.lit(BLANK_MANDATORY))
    expr = pl.when(blank(f.name)).then(when_blank.otherwise(pl.lit(BLANK_OK)))
    if r1_only:
        expr = expr.when(pl.col(f.name).is_in(r1_only)).then(pl.lit(RELEASE_1))
    return (
        expr.when(_format_ok(f, spec))
        .then(pl.lit(VALID))
        .otherwise(pl.lit(INVALID))
        .cast(pl.Int8)
        .alias(f"{f.name}__validity")
    )


def _with_period_end(frame: _F, period_end: str | None) -> _F:
    """A blank Reporting_Period_End_Date filled with ``period_end`` (for the age tests)."""
    if period_end is None:
        return frame
    return frame.with_columns(
        pl.when(blank("Reporting_Period_End_Date"))
        .then(pl.lit(period_end))
        .otherwise(pl.col("Reporting_Period_End_Date"))
        .alias("Reporting_Period_End_Date")
    )


def field_statuses(
    frame: pl.LazyFrame, spec: Spec, fields: list[str], period_end: str | None = None
) -> pl.LazyFrame:
    """Only the ``<Field>__status`` columns of ``fields``: the same values as
    :func:`field_status` gives them (same ``period_end``), without the other fields'
    statuses and validities. ``frame`` holds every spec field."""
    work = _with_period_end(frame, period_end)
    # with_columns, not select: a status that is a literal is broadcast to every row
    return work.with_columns(status_expr(spec.field(f), spec) for f in fields).select(
        f"{f}__status" for f in fields
    )


def field_status(frame: _F, spec: Spec, period_end: str | None = None) -> _F:
    """Add ``<Field>__status`` and ``<Field>__validity`` for every spec field.

    ``frame`` holds the spec's fields as text (a CLD frame); missing columns count as blank.
    ``period_end`` (text in the spec's date format) fills a blank Reporting_Period_End_Date for
    the age tests, e.g. when checking a file whose period column is broken (the returned frame
    carries the filled value).
    """
    names = set(frame.collect_schema().names())
    missing = [pl.lit(None, pl.String).alias(n) for n in spec.field_names if n not in names]
    work = frame.with_columns(missing) if missing else frame
    work = _with_period_end(work, period_end)
    # Every distinct leaf test of the fields' conditions (Event_Type in [SERVICE], an age
    # band, ...) is computed once as a column and shared by all the conditions that use it.
    leaves = {
        atom_key(leaf): leaf
        for f in spec.fields
        for cond in (f.applies, f.mandatory)
        for leaf in leaves_of(cond)
    }
    cols = {key: f"__leaf{i}" for i, key in enumerate(leaves)}
    work = work.with_columns(spec.condition_expr(leaf).alias(cols[k]) for k, leaf in leaves.items())
    atoms = {k: pl.col(c) for k, c in cols.items()}
    statuses = [status_expr(f, spec, atoms) for f in spec.fields]
    work = work.with_columns(statuses)
    validities = [validity_expr(f, spec, pl.col(f"{f.name}__status")) for f in spec.fields]
    out = work.with_columns(validities).drop(list(cols.values()))
    if missing:
        out = out.drop([n for n in spec.field_names if n not in names])
    return out
