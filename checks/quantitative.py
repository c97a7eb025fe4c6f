"""Quantitative expectations with Great Expectations (GX Core 1.24, ephemeral context).

These are dataset-level questions, so polars does the aggregation and GX validates small
pandas frames: completeness of each field among the rows it applies to (GX ``mostly``),
every month of the period holding requests, assessments and services (rules.md section 2),
volumes per event type and month within bounds, and the change in volumes against the
previous submission. Each failing expectation becomes a findings row (row = null).

Data Docs: GX's pages load Bootstrap, jQuery, vega and fonts from CDNs, so they are unstyled
offline. After building, :func:`make_offline` removes every remote stylesheet/script/font
reference and inlines a small stylesheet shipped in ``checks/static/``; the pages are plain
server-rendered HTML and stay readable without the network.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from checks import findings as F
from checks.gx_import import import_gx, start_gx_import  # noqa: F401  (their old home)
from checks.prepare import period_bounds
from checks.rules.base import RuleContext

STATIC = Path(__file__).with_name("static")
TEXTS = Path(__file__).parent / "rules" / "quantitative.yaml"

if TYPE_CHECKING:
    from checks.thresholds import CheckThresholds
    from cld_schema import Spec
    from pipelines.period import Period


@cache
def texts() -> dict[str, dict[str, str]]:
    """Rule texts of the quantitative expectations (data, listed by ``cld rules``)."""
    from cld_schema.spec import load_yaml

    return load_yaml(TEXTS.read_text(encoding="utf-8"))


def _meta(name: str, kind: str, field_name: str, **fill: Any) -> dict[str, Any]:
    t = texts()[name]
    return {
        "rule_id": t["id"].format(**fill),
        "severity": t["severity"],
        "module": t["module"].format(**fill),
        "message": t["message"].format(**fill),
        "how_to_fix": t["how_to_fix"].format(**fill),
        "field": field_name,
        "kind": kind,
    }


# --- dataset frames (polars) --------------------------------------------------------------


def _months(start: date, end: date) -> list[date]:
    out, y, m = [], start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def completeness_frame(
    frame: pl.DataFrame, spec: Spec, fields: list[str], statuses: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per field: 'filled'/'blank' where the field applies (status 1 or 2), null elsewhere,
    so GX's ``mostly`` is measured on applicable rows only. ``statuses`` (the
    ``<Field>__status`` columns, row-aligned) saves computing them again; without it only
    these fields' status is computed (cld_schema's per-field status expression)."""
    from cld_schema.status import status_expr

    def status(f: str) -> pl.Expr:
        name = f"{f}__status"
        if statuses is not None and name in statuses.columns:
            return pl.col(name)
        return status_expr(spec.field(f), spec)

    exprs = [
        pl.when(status(f) >= 1)
        .then(pl.when(pl.col(f).is_not_null()).then(pl.lit("filled")).otherwise(pl.lit("blank")))
        .alias(f)
        for f in fields
    ]
    base = frame.select(fields)
    if statuses is not None:
        base = base.hstack(statuses.select(c for c in statuses.columns if c.endswith("__status")))
    return base.lazy().select(exprs).collect()


def applies_filled(
    frame: pl.DataFrame, spec: Spec, fields: list[str], statuses: pl.DataFrame | None = None
) -> dict[str, tuple[int, int]]:
    """Per field: (rows it applies to, i.e. status 1 or 2; of those the filled ones), the
    counts :func:`completeness_frame` holds, summed in one lazy select without building that
    row-level frame. ``statuses`` as for :func:`completeness_frame`."""
    from cld_schema.status import status_expr

    have = {c for c in (statuses.columns if statuses is not None else ()) if c.endswith("__status")}
    lf = frame.lazy()
    if have:
        lf = pl.concat([lf, statuses.lazy().select(sorted(have))], how="horizontal")
    # a status the plan did not compute: its expression, broadcast to the rows (some are literals)
    lf = lf.with_columns(
        status_expr(spec.field(f), spec).alias(f"{f}__status")
        for f in fields
        if f"{f}__status" not in have
    )

    def status(f: str) -> pl.Expr:
        return pl.col(f"{f}__status")

    sums = lf.select(
        *[(status(f) >= 1).sum().alias(f"{f}|applies") for f in fields],
        *[((status(f) >= 1) & pl.col(f).is_not_null()).sum().alias(f"{f}|filled") for f in fields],
    ).collect().row(0, named=True)
    return {f: (int(sums[f"{f}|applies"] or 0), int(sums[f"{f}|filled"] or 0)) for f in fields}


def _completeness_counts(frame, spec: Spec, fields, statuses) -> pl.DataFrame:
    counts = applies_filled(frame, spec, fields, statuses)
    return pl.DataFrame(
        {
            "field": fields,
            "applicable": [counts[f][0] for f in fields],
            "blank": [counts[f][0] - counts[f][1] for f in fields],
        },
        schema={"field": pl.String, "applicable": pl.Int64, "blank": pl.Int64},
    )


def monthly_counts(frame: pl.DataFrame, spec: Spec, start: date, end: date) -> pl.DataFrame:
    """Events per month and event type (KEY columns), zeros included.

    Requests, assessments and reviews count in the month they ended; services in every month
    they were active (the DHSC derived-period test counts by end month; for services, which
    may be open, activity is the meaningful reading)."""
    ctx = RuleContext(spec)
    fmt = spec.date_format
    months = pl.DataFrame({"month": _months(start, end)}).with_columns(
        pl.col("month").dt.month_end().alias("month_end")
    )
    keys = ["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"]
    texts = {k: ctx.v("Event_Type", k) for k in keys}
    ev = frame.lazy().select(
        pl.col("Event_Type")
        .replace_strict({t: k for k, t in texts.items() if t}, default=None)
        .alias("type"),
        pl.col("Event_Start_Date").str.to_date(fmt, strict=False).alias("s"),
        pl.col("Event_End_Date").str.to_date(fmt, strict=False).alias("e"),
    )
    done = (
        ev.filter(
            pl.col("type").is_in(["REQUEST", "ASSESSMENT", "REVIEW"]) & pl.col("e").is_not_null()
        )
        .group_by(pl.col("e").dt.month_start().alias("month"), "type")
        .agg(pl.len().alias("n"))
    )
    services = (
        ev.filter((pl.col("type") == "SERVICE") & pl.col("s").is_not_null())
        .join(months.lazy(), how="cross")
        .filter(
            (pl.col("s") <= pl.col("month_end"))
            & (pl.col("e").is_null() | (pl.col("e") >= pl.col("month")))
        )
        .group_by("month", "type")
        .agg(pl.len().alias("n"))
    )
    counts = pl.concat([done, services]).collect()
    wide = months.select("month").join(
        counts.pivot(on="type", index="month", values="n")
        if counts.height
        else pl.DataFrame({"month": []}, schema={"month": pl.Date}),
        on="month",
        how="left",
    )
    for k in keys:
        if k not in wide.columns:
            wide = wide.with_columns(pl.lit(0).alias(k))
    return wide.select("month", *[pl.col(k).fill_null(0).cast(pl.Int64) for k in keys]).sort(
        "month"
    )


def type_counts(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.group_by("Event_Type").agg(pl.len().alias("rows"))


# --- GX -----------------------------------------------------------------------------------


def completeness_fields(thresholds: CheckThresholds, spec: Spec) -> list[str]:
    """The fields with a completeness threshold, in the thresholds file's order."""
    return thresholds.completeness_fields(spec)


def completeness_table(counts: pl.DataFrame) -> pl.DataFrame:
    """One row, one column per field: the share of applicable rows that are filled (null
    where the field applies to no row, which passes, as GX's ``mostly`` passes a column with
    no non-null value). Computed as GX computes ``mostly``: (considered - blank) / considered."""
    shares = {
        f: ((float(n) - float(b)) / float(n) if n else None)
        for f, n, b in counts.select("field", "applicable", "blank").iter_rows()
    }
    schema = dict.fromkeys(shares, pl.Float64)
    return pl.DataFrame({f: [v] for f, v in shares.items()}, schema=schema)


def _gx():
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


class _Suite:
    """One GX suite over one pandas frame, with findings metadata per expectation."""

    def __init__(self, ctx, name: str, pdf, result_format: str = "COMPLETE") -> None:
        gx, _ = _gx()
        self.ctx, self.name, self.pdf = ctx, name, pdf
        # COMPLETE lists every unexpected index: right for the small month/type tables, slow
        # and useless for the row-level completeness frame (only the share matters there).
        self.result_format = result_format
        self.suite = ctx.suites.add(gx.ExpectationSuite(name=name))
        self.meta: list[dict[str, Any]] = []

    def add(self, expectation, **meta: Any) -> None:
        # GX may report results in another order: the index travels in the expectation's meta.
        expectation.meta = {"cld_index": len(self.meta)}
        self.suite.add_expectation(expectation)
        self.meta.append(meta)

    def run(self, site: str | None):
        """Validate; through a checkpoint that updates the Data Docs site when one is set."""
        gx, _ = _gx()
        bd = (
            self.ctx.data_sources.add_pandas(f"{self.name}_src")
            .add_dataframe_asset(self.name)
            .add_batch_definition_whole_dataframe("whole")
        )
        vd = self.ctx.validation_definitions.add(
            gx.ValidationDefinition(name=f"{self.name}_vd", data=bd, suite=self.suite)
        )
        params = {"dataframe": self.pdf}
        if site is None:
            return vd.run(batch_parameters=params, result_format=self.result_format)
        cp = self.ctx.checkpoints.add(
            gx.Checkpoint(
                name=f"{self.name}_cp",
                validation_definitions=[vd],
                actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=[site])],
                result_format={"result_format": self.result_format},
            )
        )
        return next(iter(cp.run(batch_parameters=params).run_results.values()))


def quantitative_findings(
    frame: pl.DataFrame,
    spec: Spec,
    *,
    period: Period | None = None,
    thresholds: CheckThresholds,
    previous: pl.DataFrame | None = None,
    data_docs_dir: Path | None = None,
    statuses: pl.DataFrame | None = None,
    completeness: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, Path | None]:
    """Run the expectations; return (findings, Data Docs index or None). ``completeness``
    (field, applicable, blank: ``completeness_counts`` of the engine) saves counting
    from the rows here; the suites run on small tables either way."""
    import logging

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    thresholds.check_fields(spec)
    gx, gxe = _gx()
    start, end = period_bounds(frame, spec, period)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
    suites: list[_Suite] = []

    # completeness: one row of shares (filled among applicable rows) per field
    fields = completeness_fields(thresholds, spec)
    if fields:
        if completeness is None:
            completeness = _completeness_counts(frame, spec, fields, statuses)
        counts = {r["field"]: r for r in completeness.iter_rows(named=True)}
        # its findings read only each expectation's success: without Data Docs to show the
        # details, GX need not compute the unexpected values' lists (a third of its time)
        comp = _Suite(ctx, "completeness", completeness_table(completeness).to_pandas(),
                      "COMPLETE" if data_docs_dir is not None else "BOOLEAN_ONLY")
        for f in fields:
            mostly = float(thresholds.completeness[f])
            comp.add(
                gxe.ExpectColumnValuesToBeBetween(column=f, min_value=mostly),
                applicable=counts[f]["applicable"],
                blank=counts[f]["blank"],
                **_meta(
                    "QNT_complete_field",
                    "completeness",
                    f,
                    field=f,
                    module=spec.field(f).module,
                    label=spec.field(f).label,
                    mostly=f"{mostly:.0%}",
                ),
            )
        suites.append(comp)

    # months and volumes
    if start is not None and end is not None:
        counts = monthly_counts(frame, spec, start, end)
        mon = _Suite(
            ctx, "months", counts.with_columns(pl.col("month").cast(pl.String)).to_pandas()
        )
        cm = thresholds.complete_months
        for key in cm.event_types:
            mon.add(
                gxe.ExpectColumnValuesToBeBetween(column=key, min_value=int(cm.min_events)),
                event_key=key,
                **_meta("QNT_complete_months", "months", "Event_Type", event=key.lower()),
            )
        for key, b in thresholds.volumes.items():
            if key not in counts.columns or (b.min is None and b.max is None):
                continue  # no bound at all (`REQUEST:` alone): nothing to check
            mon.add(
                gxe.ExpectColumnValuesToBeBetween(column=key, min_value=b.min, max_value=b.max),
                event_key=key,
                **_meta(
                    "QNT_volume_month",
                    "months",
                    "Event_Type",
                    event=key.title(),
                    min=b.min,
                    max=b.max,
                ),
            )
        suites.append(mon)

    # change against the previous submission
    if previous is not None:
        cur, prev = type_counts(frame), type_counts(previous)
        change = (
            # rows with no event type (carers known by association) are a group of their own:
            # null keys must meet, or an identical rebuild shows them vanished and new
            cur.join(
                prev, on="Event_Type", how="full", suffix="_prev", coalesce=True, nulls_equal=True
            )
            .with_columns(pl.col("rows").fill_null(0), pl.col("rows_prev").fill_null(0))
            .with_columns(
                # a type that appeared (or vanished) counts as a change of its whole volume
                (pl.col("rows") / pl.max_horizontal(pl.col("rows_prev"), 1)).alias("ratio")
            )
        )
        mx = float(thresholds.previous.max_change)
        ch = _Suite(ctx, "previous", change.to_pandas())
        ch.add(
            gxe.ExpectColumnValuesToBeBetween(column="ratio", min_value=1 - mx, max_value=1 + mx),
            **_meta("QNT_change_previous", "previous", "Event_Type", max_change=f"{mx:.0%}"),
        )
        suites.append(ch)

    site = _add_docs_site(ctx, data_docs_dir) if data_docs_dir is not None else None
    rows: list[dict[str, Any]] = []
    for s in suites:
        rows += _to_findings(s, s.run(site))
    docs = None
    if site is not None and data_docs_dir is not None:
        ctx.build_data_docs(site_names=[site])
        make_offline(Path(data_docs_dir))
        docs = Path(data_docs_dir) / "index.html"
    return F.make(rows), docs


@dataclass
class FileMeasures:
    """What the checks measure of a file besides findings, handed on to the DQ report:
    completeness per field (rows it applies to, national field status 1 or 2, and of those
    the filled ones), events per month and event type, and the reporting period used."""

    completeness: pl.DataFrame  # field, module, applies, filled, pct
    monthly: pl.DataFrame | None  # month, REQUEST, ASSESSMENT, SERVICE, REVIEW (None: no period)
    period: tuple[date | None, date | None]


def file_measures(frame: pl.DataFrame, spec: Spec, period: Period | None = None,
                  statuses: pl.DataFrame | None = None) -> FileMeasures:
    """The :class:`FileMeasures` of a CLD frame. ``statuses``: the ``<Field>__status``
    columns the engine's plan already computed (row-aligned), so they are not computed again;
    ``period`` (a Period) defaults to the file's own reporting period."""
    fields = list(spec.field_names)
    counts = applies_filled(frame, spec, fields, statuses)
    rows = []
    for f in fields:
        applies, filled = counts[f]
        rows.append({"field": f, "module": spec.field(f).module, "applies": applies,
                     "filled": filled, "pct": (100.0 * filled / applies) if applies else None})
    completeness = pl.DataFrame(rows, schema={"field": pl.String, "module": pl.String,
                                              "applies": pl.Int64, "filled": pl.Int64,
                                              "pct": pl.Float64})
    start, end = period_bounds(frame, spec, period)
    monthly = (monthly_counts(frame, spec, start, end)
               if start is not None and end is not None else None)
    return FileMeasures(completeness=completeness, monthly=monthly, period=(start, end))


def _to_findings(suite: _Suite, res) -> list[dict[str, Any]]:
    out = []
    for r in res.results:
        if r.success:
            continue
        meta = suite.meta[int(r.expectation_config.meta["cld_index"])]
        base = {
            "rule_id": meta["rule_id"],
            "severity": meta["severity"],
            "module": meta["module"],
            "category": "quantitative",
            "row": None,
            "field": meta["field"],
            "message": meta["message"],
            "how_to_fix": meta["how_to_fix"],
            "event_type": None,
            "event_start": None,
        }
        result = r.result or {}
        if meta["kind"] == "completeness":
            # as GX's unexpected_percent of the rows considered (blank / applicable)
            pct = 100 - meta["blank"] / meta["applicable"] * 100
            out.append({**base, "value": f"{pct:.1f}% filled"})
        elif meta["kind"] == "months":
            for i in result.get("unexpected_index_list") or []:
                rec = suite.pdf.iloc[int(i)]
                out.append(
                    {
                        **base,
                        "value": f"{rec['month'][:7]}: {int(rec[meta['event_key']])}",
                        "event_type": meta["event_key"],
                        "event_start": rec["month"],
                    }
                )
        else:
            for i in result.get("unexpected_index_list") or []:
                rec = suite.pdf.iloc[int(i)]
                out.append(
                    {
                        **base,
                        "value": f"{rec['Event_Type']}: {rec['rows_prev']} -> {rec['rows']}",
                        "event_type": rec["Event_Type"],
                    }
                )
            if not result.get("unexpected_index_list"):
                out.append({**base, "value": "see Data Docs"})
    return out


# --- Data Docs, offline ---------------------------------------------------------------------

_REMOTE_TAG = re.compile(
    r"<link[^>]+href=\"https?://[^\"]+\"[^>]*>"
    r"|<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>"
    r"|<img[^>]+src=\"https?://[^\"]+\"[^>]*>",
    re.IGNORECASE,
)
_REMOTE_IMPORT = re.compile(
    r"@import\s+url\([\"']?https?://[^)]+\)\s*;?|url\([\"']?https?://[^)]+\)", re.IGNORECASE
)


def _add_docs_site(ctx, out_dir: Path) -> str:
    """A local Data Docs site in ``out_dir`` (emptied first: one run, one site)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    site = "cld_site"
    ctx.add_data_docs_site(
        site_name=site,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(out_dir),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return site


def make_offline(folder: Path) -> int:
    """Remove remote stylesheets, scripts and font imports from every page and inline the
    shipped stylesheet; returns the number of pages rewritten."""
    css = (STATIC / "datadocs.css").read_text(encoding="utf-8")
    n = 0
    for page in Path(folder).rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        new = _REMOTE_TAG.sub("", html)
        new = _REMOTE_IMPORT.sub("", new)
        new = new.replace("</head>", f"<style>{css}</style></head>", 1)
        if new != html:
            page.write_text(new, encoding="utf-8")
            n += 1
    return n
