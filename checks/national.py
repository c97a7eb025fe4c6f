"""The national picture: per national DQ module and field, the cells the national DQ report
will count as failed.

The national method (DHSC ASC-CLD-LA-Dashboard, commit
9bee728f40102c4f6cee25a5511c5144c2209b4c, ``Stored_procedures/create_GetDQValues_procedure.sql``,
aggregated by ``8.DQ_Values_table.sql``) takes, for every record and data field, a field status
``cond_`` and a validation result ``chk_`` and counts records per module x field x
FieldStatus x FieldValidity, labelling ``chk_``:

* ``chk_ >= 1``            Passed: Valid
* ``chk_ = 0``             Passed: Blank (Not Mandatory)
* ``chk_ = -1``            Failed: Blank (Mandatory)
* ``-7 < chk_ < -1``       Failed: Invalid
* ``chk_ = -7``            Failed: Release 1

Every record counts, whatever its status (the procedure keeps all of them; its module list
is the one in the SELECT ... CROSS APPLY (VALUES ...)). This project computes the same
status and validity per row and field (``cld_schema.status``, the ``__status`` and
``__validity`` columns); this module only counts them the national way.

The national figure can differ from this project's verdict by policy: a blank NHS number is a
warning here (NHS England traces it) but ``Failed: Blank (Mandatory)`` nationally, so a file
"ready to submit" can still show failed cells in the national report. ``not_errors_here``
says how many failed cells of a field this project does not treat as an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

NATIONAL_DQ_COLUMNS: dict[str, pl.DataType] = {
    "module": pl.String(),
    "field": pl.String(),
    "label": pl.String(),
    "cells": pl.Int64(),
    "failed_blank_mandatory": pl.Int64(),
    "failed_invalid": pl.Int64(),
    "failed_release_1": pl.Int64(),
    "failed": pl.Int64(),
    "errors_here": pl.Int64(),
    "not_errors_here": pl.Int64(),
}
_TAXONOMY = ("module", "field", "status", "validity", "rows")

if TYPE_CHECKING:
    from cld_schema import Spec
    from pipelines.period import Period


def national_validity(validity: pl.Expr) -> pl.Expr:
    """The national FieldValidity label of a ``chk_`` code (GetDQValues' CASE, 9bee728)."""
    return (
        pl.when(validity >= 1)
        .then(pl.lit("Passed: Valid"))
        .when(validity == 0)
        .then(pl.lit("Passed: Blank (Not Mandatory)"))
        .when(validity == -1)
        .then(pl.lit("Failed: Blank (Mandatory)"))
        .when((validity > -7) & (validity < -1))
        .then(pl.lit("Failed: Invalid"))
        .when(validity == -7)
        .then(pl.lit("Failed: Release 1"))
        .otherwise(pl.lit(None, pl.String))
    )


def _taxonomy_of(frame: pl.DataFrame, spec: Spec, period: Period | None) -> pl.DataFrame:
    from checks.engine import prepare, taxonomy

    return taxonomy(prepare(frame, spec, period).df, spec)


def national_dq(
    source: pl.DataFrame,
    spec: Spec,
    findings: pl.DataFrame | None = None,
    period: Period | None = None,
) -> pl.DataFrame:
    """Per national module and field (spec order), the cells the national DQ report will
    count as failed.

    ``source`` is either a check's taxonomy (``CheckResult.taxonomy``: module, field, status,
    validity, rows) or a CLD frame (its field status is then computed here; ``period`` as
    for ``run_checks``). ``findings`` (the check's findings) fills ``errors_here``: the cells
    of the field holding an error-severity finding (a field check, or a logical rule naming
    the field, e.g. a completed event without its end date); without
    it ``errors_here`` and ``not_errors_here`` are null.

    Columns: module, field, label, cells (records counted), failed_blank_mandatory
    (validity -1), failed_invalid (-2..-6), failed_release_1 (-7), failed (their sum),
    errors_here, not_errors_here (failed cells this project does not call an error, e.g. a
    blank NHS number, which is a warning here).
    """
    tax = source if set(_TAXONOMY) <= set(source.columns) else _taxonomy_of(source, spec, period)
    label = national_validity(pl.col("validity"))
    counts = tax.group_by("field").agg(
        pl.col("rows").sum().alias("cells"),
        pl.col("rows")
        .filter(label == "Failed: Blank (Mandatory)")
        .sum()
        .alias("failed_blank_mandatory"),
        pl.col("rows").filter(label == "Failed: Invalid").sum().alias("failed_invalid"),
        pl.col("rows").filter(label == "Failed: Release 1").sum().alias("failed_release_1"),
    )
    fields = pl.DataFrame(
        {
            "module": [f.module for f in spec.fields],
            "field": [f.name for f in spec.fields],
            "label": [f.label for f in spec.fields],
        },
        schema={"module": pl.String, "field": pl.String, "label": pl.String},
    )
    out = fields.join(counts, on="field", how="left", maintain_order="left").with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64)
        for c in ("cells", "failed_blank_mandatory", "failed_invalid", "failed_release_1")
    )
    out = out.with_columns(
        (
            pl.col("failed_blank_mandatory") + pl.col("failed_invalid") + pl.col("failed_release_1")
        ).alias("failed")
    )
    if findings is None:
        out = out.with_columns(
            pl.lit(None, pl.Int64).alias("errors_here"),
            pl.lit(None, pl.Int64).alias("not_errors_here"),
        )
    else:
        here = (
            findings.filter(
                (pl.col("severity") == "error")
                & pl.col("row").is_not_null()
                & pl.col("field").is_not_null()
            )
            .group_by("field")
            .agg(pl.col("row").n_unique().cast(pl.Int64).alias("errors_here"))
        )
        out = (
            out.join(here, on="field", how="left", maintain_order="left")
            .with_columns(pl.col("errors_here").fill_null(0))
            .with_columns(
                (pl.col("failed") - pl.min_horizontal("failed", "errors_here"))
                .cast(pl.Int64)
                .alias("not_errors_here")
            )
        )
    return out.select(list(NATIONAL_DQ_COLUMNS)).cast(NATIONAL_DQ_COLUMNS)


def national_failed_lines(table: pl.DataFrame) -> list[str]:
    """The printed lines of ``national_dq``: fields with failed cells, by module."""
    failed = table.filter(pl.col("failed") > 0)
    lines = []
    for module in failed["module"].unique(maintain_order=True):
        lines.append(f"  {module}")
        for r in failed.filter(pl.col("module") == module).iter_rows(named=True):
            kinds = [
                f"{r['failed_blank_mandatory']:,} blank (mandatory)"
                if r["failed_blank_mandatory"]
                else "",
                f"{r['failed_invalid']:,} invalid" if r["failed_invalid"] else "",
                f"{r['failed_release_1']:,} Release 1" if r["failed_release_1"] else "",
            ]
            note = ""
            if r["not_errors_here"]:
                note = f"  ({r['not_errors_here']:,} not an error here)"
            lines.append(
                f"    {r['failed']:>8,}  {r['field']:<32} {', '.join(k for k in kinds if k)}{note}"
            )
    return lines
