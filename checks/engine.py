"""The engine: field contract, logical rules and quantitative expectations into one findings
table (docs/contracts.md section 3).

One lazy plan over the file, collected once, does the row work (:func:`check_plan`): the
pandera contract's rules (read from the pandera schema, which also validates the plan's
columns), typed helper columns, the national field status and validity of every field, and a
boolean flag per mandatory blank and per logical rule, side by side. Findings are cut from
the flags in one vectorised step (:func:`cut_findings`), never a Python loop over rows or a
collect per rule; the taxonomy and the completeness counts the quantitative expectations
need are small group-bys of the same collected statuses. Great Expectations runs in a worker
thread on those small tables, not on the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from checks import findings as F
from checks.contract import NotCldFrame, failure_exprs
from checks.prepare import period_bounds, prepared
from checks.rules import RuleContext, RuleMeta, catalogue, rule_function
from checks.rules.fields import (
    field_severity,
    finding_message,
    how_to_fix,
    mandatory_how_to_fix,
    mandatory_message,
)
from checks.thresholds import CheckThresholds

if TYPE_CHECKING:
    from cld_schema import Spec
    from pipelines.period import Period

# finding column <- frame column
_CONTEXT = {
    "person_id": "LA_Person_Unique_Identifier",
    "event_ref": "Event_Reference",
    "event_type": "Event_Type",
    "event_start": "Event_Start_Date",
    "team_id": "_team_id",
    "team_name": "_team_name",
    "worker_name": "_worker_name",
    "step_id": "_step_id",
}


@dataclass
class CheckResult:
    """What ``run_checks`` returns: the findings, a summary and the Data Docs folder."""

    findings: pl.DataFrame
    summary: dict[str, Any]
    data_docs: Path | None = None
    taxonomy: pl.DataFrame | None = field(default=None, repr=False)
    # checks.quantitative.FileMeasures (completeness per field, monthly counts, the period),
    # from the statuses the plan computed; None when the quantitative checks did not run
    measures: Any = field(default=None, repr=False)


def empty_findings() -> pl.DataFrame:
    return F.empty()


def each_field_names(spec: Spec, selectors: tuple[str, ...] | None) -> list[str]:
    """Fields an each_field rule runs on: names and ``type:<spec type>`` selectors, in file
    order (all fields when there is no selector)."""
    if not selectors:
        return list(spec.field_names)
    types = {s[5:] for s in selectors if s.startswith("type:")}
    names = {s for s in selectors if not s.startswith("type:")}
    return [f.name for f in spec.fields if f.type in types or f.name in names]


def _rule_flags(ctx: RuleContext, metas: tuple[RuleMeta, ...]) -> list[tuple[RuleMeta, str, str]]:
    """(rule, flag column, finding field) for every logical rule (each_field rules expand)."""
    out = []
    for m in metas:
        if m.scope == "each_field":
            names = each_field_names(ctx.spec, m.each_field)
            out += [(m, f"__r_{m.id}__{n}", n) for n in names]
        else:
            out.append((m, f"__r_{m.id}", m.field or ""))
    return out


def _flag_exprs(ctx: RuleContext, flags: list[tuple[RuleMeta, str, str]]) -> list[pl.Expr]:
    exprs = []
    for m, col, fname in flags:
        fn = rule_function(m.id)
        expr = fn(ctx, fname) if m.scope == "each_field" else fn(ctx)
        exprs.append(expr.alias(col))
    return exprs


# --- findings ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Flag:
    """One boolean column of the plan and the finding a True row becomes."""

    column: str
    rule_id: str
    severity: str
    module: str
    category: str
    field: str | None
    message: str
    how_to_fix: str


def _flags(
    spec: Spec, ctx: RuleContext, schema
) -> tuple[list[_Flag], list[pl.Expr], list[pl.Expr]]:
    """Every finding kind as a flag column: (flags, expressions on the raw fields evaluated
    before the field status (the pandera contract's rules), expressions on the prepared frame
    (mandatory blanks and logical rules))."""
    severity = field_severity()
    flags: list[_Flag] = []
    raw: list[pl.Expr] = []
    for meta, fails in failure_exprs(schema):
        f = spec.field(meta.field)
        col = f"__c_{meta.rule_id}"
        raw.append(fails.alias(col))
        flags.append(
            _Flag(
                col,
                meta.rule_id,
                severity.get(meta.rule_id, "error"),
                f.module,
                "field",
                f.name,
                finding_message(f.label, meta.message),
                how_to_fix(f.label),
            )
        )
    prepared: list[pl.Expr] = []
    for f in spec.fields:
        rid = f"FLD_{f.name}_mandatory"
        col = f"__m_{f.name}"
        prepared.append((pl.col(f"{f.name}__validity") == -1).alias(col))
        flags.append(
            _Flag(
                col,
                rid,
                severity.get(rid, "error"),
                f.module,
                "field",
                f.name,
                mandatory_message(f.label),
                mandatory_how_to_fix(f.label),
            )
        )
    # a rule whose yaml names releases runs only on those
    rules = _rule_flags(ctx, tuple(m for m in catalogue() if m.applies_to(ctx.release)))
    prepared += _flag_exprs(ctx, rules)
    for m, col, fname in rules:
        flags.append(
            _Flag(
                col, m.id, m.severity, m.module, "logical", fname or None, m.message, m.how_to_fix
            )
        )
    return flags, raw, prepared


def _context_exprs(names: set[str]) -> list[pl.Expr]:
    return [
        (pl.col(src) if src in names else pl.lit(None, pl.String)).cast(pl.String).alias(dst)
        for dst, src in _CONTEXT.items()
    ]


def cut_findings(df: pl.DataFrame, spec: Spec, flags: list[_Flag]) -> pl.DataFrame:
    """Findings from the flag columns of the collected plan, vectorised: the rows with any
    flag are gathered once, their True flags unpivoted into (row, flag) pairs and joined to
    the flag texts and to the row's value of the finding's field (masked for personal data)."""
    cols = [fl.column for fl in flags]
    names = set(df.columns)
    hit = df.select(pl.any_horizontal(cols) if cols else pl.lit(False)).to_series()
    rows = df.filter(hit).with_row_index("__i")
    if rows.is_empty():
        return empty_findings()
    pairs = (
        rows.select("__i", *cols)
        .unpivot(index="__i", variable_name="__flag", value_name="__hit")
        .filter(pl.col("__hit"))
        .drop("__hit")
    )
    texts = pl.DataFrame(
        [
            {
                "__flag": fl.column,
                "rule_id": fl.rule_id,
                "severity": fl.severity,
                "module": fl.module,
                "category": fl.category,
                "field": fl.field,
                "message": fl.message,
                "how_to_fix": fl.how_to_fix,
            }
            for fl in flags
        ],
        schema={
            k: pl.String
            for k in (
                "__flag",
                "rule_id",
                "severity",
                "module",
                "category",
                "field",
                "message",
                "how_to_fix",
            )
        },
    )
    fields = [n for n in spec.field_names if n in names]
    pid = [n for n in fields if spec.field(n).pid]
    values = rows.select("__i", *fields).unpivot(
        index="__i", variable_name="field", value_name="value"
    )
    context = rows.select("__i", pl.col("_row").cast(pl.Int64).alias("row"), *_context_exprs(names))
    out = (
        pairs.join(texts, on="__flag", how="left")
        .join(values, on=["__i", "field"], how="left")
        .join(context, on="__i", how="left")
        .with_columns(
            pl.when(pl.col("field").is_in(pid) & pl.col("value").is_not_null())
            .then(pl.lit(F.PID_MASK))
            .otherwise(pl.col("value"))
            .alias("value"),
            pl.lit(None, pl.String).alias("run_id"),  # history stamps its run id
        )
    )
    return F.select(out)


def _drop_covered_mandatory(findings: pl.DataFrame) -> pl.DataFrame:
    """A blank a logical error already explains (same row and field) is reported once, by it.
    (A logical warning does not hide a mandatory error: the row would then look ready.)"""
    logical = (
        findings.filter((pl.col("category") == "logical") & (pl.col("severity") == "error"))
        .select("row", "field")
        .unique()
    )
    is_mand = pl.col("rule_id").str.ends_with("_mandatory") & (pl.col("category") == "field")
    mand = findings.filter(is_mand).join(
        logical, on=["row", "field"], how="anti", nulls_equal=False
    )
    return pl.concat([findings.filter(~is_mand), mand])


def taxonomy(df: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Counts per national module x field x status x validity (the DQ report's shape)."""
    parts = [
        df.lazy()
        .group_by(
            pl.col(f"{f.name}__status").alias("status"),
            pl.col(f"{f.name}__validity").alias("validity"),
        )
        .agg(pl.len().alias("rows"))
        .with_columns(pl.lit(f.module).alias("module"), pl.lit(f.name).alias("field"))
        for f in spec.fields
    ]
    return (
        pl.concat(pl.collect_all(parts))
        .select("module", "field", "status", "validity", "rows")
        .sort("module", "field", "status", "validity")
    )


def completeness_counts(frame: pl.DataFrame, checked: pl.DataFrame, fields: list[str]):
    """Per field: rows where it applies (status 1 or 2) and of those the blank ones, from
    the file's values and the checked plan's statuses (row-aligned): the small table the
    completeness expectations run on."""
    if not fields:
        return pl.DataFrame(schema={"field": pl.String, "applicable": pl.Int64, "blank": pl.Int64})
    both = pl.concat(
        [
            frame.select(pl.col(f).is_null().alias(f"__b_{f}") for f in fields),
            checked.select(f"{f}__status" for f in fields),
        ],
        how="horizontal",
    )
    sums = both.select(
        *[(pl.col(f"{f}__status") >= 1).sum().alias(f"{f}|applicable") for f in fields],
        *[
            ((pl.col(f"{f}__status") >= 1) & pl.col(f"__b_{f}")).sum().alias(f"{f}|blank")
            for f in fields
        ],
    ).row(0, named=True)
    return pl.DataFrame(
        {
            "field": fields,
            "applicable": [int(sums[f"{f}|applicable"]) for f in fields],
            "blank": [int(sums[f"{f}|blank"]) for f in fields],
        },
        schema={"field": pl.String, "applicable": pl.Int64, "blank": pl.Int64},
    )


def _quantitative(frame: pl.DataFrame, spec: Spec, *, period: Period | None, thresholds, **kw):
    """The quantitative expectations (in the engine's worker thread), their completeness
    counts taken from the thresholded fields' statuses alone: the same values as the plan's
    statuses of those fields (same expressions, same period end), without waiting for it."""
    from checks.quantitative import completeness_fields, quantitative_findings
    from cld_schema.status import field_statuses

    fields = completeness_fields(thresholds, spec)
    completeness = None
    if fields:
        _, end = period_bounds(frame, spec, period)
        period_end = end.strftime(spec.date_format) if end else None
        statuses = field_statuses(frame.lazy(), spec, fields, period_end).collect(
            engine="in-memory"
        )
        completeness = completeness_counts(frame, statuses, fields)
    return quantitative_findings(
        frame, spec, period=period, thresholds=thresholds, completeness=completeness, **kw
    )


@dataclass
class Prepared:
    """The frame with helper columns and the national field status/validity, collected."""

    frame: pl.DataFrame
    spec: Any
    ctx: RuleContext
    df: pl.DataFrame


def _checked_frame(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    if "_row" not in frame.columns:
        frame = frame.with_row_index("_row")
    missing = [n for n in spec.field_names if n not in frame.columns]
    if missing:
        raise NotCldFrame(
            f"the frame lacks CLD fields for {spec.release}: {', '.join(missing)}"
        )
    return frame


def prepare(frame: pl.DataFrame, spec: Spec, period: Period | None = None) -> Prepared:
    """Helper columns and field status, one collect (the national picture of a frame)."""
    frame = _checked_frame(frame, spec)
    start, end = period_bounds(frame, spec, period)
    ctx = RuleContext(spec, start, end)
    return Prepared(frame, spec, ctx, prepared(frame.lazy(), spec, start, end).collect())


def check_plan(
    frame: pl.DataFrame, spec: Spec, period: Period | None = None
) -> tuple[pl.LazyFrame, list[_Flag]]:
    """The one lazy plan over the file: the pandera contract's rules on the raw values,
    helper columns, the national field status and validity of every field, mandatory blanks
    and every logical rule, side by side, row-aligned with ``frame``; and the flags to cut
    findings from. pandera checks the plan's schema (every field, as text) first."""
    from checks.contract import build_contract, check_schema

    frame = _checked_frame(frame, spec)
    start, end = period_bounds(frame, spec, period)
    ctx = RuleContext(spec, start, end)
    schema = build_contract(spec)
    lf = frame.lazy()
    check_schema(lf.select(spec.field_names), schema)
    flags, raw, flag_cols = _flags(spec, ctx, schema)
    plan = prepared(lf.with_columns(raw), spec, start, end).with_columns(flag_cols)
    helpers = [c for c in plan.collect_schema().names() if c.startswith("__") and c[2] in "dnp"]
    return plan.drop(helpers), flags


def row_checks(
    frame: pl.DataFrame, spec: Spec, *, period: Period | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Field contract + field status + logical rules: (findings, taxonomy)."""
    findings, tax, _ = _row_checks(frame, spec, period=period)
    return findings, tax


def _row_checks(
    frame: pl.DataFrame, spec: Spec, *, period: Period | None = None, on_checked=None
):
    """The plan collected once; ``on_checked(checked)`` runs before findings are cut (the
    caller hands the quantitative side its small tables there)."""
    plan, flags = check_plan(frame, spec, period)
    checked = plan.collect(engine="in-memory")  # less CPU than streaming, one chunk
    extra = on_checked(checked) if on_checked else None
    findings = _drop_covered_mandatory(cut_findings(checked, spec, flags))
    findings = scrub_free_text(findings, spec).sort("row", "rule_id", "field", nulls_last=True)
    return findings, taxonomy(checked, spec), extra


# What a free-text value quoted in a finding must not carry: an NHS number (10 digits, spaced
# 3-3-4 or not) or a postcode typed into it. The value reaches findings.csv/.parquet, history
# and the team workbooks (the unallocated one too), so identifiers are replaced there.
NHS_IN_TEXT = r"(?:^|\b)\d{3}[ -]?\d{3}[ -]?\d{4}\b"
POSTCODE_IN_TEXT = r"(?i)\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b"
TEXT_SHOWN = 200  # characters of a free-text value a finding quotes


def scrub_free_text(findings: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Free-text values (``type: text`` fields that are not personal data, already masked)
    quoted in findings: identifiers replaced, and cut to ``TEXT_SHOWN`` characters."""
    text = [f.name for f in spec.fields if f.type == "text" and not f.pid]
    if not text or findings.is_empty():
        return findings
    value = pl.col("value")
    scrubbed = value.str.replace_all(NHS_IN_TEXT, "[NHS number removed]").str.replace_all(
        POSTCODE_IN_TEXT, "[postcode removed]"
    )
    cut = (
        pl.when(scrubbed.str.len_chars() > TEXT_SHOWN)
        .then(scrubbed.str.slice(0, TEXT_SHOWN) + pl.lit("…"))
        .otherwise(scrubbed)
    )
    return findings.with_columns(
        pl.when(pl.col("field").is_in(text) & value.is_not_null())
        .then(cut)
        .otherwise(value)
        .alias("value")
    )


def summarise(findings: pl.DataFrame) -> dict[str, Any]:
    """Ready when no errors remain; counts by rule for the printed summary."""
    by_rule = (
        findings.group_by("rule_id", "severity", "message")
        .agg(pl.len().alias("count"))
        .sort(["severity", "count", "rule_id", "message"], descending=[False, True, False, False])
    )  # tied counts in rule id order, so the printed list is the same every run
    by_module = (
        findings.group_by("module", "severity")
        .agg(pl.len().alias("count"))
        .sort(["module", "severity"])
    )
    errors = findings.filter(pl.col("severity") == "error").height
    warnings = findings.filter(pl.col("severity") == "warning").height
    return {
        "ready": errors == 0,
        "errors": errors,
        "warnings": warnings,
        "by_rule": by_rule.to_dicts(),
        "by_module": by_module.to_dicts(),
    }


def run_checks(
    frame: pl.DataFrame,
    spec: Spec,
    *,
    previous: pl.DataFrame | None = None,
    period: Period | None = None,
    thresholds: CheckThresholds | None = None,
    quantitative: bool = True,
    data_docs_dir: Path | None = None,
) -> CheckResult:
    """Check a CLD frame: field contract, national field status, logical rules and (unless
    ``quantitative=False``) the Great Expectations dataset checks. ``thresholds`` is the
    checks' part of the thresholds file (``checks.thresholds.CheckThresholds``, read by
    ``pipelines.thresholds.load``; None: every default); ``previous``
    the last submission's frame, for the change checks; ``data_docs_dir`` where to build the
    offline Data Docs (none built when omitted)."""
    docs = None
    if not quantitative:
        findings, tax = row_checks(frame, spec, period=period)
    else:
        # GX is seconds of pure Python (import, then validation); the plan is polars (GIL
        # released). A worker thread runs the whole quantitative side while the plan runs:
        # it counts completeness from the statuses of the few fields with a threshold (the
        # plan's own expressions, on their own), waits for the GX import (started earlier in
        # another thread) and validates the small tables.
        from concurrent.futures import ThreadPoolExecutor

        from checks.quantitative import file_measures, start_gx_import

        start_gx_import()
        th = thresholds if thresholds is not None else CheckThresholds()
        measured: list[Any] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cld-gx") as pool:
            pending = pool.submit(
                _quantitative, frame, spec, period=period, thresholds=th,
                previous=previous, data_docs_dir=data_docs_dir,
            )  # fmt: skip

            def measure(checked: pl.DataFrame) -> None:
                measured.append(file_measures(frame, spec, period, statuses=checked))

            findings, tax, _ = _row_checks(frame, spec, period=period, on_checked=measure)
            q, docs = pending.result()
        findings = pl.concat([findings, F.select(q)])
    summary = summarise(findings)
    summary["rows"] = frame.height
    summary["release"] = spec.release
    return CheckResult(
        findings=findings,
        summary=summary,
        data_docs=docs,
        taxonomy=tax,
        measures=measured[0] if quantitative and measured else None,
    )
