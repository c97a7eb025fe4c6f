"""What every part of the transform shares: the run context, the extract's status codes, and
the staging shape the event builders hand to the final mapping pass.

Staging rows (one per future CLD row) carry *local codes*, not CLD texts, for every mapped
field: ``_code__<Field>`` (the council's code) and ``_map__<Field>`` (which mapping table maps
it). The final pass (``pipelines.transform.mapping``) maps all of them at once, so unmapped codes
are counted on the rows actually sent, and Release 2 overrides (``<Field>@R2``) can be applied
per code. A builder that knows the value from the rules (e.g. 'Provision of service' for an
open service) puts the R1 text straight in the ``<Field>`` column and leaves the code null.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from cld_schema.errors import CldError
from pipelines.mappings import Mappings
from pipelines.period import Period

# polars engine for the transform's collects: measured on the large county (160k rows) the
# in-memory engine runs this plan (many joins, as-of joins, sorts) 2-3x faster than streaming.
ENGINE = "in-memory"

# Status codes of the extract: pipelines/source/tables.py (the source contract).

# Client kinds used while staging (turned into Client_Type texts at the end).
SERVICE_USER, CARER, CKBA = "SERVICE_USER", "CARER", "CARER_KNOWN_BY_ASSOCIATION"

# The mapping table behind each mapped CLD field (table = lower-case local picklist name).
FIELD_TABLES: dict[str, str] = {
    "Gender": "gender",
    "Ethnicity": "ethnicity",
    "Primary_Support_Reason": "psr",
    "Accommodation_Status": "accommodation",
    "Employment_Status": "employment",
    "Autism_Spectrum_Disorder_ASD": "condition",
    "Visual_Impairment": "condition",
    "Hearing_Impairment": "condition",
    "Dementia": "condition",
    "Client_Funding_Status": "funding",
    "Event_Outcome": "outcome",
    "Request_Route_of_Access": "route",
    "Eligible_Needs_Identified": "yesno",
    "Method_of_Assessment": "method",
    "Method_of_Review": "method",
    "Review_Reason": "review_reason",
    "Review_Outcomes_Achieved": "outcomes_met",
    "Service_Type": "service",
    "Service_Component": "service",
    "Delivery_Mechanism": "delivery",
    "Cost_Frequency_Unit_Type": "cost_frequency",
    "Total_Hrs_Caring_per_week": "caring_hours",
    "Event_Type": "step_type",
    "Assessment_Type": "step_type",
}
CONDITION_FIELDS = (
    "Autism_Spectrum_Disorder_ASD",
    "Visual_Impairment",
    "Hearing_Impairment",
    "Dementia",
)


def code_col(field_name: str) -> str:
    return f"_code__{field_name}"


def map_col(field_name: str) -> str:
    return f"_map__{field_name}"


@dataclass
class Context:
    """One transform run: the period, the R1 spec (the staging language), mappings, counters."""

    period: Period
    spec: Any  # cld_schema spec, Release 1
    mappings: Mappings
    la_code: str
    excluded: dict[str, int] = field(default_factory=dict)
    unmapped_early: list[pl.DataFrame] = field(default_factory=list)

    @property
    def start(self) -> date:
        return self.period.start

    @property
    def end(self) -> date:
        return self.period.end

    def text(self, field_name: str, key: str) -> str:
        """The R1 text of a defined-list value by its stable KEY (rules name these values)."""
        return self.spec.value(field_name, key)

    def text_or_none(self, field_name: str, key: str) -> str | None:
        try:
            return self.spec.value(field_name, key)
        except (KeyError, ValueError, LookupError):
            return None

    def lookup(self, table: str, target: str, code_name: str, value_name: str) -> pl.LazyFrame:
        return self.mappings.table(table).lookup(target, code_name=code_name, value_name=value_name)

    def count_excluded(self, counts: pl.DataFrame) -> None:
        """Add a frame of (reason, n) to the excluded counters."""
        for reason, n in counts.iter_rows():
            if reason is not None and n:
                self.excluded[reason] = self.excluded.get(reason, 0) + int(n)

    def keep_included(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """Count the rows left out by their ``_reason`` (records simply outside the period are
        not reported) and keep the rows with none."""
        reason = pl.col("_reason")
        self.count_excluded(
            rows.filter(reason.is_not_null() & (reason != "outside_period"))
            .group_by("_reason")
            .len()
            .collect(engine=ENGINE)
        )
        return rows.filter(reason.is_null())


def as_date(name: str, schema: pl.Schema) -> pl.Expr:
    """A column as ``pl.Date`` whatever the driver gave (Date, Datetime or ISO text)."""
    dtype = schema.get(name)
    col = pl.col(name)
    if dtype == pl.Date:
        return col
    if isinstance(dtype, pl.Datetime):
        return col.dt.date()
    if dtype == pl.String:
        return col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Null:
        return col.cast(pl.Date)
    return col.cast(pl.Date, strict=False)


def as_bool(name: str, schema: pl.Schema) -> pl.Expr:
    dtype = schema.get(name)
    col = pl.col(name)
    if dtype == pl.Boolean:
        return col.fill_null(False)
    if dtype == pl.String:
        return col.str.to_lowercase().is_in(["1", "true", "t", "yes", "y"]).fill_null(False)
    return col.cast(pl.Int64, strict=False).fill_null(0) != 0


def as_id(name: str) -> pl.Expr:
    """Ids as Int64 (drivers differ: Int32, Int64, Decimal, text)."""
    return pl.col(name).cast(pl.Int64, strict=False)


def as_text(name: str) -> pl.Expr:
    """Local codes and free text as trimmed String; blank becomes null."""
    e = pl.col(name).cast(pl.String).str.strip_chars()
    return pl.when(e.str.len_chars() > 0).then(e).otherwise(None)


class ExtractTableError(CldError, ValueError):
    """The extract lacks a table or a column the transform needs (the council's SQL files
    must select it); the message names the table, the column and the file."""


def table(tables: dict[str, pl.DataFrame], name: str, **types: str) -> pl.LazyFrame:
    """A source table as a LazyFrame with the named columns normalised.

    ``types`` maps column -> ``date`` | ``bool`` | ``id`` | ``text`` | ``num``; a column missing
    from the extract is an error naming the table, because the transform cannot guess it.
    """
    try:
        df = tables[name]
    except KeyError:
        raise ExtractTableError(
            f"extract has no table {name!r}: add sql/extract/{name}.sql (see docs/extract.md)"
        ) from None
    missing = [c for c in types if c not in df.columns]
    if missing:
        raise ExtractTableError(
            f"extract table {name!r} lacks column(s) {', '.join(missing)}: add them to "
            f"sql/extract/{name}.sql"
        )
    schema = df.schema
    exprs = []
    for col, kind in types.items():
        if kind == "date":
            exprs.append(as_date(col, schema).alias(col))
        elif kind == "bool":
            exprs.append(as_bool(col, schema).alias(col))
        elif kind == "id":
            exprs.append(as_id(col).alias(col))
        elif kind == "num":
            exprs.append(pl.col(col).cast(pl.Float64, strict=False).alias(col))
        else:
            exprs.append(as_text(col).alias(col))
    return df.lazy().select(exprs)


def in_period_date(col: str, ctx: Context) -> pl.Expr:
    return pl.col(col).is_between(pl.lit(ctx.start), pl.lit(ctx.end))
