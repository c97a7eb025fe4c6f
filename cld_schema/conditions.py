"""Row conditions declared in the spec data (``applies`` / ``mandatory`` of each field).

The form is small on purpose, so a council analyst can read and edit it in ``fields.yaml``::

    always | never
    {all: [c, ...]}   {any: [c, ...]}   {not: c}
    {field: Event_Type, in: [REQUEST, ...]}        value KEYS of the field's defined list
    {field: Service_Type, key_prefix: LONG_TERM}   the value's KEY starts with the prefix
    {field: Date_of_Death, present: true}          the field is not blank
    {age_at: Reporting_Period_End_Date, between: [18, 64]}   whole years from Date_of_Birth

Conditions compile to one polars expression each, evaluated with three-valued (Kleene) logic:
a test on a field holding a value outside its list, or an age from an unreadable date, is
*undetermined* (null), which the national DQ report shows as status -1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

from cld_schema.errors import CldError

Condition = str | Mapping[str, Any]

_OPS = ("all", "any", "not", "field", "age_at")


class ConditionError(CldError, ValueError):
    """A condition that names an unknown field or value, or is not in the documented form."""


def validate(
    cond: Condition,
    *,
    fields: Mapping[str, Any],
    keys_of: Callable[[str], set[str] | None],
) -> None:
    """Check a condition against the known fields and list keys; raise ConditionError."""
    if isinstance(cond, str):
        if cond not in ("always", "never"):
            raise ConditionError(f"unknown condition {cond!r} (use always, never or a mapping)")
        return
    if not isinstance(cond, Mapping) or not cond:
        raise ConditionError(f"condition must be always, never or a mapping, not {cond!r}")
    if "all" in cond or "any" in cond:
        op = "all" if "all" in cond else "any"
        parts = cond[op]
        if set(cond) != {op} or not isinstance(parts, list) or not parts:
            raise ConditionError(f"{op}: expects a non-empty list of conditions and nothing else")
        for part in parts:
            validate(part, fields=fields, keys_of=keys_of)
        return
    if "not" in cond:
        if set(cond) != {"not"}:
            raise ConditionError("not: expects one condition and nothing else")
        validate(cond["not"], fields=fields, keys_of=keys_of)
        return
    if "age_at" in cond:
        ref = cond["age_at"]
        between = cond.get("between")
        if set(cond) != {"age_at", "between"}:
            raise ConditionError("age_at: expects exactly age_at and between")
        if ref not in fields:
            raise ConditionError(f"age_at names unknown field {ref!r}")
        if "Date_of_Birth" not in fields:
            raise ConditionError("age_at needs a Date_of_Birth field")
        if (
            not isinstance(between, list)
            or len(between) != 2
            or not all(isinstance(b, int) for b in between)
            or between[0] > between[1]
        ):
            raise ConditionError(f"age_at between must be [low, high] whole years, not {between!r}")
        return
    if "field" in cond:
        name = cond["field"]
        if name not in fields:
            raise ConditionError(f"condition names unknown field {name!r}")
        tests = set(cond) - {"field"}
        if len(tests) != 1 or not tests <= {"in", "key_prefix", "present"}:
            raise ConditionError(
                f"field {name!r}: give exactly one of in, key_prefix, present (got {sorted(tests)})"
            )
        test = tests.pop()
        if test == "present":
            if not isinstance(cond["present"], bool):
                raise ConditionError(f"field {name!r}: present must be true or false")
            return
        keys = keys_of(name)
        if keys is None:
            raise ConditionError(f"field {name!r} has no defined list, so {test} cannot apply")
        if test == "in":
            wanted = cond["in"]
            if not isinstance(wanted, list) or not wanted:
                raise ConditionError(f"field {name!r}: in expects a non-empty list of value keys")
            unknown = [k for k in wanted if k not in keys]
            if unknown:
                raise ConditionError(f"field {name!r}: unknown value key(s) {unknown}")
        else:
            prefix = cond["key_prefix"]
            if not isinstance(prefix, str) or not any(k.startswith(prefix) for k in keys):
                raise ConditionError(f"field {name!r}: no value key starts with {prefix!r}")
        return
    raise ConditionError(f"unknown condition {dict(cond)!r}; expected one of {', '.join(_OPS)}")


def referenced_fields(cond: Condition) -> set[str]:
    """The fields a condition reads (for docs and dependency checks)."""
    if isinstance(cond, str):
        return set()
    if "all" in cond or "any" in cond:
        return set().union(*(referenced_fields(c) for c in cond.get("all", cond.get("any", []))))
    if "not" in cond:
        return referenced_fields(cond["not"])
    if "age_at" in cond:
        return {cond["age_at"], "Date_of_Birth"}
    return {cond["field"]}


def _blank(name: str) -> pl.Expr:
    import polars as pl

    # blank or only white space: the same test as ``strip_chars() == ""`` (both Unicode
    # White_Space) without a stripped copy of every field's text
    col = pl.col(name)
    return col.is_null() | col.str.contains(r"^\s*$")


def age_in_years(dob: pl.Expr, at: pl.Expr) -> pl.Expr:
    """Whole years between two date expressions (birthday counts on the day itself)."""
    import polars as pl

    years = at.dt.year().cast(pl.Int32) - dob.dt.year().cast(pl.Int32)
    before_birthday = (at.dt.month() < dob.dt.month()) | (
        (at.dt.month() == dob.dt.month()) & (at.dt.day() < dob.dt.day())
    )
    return years - before_birthday.cast(pl.Int32)


def atom_key(cond: Condition) -> str:
    """A canonical text for a leaf test (a field or age test), to share it between fields."""
    return json.dumps(cond, sort_keys=True, default=list)


def leaves(cond: Condition) -> list[Condition]:
    """The leaf tests of a condition (field tests and age tests), in order."""
    if isinstance(cond, str):
        return []
    if "all" in cond or "any" in cond:
        return [leaf for part in cond.get("all", cond.get("any")) for leaf in leaves(part)]
    if "not" in cond:
        return leaves(cond["not"])
    return [cond]


def compile_condition(
    cond: Condition,
    *,
    texts_of_keys: Callable[[str, list[str]], list[str]],
    all_texts: Callable[[str], list[str]],
    keys_with_prefix: Callable[[str, str], list[str]],
    date_format: str,
    atoms: Mapping[str, pl.Expr] | None = None,
) -> pl.Expr:
    """A Boolean polars expression (null = undetermined) for a validated condition.

    ``texts_of_keys(field, keys)`` gives the file texts meaning those keys (all releases'
    spellings, so an R1 spelling in an R2 file still determines the status; its validity is
    reported separately). ``all_texts(field)`` gives every known text of the field's list.
    ``atoms`` (by :func:`atom_key`) replaces leaf tests by expressions already computed, e.g.
    columns holding each distinct leaf of a spec once, shared by every field's condition.
    """
    import polars as pl

    def comp(c: Condition) -> pl.Expr:
        if atoms is not None and isinstance(c, Mapping) and not _compound_or_not(c):
            shared = atoms.get(atom_key(c))
            if shared is not None:
                return shared
        if c == "always":
            return pl.lit(True)
        if c == "never":
            return pl.lit(False)
        assert isinstance(c, Mapping)
        if "all" in c:
            parts = [comp(p) for p in c["all"]]
            out = parts[0]
            for p in parts[1:]:
                out = out & p
            return out
        if "any" in c:
            parts = [comp(p) for p in c["any"]]
            out = parts[0]
            for p in parts[1:]:
                out = out | p
            return out
        if "not" in c:
            return ~comp(c["not"])
        if "age_at" in c:
            low, high = c["between"]
            dob = pl.col("Date_of_Birth").str.to_date(date_format, strict=False)
            at = pl.col(c["age_at"]).str.to_date(date_format, strict=False)
            age = age_in_years(dob, at)
            return pl.when(age.is_null()).then(pl.lit(None, pl.Boolean)).otherwise(
                age.is_between(low, high)
            )
        name = c["field"]
        if "present" in c:
            present = ~_blank(name)
            return present if c["present"] else ~present
        keys = c["in"] if "in" in c else keys_with_prefix(name, c["key_prefix"])
        wanted = texts_of_keys(name, keys)
        known = all_texts(name)
        col = pl.col(name)
        return (
            pl.when(_blank(name))
            .then(pl.lit(False))
            .when(col.is_in(wanted))
            .then(pl.lit(True))
            .when(col.is_in(known))
            .then(pl.lit(False))
            .otherwise(pl.lit(None, pl.Boolean))
        )

    return comp(cond)


def describe(cond: Condition, value_text: Callable[[str, str], str] | None = None) -> str:
    """Plain-English text of a condition, for the exported spec."""

    def text(field: str, key: str) -> str:
        return value_text(field, key) if value_text else key

    def d(c: Condition) -> str:
        if c == "always":
            return "always"
        if c == "never":
            return "never"
        assert isinstance(c, Mapping)
        if "all" in c:
            return " AND ".join(f"({d(p)})" if _compound(p) else d(p) for p in c["all"])
        if "any" in c:
            return " OR ".join(f"({d(p)})" if _compound(p) else d(p) for p in c["any"])
        if "not" in c:
            return f"NOT ({d(c['not'])})"
        if "age_at" in c:
            low, high = c["between"]
            return f"age at {c['age_at']} is {low}-{high}"
        name = c["field"]
        if "present" in c:
            return f"{name} is {'filled' if c['present'] else 'blank'}"
        if "in" in c:
            vals = ", ".join(f"'{text(name, k)}'" for k in c["in"])
            return f"{name} is {vals}" if len(c["in"]) == 1 else f"{name} in ({vals})"
        return f"{name} starts '{c['key_prefix']}…'"

    return d(cond)


def _compound_or_not(c: Mapping[str, Any]) -> bool:
    return "all" in c or "any" in c or "not" in c


def _compound(c: Condition) -> bool:
    return isinstance(c, Mapping) and ("all" in c or "any" in c)
