"""Transform: case-management tables + provider feeds → a CLD frame (docs/contracts.md §2).

One lazy polars plan per event type (``requests``, ``assessments``, ``reviews``, ``services``,
``provider``), stacked in a common staging shape (``staging``), joined to the person
attributes (``person``) and carer links (``carers``), collected once, then mapped through the
council's mapping tables and converted to the release (``finalize``). The rules come from
``shared/reference/cld/rules.md`` sections 1, 2 and 4; each module says which.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from pipelines.mappings import Mappings, load_mappings
from pipelines.period import Period
from pipelines.transform import finalize
from pipelines.transform.assessments import build_assessments
from pipelines.transform.carers import carer_links, known_by_association
from pipelines.transform.common import (
    CARER,
    CKBA,
    ENGINE,
    SERVICE_USER,
    Context,
    code_col,
    map_col,
)
from pipelines.transform.person import deaths, funding_status, owners, person_attributes
from pipelines.transform.provider import feed_rows
from pipelines.transform.requests import build_requests
from pipelines.transform.reviews import build_reviews
from pipelines.transform.services import build_services
from pipelines.transform.staging import conform

if TYPE_CHECKING:
    from cld_schema import Spec
from pipelines.transform.steps import in_scope_steps

__all__ = ["TransformResult", "transform"]

@dataclass
class TransformResult:
    frame: pl.DataFrame  # CLD frame, docs/contracts.md section 2
    unmapped: pl.DataFrame  # mapping, field, code, rows
    counts: dict[str, dict[str, int]]  # event type -> month (YYYY-MM | open) -> rows
    excluded: dict[str, int]  # reason -> source records left out
    release: str = ""  # the release the frame is in (always set by transform)
    feed_unmatched: int = 0  # feed rows not matched to a person (listed by pipelines.source.feeds)


def client_type_fields(spec: Spec) -> tuple[list[str], list[str]]:
    """The fields that apply to service users only and to carers only, from the spec's
    ``applies`` conditions (``Dementia`` applies to SERVICE_USER, ``Total_Hrs_Caring_per_week``
    to CARER and CARER_KNOWN_BY_ASSOCIATION)."""
    return (
        spec.fields_applying(field="Client_Type", keys=[SERVICE_USER]),
        spec.fields_applying(field="Client_Type", keys=[CARER, CKBA]),
    )


def _client_rules(rows: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    """Fields by client type: service-user-only fields blank for carers, carer fields blank for
    service users, carers' PSR 'Social Support: Support to Carer' (rules.md 3 and 4)."""
    su = pl.col("_client") == SERVICE_USER
    names = set(rows.collect_schema().names())
    exprs = []
    service_user_only, carer_only = client_type_fields(ctx.spec)
    for f in (*service_user_only, *carer_only):
        keep = su if f in service_user_only else ~su
        for c in (f, code_col(f), map_col(f)):
            if c in names:
                exprs.append(pl.when(keep).then(pl.col(c)).otherwise(None).alias(c))
    psr = ctx.text("Primary_Support_Reason", "SUPPORT_TO_CARER")
    exprs += [
        pl.when(su)
        .then(pl.col(code_col("Primary_Support_Reason")))
        .otherwise(None)
        .alias(code_col("Primary_Support_Reason")),
        pl.when(su).then(None).otherwise(pl.lit(psr)).alias("Primary_Support_Reason"),
        pl.col("_client")
        .replace_strict(
            {k: ctx.text("Client_Type", k) for k in (SERVICE_USER, CARER, CKBA)},
            return_dtype=pl.String,
        )
        .alias("Client_Type"),
    ]
    return rows.with_columns(exprs)


def stage_rows(tables: dict[str, pl.DataFrame], feeds: Any, ctx: Context) -> pl.LazyFrame:
    """All CLD rows in staging shape, person attributes and carer links joined."""
    steps = in_scope_steps(tables, ctx)
    events = [
        build_requests(steps, tables, ctx),
        build_assessments(steps, tables, ctx),
        build_reviews(steps, tables, ctx),
        build_services(tables, deaths(tables, ctx), ctx),
        *feed_rows(feeds, ctx),
    ]
    # Materialised once: the events feed both the CKBA search and the joins below, and polars
    # otherwise plans the event builders twice.
    rows = pl.concat([conform(e) for e in events], how="vertical").collect(engine=ENGINE).lazy()
    rows = pl.concat([rows, known_by_association(rows, tables, ctx)], how="vertical")
    rows = funding_status(rows, tables, ctx)
    rows = rows.join(person_attributes(tables, ctx), on="_person_id", how="left")
    rows = rows.join(carer_links(tables, ctx).drop("_rel_id"), on="_person_id", how="left")
    rows = owners(rows, tables)
    return _client_rules(rows, ctx)


def transform(
    tables: dict[str, pl.DataFrame],
    feeds: Any,
    period: Period,
    release: str,
    mappings_dir: Path | str,
    la_code: str,
    *,
    mappings: Mappings | None = None,
) -> TransformResult:
    """Build the CLD frame for ``period`` (rolling 12 months) in ``release`` (one named in
    ``releases.yaml``)."""
    from cld_schema import RELEASES, load_spec

    if release not in RELEASES:
        raise ValueError(f"release {release!r} is not one of {', '.join(RELEASES)}")
    spec_out = load_spec(release)
    # rows are built in the first release's texts, then translated release by release along
    # the based_on chain up to the one asked for
    chain = [load_spec(r) for r in reversed(spec_out.earlier)] + [spec_out]
    spec_base = chain[0]
    if mappings is None:
        mappings = load_mappings(mappings_dir, spec_base)
    ctx = Context(period=period, spec=spec_base, mappings=mappings, la_code=la_code)
    staged = stage_rows(tables, feeds, ctx)
    full = finalize.map_codes(staged.collect(engine=ENGINE), mappings)
    unmapped = [finalize.unmapped_report(full, mappings), *ctx.unmapped_early]
    counts_ckba = spec_out.value("Client_Type", CKBA)
    for older, newer in itertools.pairwise(chain):
        full, lost = finalize.to_release(full, newer, older, mappings)
        unmapped.append(lost)
    report = (
        pl.concat([u.cast(finalize.UNMAPPED_SCHEMA) for u in unmapped if u.height]).sort(
            "mapping", "field", "code"
        )
        if any(u.height for u in unmapped)
        else pl.DataFrame(schema=finalize.UNMAPPED_SCHEMA)
    )
    frame = finalize.layout(full, spec_out, ctx)
    return TransformResult(
        frame=frame,
        unmapped=report,
        counts=finalize.row_counts(full, counts_ckba),
        excluded=dict(sorted(ctx.excluded.items())),
        release=release,
        feed_unmatched=feeds.unmatched.height
        if getattr(feeds, "unmatched", None) is not None
        else 0,
    )
