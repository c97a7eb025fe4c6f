"""``cld check`` (check a submission file) and ``cld rules`` (list the rule catalogue)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from pipelines.cli.common import UserError, get_config, user_errors
from pipelines.outputs.excel_safe import excel_safe_frame as excel_safe


def file_findings(info, run_id: str) -> pl.DataFrame:
    """Findings about the file itself (encoding, BOM, column order), from the reader."""
    from checks.engine import FINDING_COLUMNS

    rows = []

    def add(rule_id: str, severity: str, message: str, fix: str) -> None:
        rows.append(
            {
                "run_id": run_id,
                "rule_id": rule_id,
                "severity": severity,
                "module": "Submission information",
                "category": "field",
                "message": message,
                "how_to_fix": fix,
            }
        )

    if info.bom:
        add(
            "FILE_bom",
            "error",
            "The file starts with a UTF-8 byte-order mark (the portal rejects it)",
            "Save the file as Windows-1252 without a BOM (cld build does this).",
        )
    if info.encoding == "utf-8":
        add(
            "FILE_encoding",
            "warning",
            "The file is UTF-8; the portal expects Windows-1252",
            "Save the file as Windows-1252 (cld build does this).",
        )
    if info.rows == 0:
        add(
            "FILE_no_rows",
            "error",
            "The file holds a header row and no data rows: there is nothing to submit",
            "Build the file again (cld build); check the export selected the period's events.",
        )
    faults = getattr(info, "header_faults", None)
    if faults:
        period = f" of period {info.period}" if info.period else ""
        add(
            "FILE_header",
            "error",
            f"The header row does not match the {info.release} specification for a file"
            f"{period} ({info.header_style} headers): {faults.text()}",
            "Write the header row of the release the period needs, in its order, each column "
            "once (cld build does this); spaces and underscores are not interchangeable.",
        )
    elif not info.header_order_ok:
        add(
            "FILE_header_order",
            "error",
            "Columns are not in the specification's order",
            "Write the columns in the order of the specification (cld build does this).",
        )
    asked = getattr(info, "asked_release", None)
    if asked and info.period_release and asked != info.period_release:
        add(
            "FILE_release_period",
            "warning",
            f"Checked as {info.period_release}, the release the national process applies to "
            f"a file of period {info.period}, not {asked} (--release)",
            f"Build the file as {info.period_release} for this period, or check that its "
            "reporting period dates are right.",
        )
    return (
        pl.DataFrame(rows, schema=FINDING_COLUMNS) if rows else pl.DataFrame(schema=FINDING_COLUMNS)
    )


def _thresholds(cfg) -> dict:
    """The config's thresholds file, which `cld check` requires to exist."""
    from pipelines.outputs.sources import SourceError, load_thresholds

    path = cfg.path(cfg.checks.thresholds)
    if not path.exists():
        raise UserError(f"{cfg.file}: key [checks] thresholds: no such file {path}")
    try:
        return load_thresholds(cfg)
    except SourceError as exc:
        raise UserError(str(exc)) from None


def print_summary(
    summary: dict, file: Path, out: Path, docs: Path | None, national: pl.DataFrame | None = None
) -> None:
    from checks.national import national_failed_lines

    ready = summary["ready"]
    typer.secho(
        f"{file.name}: {'READY to submit' if ready else 'NOT ready to submit'} "
        f"({summary['release']}, {summary['rows']:,} rows) - "
        f"{summary['errors']:,} errors, {summary['warnings']:,} warnings",
        fg=typer.colors.GREEN if ready else typer.colors.RED,
        bold=True,
    )
    width = max((len(r["rule_id"]) for r in summary["by_rule"]), default=10)
    for sev in ("error", "warning"):
        rules = [r for r in summary["by_rule"] if r["severity"] == sev]
        if rules:
            typer.echo(f"\n{sev}s by rule:")
            for r in rules:
                typer.echo(f"  {r['count']:>8,}  {r['rule_id']:<{width}}  {r['message']}")
    modules: dict[str, dict[str, int]] = {}
    for r in summary.get("by_module", []):
        modules.setdefault(r["module"], {})[r["severity"]] = r["count"]
    if modules:
        typer.echo("\nby national DQ module (errors / warnings):")
        for name, counts in modules.items():
            typer.echo(f"  {name:<34} {counts.get('error', 0):>8,} / {counts.get('warning', 0):,}")
    if national is not None and national["failed"].sum():
        typer.echo(
            "\nthe national DQ report will count as failed (cells per national module and field):"
        )
        for line in national_failed_lines(national):
            typer.echo(line)
    typer.echo(f"\nfindings: {out / 'findings.parquet'} and {out / 'findings.csv'}")
    typer.echo(f"national DQ picture (module x field, failed cells): {out / 'national_dq.csv'}")
    typer.echo(f"DQ taxonomy (module x field x status x validity): {out / 'dq_taxonomy.csv'}")
    if docs:
        typer.echo(f"data docs: {docs}")


def check_command(
    file: Annotated[Path, typer.Argument(help="CLD submission file (.csv or .csv.gz)")],
    release: Annotated[
        str | None,
        typer.Option(
            help="R1 or R2, used when the file does not say its reporting period (the release "
            "the national process applies to that period always comes first)"
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for findings (default: <output_dir>/checks/<file>)")
    ] = None,
    previous: Annotated[
        Path | None, typer.Option(help="The previous submission, for the change checks")
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="Period, e.g. 2025-26Q2 (default: the file's own dates)")
    ] = None,
    docs: Annotated[
        bool, typer.Option(help="Build the offline Great Expectations Data Docs")
    ] = True,
) -> None:
    """Check a CLD submission file: field contract, logical rules, quantitative expectations.

    Prints whether it is ready to submit, errors and warnings by rule, and writes the findings
    (parquet and an Excel-safe CSV). Exit code 1 when errors remain.
    """
    from checks import run_checks
    from pipelines.cldfile import CldFileError, read_cld, read_cld_for_check
    from pipelines.period import Period

    cfg = get_config()
    with user_errors(CldFileError):
        frame, spec, info = read_cld_for_check(file, release)
        prev = read_cld(previous)[0] if previous else None
        per = Period.parse(period) if period else None
    from checks.quantitative import ThresholdsError, check_thresholds

    thresholds = _thresholds(cfg)
    try:
        check_thresholds(thresholds, spec)
    except ThresholdsError as exc:
        raise UserError(f"{cfg.path(cfg.checks.thresholds)}: {exc}") from None
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    out = (out or cfg.path(cfg.paths.output_dir) / "checks" / file.name.split(".")[0]).resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the findings folder {out}: {exc.strerror}") from None
    res = run_checks(
        frame,
        spec,
        run_id=run_id,
        previous=prev,
        period=per,
        thresholds=thresholds,
        data_docs_dir=(out / "data_docs") if docs else None,
    )
    row_findings = res.findings
    if info.header_faults and info.header_faults.missing_fields:
        # a column the file lacks is the header finding's, not one finding per row
        row_findings = row_findings.filter(
            ~pl.col("field").is_in(info.header_faults.missing_fields).fill_null(False)
        )
    findings = pl.concat([file_findings(info, run_id), row_findings])
    from checks.engine import summarise

    summary = {**res.summary, **summarise(findings)}
    findings.write_parquet(out / "findings.parquet")
    excel_safe(findings).write_csv(out / "findings.csv")
    if (
        res.taxonomy is not None
    ):  # the national DQ report's shape: module x field x status x validity
        res.taxonomy.write_csv(out / "dq_taxonomy.csv")
    from checks.national import national_dq

    national = national_dq(res.taxonomy, spec, findings)
    national.write_csv(out / "national_dq.csv")
    print_summary(summary, file, out, res.data_docs, national)
    if not summary["ready"]:
        raise typer.Exit(1)


def rules_command(
    format: Annotated[str, typer.Option("--format", help="table, md or xlsx")] = "table",
    out: Annotated[
        Path | None, typer.Option(help="File to write (md/xlsx); default: print md")
    ] = None,
    release: Annotated[str, typer.Option(help="Release for the field checks")] = "R2",
) -> None:
    """List the rule catalogue (field checks, logical rules, quantitative expectations)."""
    from checks.catalogue import catalogue_frame

    if format not in ("table", "md", "xlsx"):
        raise UserError(f"--format must be table, md or xlsx, not {format!r}")
    with user_errors(KeyError):
        frame = catalogue_frame(release)
    if format == "xlsx":
        target = out or Path("cld-rules.xlsx")
        from xlsxwriter.exceptions import FileCreateError

        try:
            excel_safe(frame).write_excel(target, worksheet="rules", autofit=True)
        except FileCreateError as exc:
            raise UserError(f"cannot write {target}: {exc.args[0]}") from None
        typer.echo(f"{frame.height} rules written to {target}")
        return
    if format == "md":
        text = to_markdown(frame)
        if out:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"{frame.height} rules written to {out}")
        else:
            typer.echo(text)
        return
    for r in frame.iter_rows(named=True):
        typer.echo(f"{r['rule_id']:<40} {r['severity']:<8} {r['category']:<13} {r['message']}")
    typer.echo(f"\n{frame.height} rules")


def to_markdown(frame: pl.DataFrame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(str(v or "").replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
    app.command("rules")(rules_command)
