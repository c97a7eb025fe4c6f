"""Carers (rules.md section 1, GLOSS 6664/6641).

* Carer rows (Client_Type Carer: a carer's own steps and carer-support services) carry the
  cared-for people as ``Adult_1..3_Linked_Person_ID`` (carer relationships active in the
  period, oldest first, at most three), ``No_of_adults_being_cared_for`` (all of them) and
  ``Total_Hrs_Caring_per_week`` (the latest relationship's caring-hours code, mapped).
* Carer known by association (CKBA): a carer with a relationship active in the period who has
  no carer rows of their own, while a cared-for person has rows in the file (the carer shows
  only on the cared-for person's records). One person row, no event fields, linked ids set.
* The cared-for person's details are never added for a carer's sake: a cared-for person appears
  only through their own events (a link to a person not in the file is a finding for the checks).
"""

from __future__ import annotations

import polars as pl

from pipelines.transform.common import CARER, CKBA, Context
from pipelines.transform.person import active_relationships
from pipelines.transform.staging import coded, conform

MAX_LINKS = 3


def carer_links(tables: dict[str, pl.DataFrame], ctx: Context) -> pl.LazyFrame:
    """One row per carer: linked ids, count of adults cared for, caring-hours code."""
    rel = active_relationships(tables, ctx).sort(
        "carer_person_id", "start_date", "cared_for_person_id", "relationship_id"
    )
    per_carer = rel.group_by("carer_person_id", maintain_order=True).agg(
        pl.col("cared_for_person_id").unique(maintain_order=True).alias("_linked"),
        pl.col("hours_caring_code").drop_nulls().last().alias("_hours"),
        pl.col("relationship_id").first().alias("_rel_id"),
    )
    return per_carer.select(
        pl.col("carer_person_id").alias("_person_id"),
        *[
            pl.col("_linked")
            .list.get(i, null_on_oob=True)
            .cast(pl.String)
            .alias(f"Adult_{i + 1}_Linked_Person_ID")
            for i in range(MAX_LINKS)
        ],
        pl.col("_linked").list.len().cast(pl.String).alias("No_of_adults_being_cared_for"),
        *coded("Total_Hrs_Caring_per_week", pl.col("_hours"), "caring_hours"),
        pl.col("_rel_id"),
    )


def known_by_association(
    rows: pl.LazyFrame, tables: dict[str, pl.DataFrame], ctx: Context
) -> pl.LazyFrame:
    """CKBA rows (staging shape) for carers seen only through the cared-for person's rows."""
    in_file = rows.select("_person_id").unique()
    own_carer_rows = rows.filter(pl.col("_client") == CARER).select("_person_id").unique()
    rel = active_relationships(tables, ctx)
    carers = (
        rel.join(in_file, left_on="cared_for_person_id", right_on="_person_id", how="semi")
        .group_by("carer_person_id")
        .agg(pl.col("relationship_id").min().alias("_rel_id"))
        .rename({"carer_person_id": "_person_id"})
        .join(own_carer_rows, on="_person_id", how="anti")
    )
    return conform(
        carers.select(
            "_person_id",
            pl.format("relationship:{}", pl.col("_rel_id")).alias("_step_id"),
            pl.lit("derived").alias("_source"),
            pl.lit(CKBA).alias("_client"),
        )
    )
