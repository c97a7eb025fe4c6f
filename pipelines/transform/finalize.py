"""The last steps of the transform: map every local code at once, convert to Release 2 when
asked, format dates, and lay the frame out as docs/contracts.md section 2 says.

Mapping happens here, on the rows actually sent, so the unmapped report counts rows of the file
(a code on a person with three events counts three). Any table holding a ``<Field>`` column can
map that field: the row's ``_map__<Field>`` says which one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.mappings import OVERRIDE, Mappings, MappingTable
from pipelines.transform.common import CKBA, Context, code_col, map_col

if TYPE_CHECKING:
    from cld_schema import Spec

UNMAPPED_SCHEMA = {"mapping": pl.String, "field": pl.String, "code": pl.String, "rows": pl.Int64}
DATE_FIELDS = {
    "Date_of_Birth": "_dob",
    "Date_of_Death": "_dod",
    "Event_Start_Date": "_start",
    "Event_End_Date": "_end",
}
FREE_TEXT_TYPES = {"text", "postcode"}
# the file's row order (the internal columns, before they become text)
SORT_KEYS = ["_person_id", "_start", "Event_Type", "Event_Reference", "_step_id"]
INTERNAL = ["_row", "_person_id", "_step_id", "_source", "_team_id", "_team_name", "_worker_name"]


def coded_fields(columns: list[str]) -> list[str]:
    return [c.removeprefix("_code__") for c in columns if c.startswith("_code__")]


def _tables_for(field_name: str, mappings: Mappings) -> list[MappingTable]:
    return [t for t in mappings.tables.values() if field_name in t.fields]


def _per_table(field_name: str, tables: list[MappingTable], target: str | None) -> pl.Expr:
    """The value of ``target`` (a column of the tables, or None for "has a row") for the row's
    code in the row's table; tables are few per field, so one small lookup each."""
    out: pl.Expr = pl.lit(None, pl.Boolean if target is None else pl.String)
    code, table = pl.col(code_col(field_name)), pl.col(map_col(field_name))
    for t in tables:
        codes = t.frame.get_column("local_code")
        if target is None:
            hit = code.is_in(codes.implode())
        elif target in t.frame.columns:
            hit = code.replace_strict(
                codes, t.frame.get_column(target), default=None, return_dtype=pl.String
            )
        else:
            continue
        out = pl.when(table == t.name).then(hit).otherwise(out)
    return out


def has_row(field_name: str, mappings: Mappings) -> pl.Expr:
    """True where the row's code has a row in its mapping table (else it is unmapped)."""
    return _per_table(field_name, _tables_for(field_name, mappings), None).fill_null(False)


def release_override(field_name: str, release: str, mappings: Mappings) -> pl.Expr:
    """The mapping table's ``<Field>@<release>`` value (e.g. ``Service_Type@R2``) for the
    row's code (null if none)."""
    return _per_table(
        field_name, _tables_for(field_name, mappings), f"{field_name}{OVERRIDE}{release}"
    )


def map_codes(rows: pl.DataFrame, mappings: Mappings) -> pl.DataFrame:
    """Map every coded field (vectorised lookups); a text set directly by a rule wins.

    The code columns stay (for the unmapped report and Release 2 overrides, computed from them
    when needed rather than stored: a large county has 250k rows × 24 fields)."""
    exprs = []
    for f in coded_fields(rows.columns):
        direct = pl.col(f) if f in rows.columns else pl.lit(None, pl.String)
        exprs.append(pl.coalesce(direct, _per_table(f, _tables_for(f, mappings), f)).alias(f))
    return rows.with_columns(exprs)


def unmapped_report(full: pl.DataFrame, mappings: Mappings) -> pl.DataFrame:
    """Local codes with no row in their mapping table, with the number of file rows."""
    parts = []
    for f in coded_fields(full.columns):
        missing = full.filter(pl.col(code_col(f)).is_not_null() & ~has_row(f, mappings))
        if missing.height == 0:
            continue
        parts.append(
            missing.group_by(map_col(f), code_col(f))
            .len()
            .select(
                pl.when(pl.col(map_col(f)).is_in(list(mappings.tables)))
                .then(pl.col(map_col(f)) + ".csv")
                .otherwise(pl.col(map_col(f)) + ".csv (missing)")
                .alias("mapping"),
                pl.lit(f).alias("field"),
                pl.col(code_col(f)).alias("code"),
                pl.col("len").cast(pl.Int64).alias("rows"),
            )
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=UNMAPPED_SCHEMA)


def to_release(
    full: pl.DataFrame, spec: Spec, older: Spec, mappings: Mappings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``older`` texts → ``spec``'s (the next release): the mapping's ``@<release>`` override
    for the row's code, else the spec's translation (``Spec.translate_from``). A value with
    neither is blanked and reported, never guessed."""
    reports, exprs = [], []
    source = f"cld_schema {older.release}→{spec.release}"
    for f, converted in spec.translate_from(older).items():
        if f not in full.columns:
            continue
        override = (
            release_override(f, spec.release, mappings)
            if code_col(f) in full.columns
            else pl.lit(None, pl.String)
        )
        exprs.append(pl.coalesce(override, converted).alias(f))
        lost = full.filter(pl.col(f).is_not_null() & override.is_null() & converted.is_null())
        if lost.height:
            reports.append(
                lost.group_by(f)
                .len()
                .select(
                    pl.lit(source).alias("mapping"),
                    pl.lit(f).alias("field"),
                    pl.col(f).alias("code"),
                    pl.col("len").cast(pl.Int64).alias("rows"),
                )
            )
    out = full.with_columns(exprs)
    report = pl.concat(reports) if reports else pl.DataFrame(schema=UNMAPPED_SCHEMA)
    return out, report


def _portal_safe(expr: pl.Expr, free_text: bool) -> pl.Expr:
    """Trim every value; free text also loses leading '=', '+', '-', '@' (the portal rejects a
    value starting with one: case notes like '- see file' must not stop the submission)."""
    # strip_chars trims Unicode white space, as the regex \s does; only the free text's start
    # needs a regex (a pattern anchored at ^ matches once)
    cleaned = expr.str.strip_chars_end()
    if free_text:
        cleaned = cleaned.str.replace(r"^[=+\-@\s]+", "")
    else:
        cleaned = cleaned.str.strip_chars_start()
    return pl.when(cleaned.str.len_bytes() > 0).then(cleaned).otherwise(None)


def layout(full: pl.DataFrame, spec: Any, ctx: Context) -> pl.DataFrame:
    """Spec fields in order, all String, then the internal columns; rows in a stable order."""
    fmt = spec.date_format
    frame = full.with_columns(
        pl.lit(ctx.la_code).alias("LA_Code"),
        pl.lit(ctx.start.strftime(fmt)).alias("Reporting_Period_Start_Date"),
        pl.lit(ctx.end.strftime(fmt)).alias("Reporting_Period_End_Date"),
        *[pl.col(src).dt.to_string(fmt).alias(dst) for dst, src in DATE_FIELDS.items()],
    )
    have = set(frame.columns)
    cols = [
        _portal_safe(
            (pl.col(f) if f in have else pl.lit(None)).cast(pl.String),
            spec.field(f).type in FREE_TEXT_TYPES,
        ).alias(f)
        for f in spec.field_names
    ]
    internal = [
        pl.col("_person_id").cast(pl.String),
        pl.col("_step_id").cast(pl.String),
        pl.col("_source").cast(pl.String),
        pl.col("_team_id").cast(pl.String),
        pl.col("_team_name").cast(pl.String),
        pl.col("_worker_name").cast(pl.String),
    ]
    # sorted after the select: the same rows in the same order, fewer columns to move
    keys = [pl.col(k).alias(f"__sort{i}") for i, k in enumerate(SORT_KEYS)]
    out = frame.select(*cols, *internal, *keys).sort(
        [f"__sort{i}" for i in range(len(SORT_KEYS))], nulls_last=True
    )
    out = out.drop([f"__sort{i}" for i in range(len(SORT_KEYS))]).with_row_index("_row")
    return out.select(*spec.field_names, *INTERNAL)


def row_counts(full: pl.DataFrame, ckba_text: str) -> dict[str, dict[str, int]]:
    """Rows by event type and end month (YYYY-MM; 'open' for open services), for the summary."""
    counted = full.select(
        pl.when(pl.col("_client") == CKBA)
        .then(pl.lit(ckba_text))
        .otherwise(pl.col("Event_Type").fill_null("(none)"))
        .alias("type"),
        pl.when(pl.col("_client") == CKBA)
        .then(pl.lit("-"))
        .otherwise(pl.col("_end").dt.strftime("%Y-%m").fill_null("open"))
        .alias("month"),
    )
    out: dict[str, dict[str, int]] = {}
    for t, m, n in counted.group_by("type", "month").len().sort("type", "month").iter_rows():
        out.setdefault(t, {})[m] = int(n)
    return out
