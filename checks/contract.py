"""The field contract: a pandera (polars backend) schema generated from ``cld_schema``.

Every field of the release gets the checks its spec entry implies: format (dates in
``spec.date_format``, whole or decimal numbers), maximum length, defined list, NHS number
(10 digits, Modulus 11, not one repeated digit) and postcode shape. Nothing here names a
field or a value except through the spec, so a corrected list or a new release is a data
change.

Pandera only runs data checks on a LazyFrame when the validation depth is
``SCHEMA_AND_DATA`` (its default for lazy frames is schema only), so :func:`validate_fields`
sets it explicitly. Each field has one pandera check holding all its checks (a pandera check
costs a pass and a collect); failures come back as ``SchemaErrors.failure_cases`` (one row
per failing value with its row index), and :func:`field_failures` evaluates the field's
individual checks on those few values to name the rule each breaks: vectorised, no Python
per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandera.polars as pa
import polars as pl
from pandera.api.checks import Check
from pandera.config import ValidationDepth, config_context

from checks.rules.fields import check_kind, check_message
from cld_schema.errors import CldError

# The NHS-number and postcode tests are the spec's own (one definition, shared with the field
# status): UK postcode is outward code, one space, inward code, upper case (rules.md 8).
from cld_schema.status import POSTCODE_RE, nhs_mod11_ok, nhs_placeholder

INTEGER_RE = r"^\d+$"
DECIMAL_RE = r"^-?\d+(\.\d+)?$"

if TYPE_CHECKING:
    from cld_schema import Spec


@dataclass(frozen=True)
class FieldCheck:
    """One generated check: its rule id, the field and what it tests (for the catalogue)."""

    rule_id: str
    field: str
    kind: str  # format | length | list | mod11 | placeholder | shape
    message: str


def _expr_check(name: str, ok: pl.Expr, rules: list[tuple[FieldCheck, pl.Expr]]) -> Check:
    """A vectorised pandera check from a polars expression on the column (True = passes).

    Blank values pass: whether a blank is allowed is the field status's job. The check
    carries the field's individual rules (``cld_rules``: what each is and its expression), so
    the schema is the one place the contract is held, whether pandera runs it
    (:func:`validate_fields`) or the engine puts it in its one plan (:func:`failure_exprs`).
    """

    def fn(data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col(data.key).is_null() | ok).fill_null(False))

    check = Check(fn, name=name)
    check.cld_rules = rules
    return check


def _field_rules(spec: Spec, f) -> list[tuple[FieldCheck, pl.Expr]]:
    """The field's checks as (what it is, polars expression that is True when valid)."""
    col = pl.col(f.name)
    out: list[tuple[FieldCheck, pl.Expr]] = []

    def add(check: str, ok: pl.Expr, **values: object) -> None:
        kind, message = check_kind(check), check_message(check, **values)
        out.append((FieldCheck(f"FLD_{f.name}_{kind}", f.name, kind, message), ok))

    match f.type:
        case "date":
            fmt = spec.date_format
            parsed = col.str.to_date(fmt, strict=False)
            shown = fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
            add("date", parsed.dt.strftime(fmt) == col, date_format=shown)
        case "code" | "integer":
            add("integer", col.str.contains(INTEGER_RE))
        case "decimal":
            add("decimal", col.str.contains(DECIMAL_RE))
        case "nhs_number":
            add("nhs_placeholder", ~nhs_placeholder(col))
            add("nhs_mod11", nhs_mod11_ok(col) | nhs_placeholder(col))
        case "postcode":
            add("postcode", col.str.contains(POSTCODE_RE))
        case "person_id":
            add("person_id", col.str.strip_chars() == col)
        case "list":
            allowed = list(spec.values(f.name)) + list(spec.r1_values_only(f.name))
            add("list", col.is_in(allowed))
    if f.max_length and f.type not in ("date", "nhs_number", "list"):
        add("length", col.str.len_chars() <= f.max_length, max_length=f.max_length)
    return out


def build_contract(spec: Spec) -> pa.DataFrameSchema:
    """The pandera schema for a release: every field a String column, with one check per
    field that holds all of the field's checks (each pandera check costs a pass and a
    collect; the failing values are told apart afterwards, see :func:`field_failures`)."""
    columns: dict[str, pa.Column] = {}
    for f in spec.fields:
        rules = _field_rules(spec, f)
        checks = []
        if rules:
            ok = pl.all_horizontal([expr for _, expr in rules])
            checks.append(_expr_check(f"FLD_{f.name}", ok, rules))
        columns[f.name] = pa.Column(pl.String, nullable=True, checks=checks)
    return pa.DataFrameSchema(columns, strict=False, name=f"CLD {spec.release}")


def failure_exprs(schema: pa.DataFrameSchema) -> list[tuple[FieldCheck, pl.Expr]]:
    """Every rule of the contract as (what it is, expression True on a failing row), read from
    the pandera schema: the engine evaluates them in its one plan over the file, row-aligned,
    instead of one pandera pass and collect per field. A row fails a rule exactly when
    :func:`field_failures` lists it (blank passes; a test that cannot tell fails)."""
    out = []
    for name, column in schema.columns.items():
        for check in column.checks:
            for meta, ok in getattr(check, "cld_rules", ()):
                out.append((meta, ~(pl.col(name).is_null() | ok).fill_null(False)))
    return out


class NotCldFrame(CldError, ValueError):
    """The frame given to the checks is not a CLD frame of the release (a field missing, a
    column of the wrong type): the message names the fields."""


def check_schema(lf: pl.LazyFrame, schema: pa.DataFrameSchema) -> None:
    """pandera's schema-level validation of the plan (every field present, as text), without
    a data pass; raises ``NotCldFrame`` when the frame is not a CLD frame."""
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_ONLY):
            schema.validate(lf, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        raise NotCldFrame(
            "the frame is not a CLD frame: "
            + "; ".join(f"{r['column']}: {r['check']}" for r in fc.head(5).iter_rows(named=True))
        ) from None


def field_checks(spec: Spec) -> list[FieldCheck]:
    """Every generated check of a release (for the catalogue listing)."""
    return [meta for f in spec.fields for meta, _ in _field_rules(spec, f)]


def validate_fields(lf: pl.LazyFrame, spec: Spec) -> pl.DataFrame:
    """Run the contract on a LazyFrame with data checks on; return pandera's failure cases
    (empty when clean)."""
    schema = build_contract(spec)
    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(lf, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return exc.failure_cases
    return pl.DataFrame(
        schema={
            "failure_case": pl.String,
            "schema_context": pl.String,
            "column": pl.String,
            "check": pl.String,
            "check_number": pl.Int32,
            "index": pl.Int32,
        }
    )


def field_failures(lf: pl.LazyFrame, spec: Spec) -> pl.DataFrame:
    """Failures as (index, field, rule_id, kind, message): one row per failing value and
    check. Pandera names the failing values per field; each of the field's checks is then
    evaluated on those values only (a few rows) to say which check they fail. Schema-level
    failures (a missing column, a wrong type) raise: the frame is then not a CLD frame."""
    fc = validate_fields(lf, spec)
    schema_fc = fc.filter(pl.col("index").is_null())
    if schema_fc.height:
        raise NotCldFrame(
            "the frame is not a CLD frame: "
            + "; ".join(
                f"{r['column']}: {r['check']}" for r in schema_fc.head(5).iter_rows(named=True)
            )
        )
    parts = []
    for (name,), grp in fc.group_by("column"):
        values = grp.select(pl.col("index").cast(pl.Int64), pl.col("failure_case").alias(name))
        for meta, ok in _field_rules(spec, spec.field(name)):
            bad = values.filter(~(pl.col(name).is_null() | ok).fill_null(False))
            if bad.height:
                parts.append(
                    bad.select(
                        "index",
                        pl.lit(name).alias("field"),
                        pl.lit(meta.rule_id).alias("rule_id"),
                        pl.lit(meta.kind).alias("kind"),
                        pl.lit(meta.message).alias("message"),
                    )
                )
    if not parts:
        return pl.DataFrame(
            schema={
                "index": pl.Int64,
                "field": pl.String,
                "rule_id": pl.String,
                "kind": pl.String,
                "message": pl.String,
            }
        )
    return pl.concat(parts)
