"""The engine: field contract, logical rules and quantitative expectations into one findings
table (docs/contracts.md section 3).

Two collects do the row work: the first adds typed helper columns and the national field
status/validity of every field; the second adds every logical rule's flag in one plan (the
split lets Great Expectations reuse the status in a worker thread while the flags run). The
pandera contract runs beside them on the same LazyFrame. Findings are then cut from the
flags with one vectorised gather per rule, never a Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from checks.contract import field_failures
from checks.rules import RuleContext, RuleMeta, catalogue, rule_function

PID_MASK = "N/A - PID"
FINDING_COLUMNS: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "rule_id": pl.String(),
    "severity": pl.String(),
    "module": pl.String(),
    "category": pl.String(),
    "row": pl.Int64(),
    "person_id": pl.String(),
    "event_ref": pl.String(),
    "event_type": pl.String(),
    "event_start": pl.String(),
    "field": pl.String(),
    "value": pl.String(),
    "message": pl.String(),
    "how_to_fix": pl.String(),
    "team_id": pl.String(),
    "team_name": pl.String(),
    "worker_name": pl.String(),
    "step_id": pl.String(),
}
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
# Field-level findings: severity defaults to error; these are warnings (data, not code).
FIELD_SEVERITY_FILE = Path(__file__).with_name("field_severity.yaml")


@dataclass
class CheckResult:
    """What ``run_checks`` returns: the findings, a summary and the Data Docs folder."""

    findings: pl.DataFrame
    summary: dict[str, Any]
    data_docs: Path | None = None
    taxonomy: pl.DataFrame | None = field(default=None, repr=False)


def empty_findings() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDING_COLUMNS)


def _field_severity() -> dict[str, str]:
    import yaml

    raw = yaml.safe_load(FIELD_SEVERITY_FILE.read_text(encoding="utf-8")) or {}
    return dict(raw.get("severity", {}))


# --- preparation -------------------------------------------------------------------------


def _period_bounds(frame: pl.DataFrame, spec, period) -> tuple[date | None, date | None]:
    """The reporting period: the one asked for, else the file's own (most common) dates."""
    if period is not None:
        return period.start, period.end
    fmt = spec.date_format
    out = []
    for name in ("Reporting_Period_Start_Date", "Reporting_Period_End_Date"):
        mode = frame.select(pl.col(name).drop_nulls().mode().first()).item()
        parsed = None
        if mode is not None:
            parsed = pl.Series([mode]).str.to_date(fmt, strict=False).item()
        out.append(parsed)
    return out[0], out[1]


def helper_columns(spec, start: date | None, end: date | None) -> list[pl.Expr]:
    """Typed helper columns the rules read (``__d_*`` dates, ``__n_*`` numbers, period, and
    ``__pid``: the person id hashed once for the one-per-person windows)."""
    fmt = spec.date_format
    helpers = []
    for f in spec.fields:
        if f.type == "date":
            helpers.append(pl.col(f.name).str.to_date(fmt, strict=False).alias(f"__d_{f.name}"))
        elif f.type in ("decimal", "integer"):
            helpers.append(pl.col(f.name).cast(pl.Float64, strict=False).alias(f"__n_{f.name}"))
    return [
        *helpers,
        pl.lit(start, pl.Date).alias("__pstart"),
        pl.lit(end, pl.Date).alias("__pend"),
        pl.col("LA_Person_Unique_Identifier").hash(seed=11).alias("__pid"),
    ]


def _prepared(lf: pl.LazyFrame, spec, start: date | None, end: date | None) -> pl.LazyFrame:
    """Helper columns plus the national field status and validity of every field."""
    from cld_schema import field_status

    period_end = end.strftime(spec.date_format) if end else None
    return field_status(
        lf.with_columns(helper_columns(spec, start, end)), spec, period_end=period_end
    )


def each_field_names(spec, selectors: tuple[str, ...] | None) -> list[str]:
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


def _context_exprs(names: set[str]) -> list[pl.Expr]:
    return [
        (pl.col(src) if src in names else pl.lit(None, pl.String)).cast(pl.String).alias(dst)
        for dst, src in _CONTEXT.items()
    ]


def _value_expr(spec, fname: str, names: set[str]) -> pl.Expr:
    if not fname or fname not in names:
        return pl.lit(None, pl.String)
    if spec.has_field(fname) and spec.field(fname).pid:
        return pl.when(pl.col(fname).is_not_null()).then(pl.lit(PID_MASK)).otherwise(None)
    return pl.col(fname)


def _rows_to_findings(
    rows: pl.DataFrame,
    spec,
    *,
    run_id: str,
    rule_id: str,
    severity: str,
    module: str,
    category: str,
    fname: str,
    message: str,
    how_to_fix: str,
) -> pl.DataFrame:
    names = set(rows.columns)
    return rows.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit(rule_id).alias("rule_id"),
        pl.lit(severity).alias("severity"),
        pl.lit(module).alias("module"),
        pl.lit(category).alias("category"),
        pl.col("_row").cast(pl.Int64).alias("row"),
        *_context_exprs(names)[:4],
        pl.lit(fname or None, pl.String).alias("field"),
        _value_expr(spec, fname, names).cast(pl.String).alias("value"),
        pl.lit(message).alias("message"),
        pl.lit(how_to_fix).alias("how_to_fix"),
        *_context_exprs(names)[4:],
    )


def _take(df: pl.DataFrame, mask: pl.Series, fname: str) -> pl.DataFrame | None:
    """The flagged rows, narrowed to what a finding needs before gathering (the prepared
    frame is hundreds of columns wide; filtering it whole per rule would copy them all)."""
    idx = mask.arg_true()
    if idx.len() == 0:
        return None
    keep = ["_row", *[c for c in _CONTEXT.values() if c in df.columns]]
    if fname and fname in df.columns and fname not in keep:
        keep.append(fname)
    return df.select(keep)[idx]


def logical_findings(
    df: pl.DataFrame, spec, flags: list[tuple[RuleMeta, str, str]], run_id: str
) -> list[pl.DataFrame]:
    out = []
    for m, col, fname in flags:
        rows = _take(df, df.get_column(col), fname)
        if rows is not None:
            out.append(
                _rows_to_findings(
                    rows,
                    spec,
                    run_id=run_id,
                    rule_id=m.id,
                    severity=m.severity,
                    module=m.module,
                    category="logical",
                    fname=fname,
                    message=m.message,
                    how_to_fix=m.how_to_fix,
                )
            )
    return out


def mandatory_findings(
    df: pl.DataFrame, spec, run_id: str, severity: dict[str, str]
) -> list[pl.DataFrame]:
    """Blank but mandatory (validity -1) under the national field status rules."""
    out = []
    for f in spec.fields:
        rows = _take(df, df.get_column(f"{f.name}__validity") == -1, f.name)
        if rows is not None:
            rid = f"FLD_{f.name}_mandatory"
            out.append(
                _rows_to_findings(
                    rows,
                    spec,
                    run_id=run_id,
                    rule_id=rid,
                    severity=severity.get(rid, "error"),
                    module=f.module,
                    category="field",
                    fname=f.name,
                    message=f"{f.label} is blank but mandatory for this row",
                    how_to_fix=f"Record {f.label} in the case system for this person or event.",
                )
            )
    return out


def contract_findings(
    df: pl.DataFrame, failures: pl.DataFrame, spec, run_id: str, severity: dict[str, str]
) -> list[pl.DataFrame]:
    """Pandera failure cases joined back to their rows (one join, no per-row Python)."""
    if not failures.height:
        return []
    out = []
    keep = ["_row", *[c for c in _CONTEXT.values() if c in df.columns]]
    indexed = (
        df.select([*keep, *[f for f in failures["field"].unique() if f not in keep]])
        .with_row_index("__index")
        .with_columns(pl.col("__index").cast(pl.Int64))
    )
    for (rid, fname, message), grp in failures.group_by(["rule_id", "field", "message"]):
        rows = indexed.join(grp.select(pl.col("index").alias("__index")), on="__index", how="semi")
        f = spec.field(fname)
        out.append(
            _rows_to_findings(
                rows,
                spec,
                run_id=run_id,
                rule_id=rid,
                severity=severity.get(rid, "error"),
                module=f.module,
                category="field",
                fname=fname,
                message=f"{f.label}: {message}",
                how_to_fix=(
                    f"Correct {f.label} in the case system "
                    "(or the mapping table for its local code)."
                ),
            )
        )
    return out


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


def taxonomy(df: pl.DataFrame, spec) -> pl.DataFrame:
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


def row_checks(
    frame: pl.DataFrame, spec, *, run_id: str, period=None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Field contract + field status + logical rules: (findings, taxonomy)."""
    prep = prepare(frame, spec, period)
    findings, tax = finish_row_checks(prep, run_id)
    return findings, tax


@dataclass
class Prepared:
    """The frame with helper columns and the national field status/validity, collected."""

    frame: pl.DataFrame
    spec: Any
    ctx: RuleContext
    df: pl.DataFrame

    @property
    def statuses(self) -> pl.DataFrame:
        """Each field's national status per row (reused by the completeness expectations)."""
        return self.df.select(f"{f.name}__status" for f in self.spec.fields)


def prepare(frame: pl.DataFrame, spec, period=None) -> Prepared:
    """First half of the row checks: helper columns and field status, one collect."""
    if "_row" not in frame.columns:
        frame = frame.with_row_index("_row")
    missing = [n for n in spec.field_names if n not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks CLD fields for {spec.release}: {', '.join(missing)}")
    start, end = _period_bounds(frame, spec, period)
    ctx = RuleContext(spec, start, end)
    return Prepared(frame, spec, ctx, _prepared(frame.lazy(), spec, start, end).collect())


def finish_row_checks(prep: Prepared, run_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Second half: every logical rule flag (one plan, one collect), the pandera contract,
    then the findings cut from the flags."""
    spec, ctx = prep.spec, prep.ctx
    flags = _rule_flags(ctx, catalogue())
    df = prep.df.lazy().with_columns(_flag_exprs(ctx, flags)).collect()
    severity = _field_severity()
    failures = field_failures(prep.frame.lazy().select(spec.field_names), spec)
    parts = [
        *contract_findings(df, failures, spec, run_id, severity),
        *mandatory_findings(df, spec, run_id, severity),
        *logical_findings(df, spec, flags, run_id),
    ]
    findings = pl.concat(parts, how="vertical") if parts else empty_findings()
    findings = _drop_covered_mandatory(findings.cast(FINDING_COLUMNS))
    return findings.sort("row", "rule_id", nulls_last=True), taxonomy(df, spec)


def summarise(findings: pl.DataFrame) -> dict[str, Any]:
    """Ready when no errors remain; counts by rule for the printed summary."""
    by_rule = (
        findings.group_by("rule_id", "severity", "message")
        .agg(pl.len().alias("count"))
        .sort(["severity", "count"], descending=[False, True])
    )
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
    spec,
    *,
    run_id: str,
    previous: pl.DataFrame | None = None,
    period=None,
    thresholds: dict | None = None,
    quantitative: bool = True,
    data_docs_dir: Path | None = None,
) -> CheckResult:
    """Check a CLD frame: field contract, national field status, logical rules and (unless
    ``quantitative=False``) the Great Expectations dataset checks. ``thresholds`` is the
    parsed thresholds file (completeness ``mostly`` per field, volume bounds); ``previous``
    the last submission's frame, for the change checks; ``data_docs_dir`` where to build the
    offline Data Docs (none built when omitted)."""
    docs = None
    if not quantitative:
        findings, tax = row_checks(frame, spec, run_id=run_id, period=period)
    else:
        # GX is seconds of pure Python (import, then validation); the row checks are polars
        # (GIL released). The worker thread imports GX while the field status is computed,
        # then validates (reusing that status) while the rule flags and contract run.
        from concurrent.futures import ThreadPoolExecutor

        from checks.quantitative import import_gx, quantitative_findings

        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(import_gx)
            prep = prepare(frame, spec, period)
            pending = pool.submit(
                quantitative_findings,
                frame,
                spec,
                run_id=run_id,
                period=period,
                thresholds=thresholds or {},
                previous=previous,
                data_docs_dir=data_docs_dir,
                statuses=prep.statuses,
            )
            findings, tax = finish_row_checks(prep, run_id)
            q, docs = pending.result()
        findings = pl.concat([findings, q.select(list(FINDING_COLUMNS)).cast(FINDING_COLUMNS)])
    summary = summarise(findings)
    summary["rows"] = frame.height
    summary["release"] = spec.release
    return CheckResult(findings=findings, summary=summary, data_docs=docs, taxonomy=tax)
