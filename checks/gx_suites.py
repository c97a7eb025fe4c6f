"""The Great Expectations side of the quantitative checks: small pandas tables and the
expectations to validate on them (:class:`SuitePlan`, plain data, made by
:mod:`checks.quantitative` with polars), validated by :func:`validate` in an ephemeral GX
context, failing expectations made into findings rows, and the offline Data Docs.

This module imports neither polars nor the rule catalogue, so :mod:`checks.gx_server` can run
it in a process of its own (beside the row checks, not sharing their interpreter lock); it
runs in the checking process as well, the same code either way.

Data Docs: GX's pages load Bootstrap, jQuery, vega and fonts from CDNs, so they are unstyled
offline. After building, :func:`make_offline` removes every remote stylesheet/script/font
reference and inlines a small stylesheet shipped in ``checks/static/``; the pages are plain
server-rendered HTML and stay readable without the network, except the index, whose tables GX
fills with JavaScript: it gets the same lists as plain links, each validation with whether it
passed, and the status icons (a web font) become the words "passed" and "failed".
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATIC = Path(__file__).with_name("static")


@dataclass
class Expect:
    """``ExpectColumnValuesToBeBetween(column, min_value, max_value)`` and the finding its
    failure becomes (``meta``: rule id, severity, module, texts, field, kind, and what the
    finding's value is made from)."""

    column: str
    min_value: float | int | None
    max_value: float | int | None
    meta: dict[str, Any]


@dataclass
class SuitePlan:
    """One GX suite over one small pandas frame. ``COMPLETE`` lists every unexpected index:
    right for the small month/type tables; ``BOOLEAN_ONLY`` where only success matters."""

    name: str
    pdf: Any  # pandas.DataFrame
    result_format: str = "COMPLETE"
    expectations: list[Expect] = field(default_factory=list)


def _gx():
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx, gxe


def validate(plans: list[SuitePlan], data_docs_dir: str | None) -> tuple[list[dict], str | None]:
    """Validate every suite; (findings rows, the Data Docs index or None). Data Docs are built
    into ``data_docs_dir`` (emptied first) when it is given."""
    import logging

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    gx, gxe = _gx()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = {"globally": False, "metric_calculations": False}
    site = _add_docs_site(ctx, Path(data_docs_dir)) if data_docs_dir is not None else None
    rows: list[dict[str, Any]] = []
    for plan in plans:
        suite = ctx.suites.add(gx.ExpectationSuite(name=plan.name))
        for i, e in enumerate(plan.expectations):
            exp = gxe.ExpectColumnValuesToBeBetween(
                column=e.column, min_value=e.min_value, max_value=e.max_value
            )
            # GX may report results in another order: the index travels in the meta
            exp.meta = {"cld_index": i}
            suite.add_expectation(exp)
        rows += _to_findings(plan, _run(gx, ctx, plan, suite, site))
    docs = None
    if site is not None and data_docs_dir is not None:
        ctx.build_data_docs(site_names=[site])
        make_offline(Path(data_docs_dir))
        docs = str(Path(data_docs_dir) / "index.html")
    return rows, docs


def _run(gx, ctx, plan: SuitePlan, suite, site: str | None):
    """Validate one suite; through a checkpoint that updates the Data Docs site when one is
    set."""
    bd = (
        ctx.data_sources.add_pandas(f"{plan.name}_src")
        .add_dataframe_asset(plan.name)
        .add_batch_definition_whole_dataframe("whole")
    )
    vd = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{plan.name}_vd", data=bd, suite=suite)
    )
    params = {"dataframe": plan.pdf}
    if site is None:
        return vd.run(batch_parameters=params, result_format=plan.result_format)
    cp = ctx.checkpoints.add(
        gx.Checkpoint(
            name=f"{plan.name}_cp",
            validation_definitions=[vd],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="docs", site_names=[site])],
            result_format={"result_format": plan.result_format},
        )
    )
    return next(iter(cp.run(batch_parameters=params).run_results.values()))


def _to_findings(plan: SuitePlan, res) -> list[dict[str, Any]]:
    out = []
    for r in res.results:
        if r.success:
            continue
        meta = plan.expectations[int(r.expectation_config.meta["cld_index"])].meta
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
                rec = plan.pdf.iloc[int(i)]
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
                rec = plan.pdf.iloc[int(i)]
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


_FAILED_ICON = re.compile(r"Status:</span>\s*<i class=\"[^\"]*fa-times")


def _offline_index(folder: Path) -> str:
    """The index page's lists as plain links: GX fills its tables with JavaScript
    (bootstrap-table on jQuery), which cannot load offline, so they would stay empty."""
    from html import escape

    def item(page: Path, label: str) -> str:
        href = page.relative_to(folder).as_posix()
        return f'<li><a href="{escape(href)}">{escape(label)}</a></li>'

    results = []
    for page in sorted(folder.glob("validations/**/*.html")):
        parts = page.relative_to(folder / "validations").parts  # suite/batch/run time/page
        status = "failed" if _FAILED_ICON.search(page.read_text(encoding="utf-8")) else "passed"
        results.append(item(page, f"{parts[0]}: {status} (run {parts[-2]})"))
    suites = [item(p, p.stem) for p in sorted(folder.glob("expectations/*.html"))]
    return (
        '<div class="cld-offline-index"><h3>Validation results</h3><ul>'
        + ("".join(results) or "<li>none</li>")
        + "</ul><h3>Expectation suites</h3><ul>"
        + ("".join(suites) or "<li>none</li>")
        + "</ul></div>"
    )


def make_offline(folder: Path) -> int:
    """Remove remote stylesheets, scripts and font imports from every page and inline the
    shipped stylesheet; the index gets its lists as plain links (:func:`_offline_index`).
    Returns the number of pages rewritten."""
    folder = Path(folder)
    css = (STATIC / "datadocs.css").read_text(encoding="utf-8")
    n = 0
    for page in folder.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        new = _REMOTE_TAG.sub("", html)
        new = _REMOTE_IMPORT.sub("", new)
        new = new.replace("</head>", f"<style>{css}</style></head>", 1)
        if page == folder / "index.html" and '<div class="cld-offline-index"' not in new:
            tabs = '<div id="section-1-content-block-2"'
            at = new.find(tabs)
            block = _offline_index(folder)
            new = (new[:at] + block + new[at:]) if at >= 0 else new.replace(
                "</body>", block + "</body>", 1)
        if new != html:
            page.write_text(new, encoding="utf-8")
            n += 1
    return n
