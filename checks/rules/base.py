"""The pieces every logical rule unit is built from.

A rule is one small function registered under its catalogue id. It receives a
:class:`RuleContext` (the spec and the period) and returns a polars boolean expression that
is True on the failing rows. Group rules ("one per person", "links exist") are still plain
expressions, using ``.over()`` or ``is_in`` on the same frame, so the engine can evaluate every
rule in one lazy plan and collect once.

Rules refer to defined-list values by their stable KEY (``ctx.v("Event_Type", "SERVICE")``),
never by the text, so the same rule works for Release 1 and Release 2 files.

The engine prepares typed helper columns before evaluating rules: ``__d_<Field>`` (date) for
every date field, ``__n_<Field>`` (Float64) for every number field, and ``__pstart``/``__pend``
(the reporting period as dates) and ``__pid`` (the person id hashed, for windows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from cld_schema.errors import CldError

RuleFn = Callable[["RuleContext"], pl.Expr]
EachFieldFn = Callable[["RuleContext", str], pl.Expr]

_REGISTRY: dict[str, Callable[..., pl.Expr]] = {}


def rule(rule_id: str) -> Callable[[Callable[..., pl.Expr]], Callable[..., pl.Expr]]:
    """Register a rule function under its catalogue id (a duplicate id is a bug)."""

    def deco(fn: Callable[..., pl.Expr]) -> Callable[..., pl.Expr]:
        if rule_id in _REGISTRY:
            raise ValueError(f"rule {rule_id} registered twice")
        _REGISTRY[rule_id] = fn
        return fn

    return deco


def registry() -> dict[str, Callable[..., pl.Expr]]:
    """All registered rule functions (importing ``checks.rules`` fills this)."""
    return dict(_REGISTRY)


class UnknownValueKey(CldError, KeyError):
    """A rule names a field or a defined-list value KEY that the spec does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _list_value(spec: Any, field_name: str, key: str) -> Any:
    """The defined-list value ``key`` of ``field_name``, looked up in this release's spec or,
    for a field this release lacks, in another release's (KEYs are checked against them all)."""
    from cld_schema import RELEASES, load_spec

    where = f"rule value {field_name}/{key}"
    for s in [spec, *(load_spec(r) for r in RELEASES if r != spec.release)]:
        if not s.has_field(field_name):
            continue
        dl = s.list_of(field_name)
        if dl is None:
            raise UnknownValueKey(f"{where}: {field_name} has no defined list")
        for value in dl.values:
            if value.key == key:
                return value
        raise UnknownValueKey(f"{where}: the list {dl.name} has no value key {key!r}")
    raise UnknownValueKey(f"{where}: no release has a field {field_name!r}")


@dataclass
class RuleContext:
    """What a rule may know besides the row: the spec and the reporting period."""

    spec: Any
    period_start: date | None = None
    period_end: date | None = None
    _cache: dict[tuple[str, str], str | None] = field(default_factory=dict)

    @property
    def release(self) -> str:
        return self.spec.release

    def v(self, field_name: str, key: str) -> str | None:
        """Text of a defined-list value by KEY in this release; None only when the KEY has no
        text in this release. A field no release has, a field without a defined list or a KEY
        its list does not hold raises :class:`UnknownValueKey` (a misspelt rule fails when its
        plan is built, not silently)."""
        ck = (field_name, key)
        if ck not in self._cache:
            self._cache[ck] = _list_value(self.spec, field_name, key).text(self.release)
        return self._cache[ck]

    def vals(self, field_name: str, *keys: str) -> list[str]:
        """Texts of several KEYs, skipping those this release does not have."""
        return [t for k in keys if (t := self.v(field_name, k)) is not None]

    def has(self, field_name: str) -> bool:
        return self.spec.has_field(field_name)


# --- expression helpers -------------------------------------------------------------------


def c(name: str) -> pl.Expr:
    """The raw text of a field."""
    return pl.col(name)


def d(name: str) -> pl.Expr:
    """A date field as a date (null when blank or unparseable)."""
    return pl.col(f"__d_{name}")


def n(name: str) -> pl.Expr:
    """A number field as Float64 (null when blank or not a number)."""
    return pl.col(f"__n_{name}")


PSTART = pl.col("__pstart")
PEND = pl.col("__pend")


def present(name: str) -> pl.Expr:
    return pl.col(name).is_not_null()


def blank(name: str) -> pl.Expr:
    return pl.col(name).is_null()


def is_in(name: str, values: list[str]) -> pl.Expr:
    """Membership that is False (not null) for blanks and for an empty value list."""
    if not values:
        return pl.lit(False)
    return pl.col(name).is_in(values).fill_null(False)


def event_is(ctx: RuleContext, *keys: str) -> pl.Expr:
    return is_in("Event_Type", ctx.vals("Event_Type", *keys))


def client_is(ctx: RuleContext, *keys: str) -> pl.Expr:
    return is_in("Client_Type", ctx.vals("Client_Type", *keys))


def ckba(ctx: RuleContext) -> pl.Expr:
    return client_is(ctx, "CARER_KNOWN_BY_ASSOCIATION")


def person_key() -> pl.Expr:
    """The person a row is about: the council id (the national fallback key)."""
    return pl.col("LA_Person_Unique_Identifier")


def person_group() -> pl.Expr:
    """The council id as a 64-bit hash (helper column ``__pid``): the key for one-per-person
    windows, hashed once instead of once per rule."""
    return pl.col("__pid")


def years_between(earlier: pl.Expr, later: pl.Expr) -> pl.Expr:
    """Whole years from ``earlier`` to ``later`` (age on a date), vectorised."""
    years = later.dt.year().cast(pl.Int32) - earlier.dt.year().cast(pl.Int32)
    before_birthday = (later.dt.month() < earlier.dt.month()) | (
        (later.dt.month() == earlier.dt.month()) & (later.dt.day() < earlier.dt.day())
    )
    return years - before_birthday.cast(pl.Int32)


def nunique_over(value: pl.Expr, by: pl.Expr) -> pl.Expr:
    """Number of distinct non-blank values of ``value`` within the group ``by``."""
    return value.drop_nulls().n_unique().over(by)


def f(expr: pl.Expr) -> pl.Expr:
    """A failing-row flag never null (null comparisons mean 'cannot tell' = not failing)."""
    return expr.fill_null(False)
