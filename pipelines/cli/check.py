"""``cld check`` (check a submission file) and ``cld rules`` (list the rule catalogue)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import UserError, get_config


def print_summary(summary: dict, file: Path, out: Path, docs: Path | None, national=None) -> None:
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
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="CLD submission file(s) (.csv or .csv.gz), a folder of them, or a glob "
            "such as 'returns/*.csv'",
            show_default=False,
        ),
    ],
    release: Annotated[
        str | None,
        typer.Option(
            help="R1 or R2, used when the file does not say its reporting period (the release "
            "the national process applies to that period always comes first)"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for findings (default: <output_dir>/checks/<file>; with several "
            "files, <output_dir>/checks with one folder per file)"
        ),
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
    jobs: Annotated[
        int,
        typer.Option(
            help="With several files: how many to check at a time, each in its own process "
            "(about 1.3 GB each for a large county); 0 = one per core",
            min=0,
        ),
    ] = 0,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Keep the findings in history as a run of kind check (one per file), so "
            "`cld report` / `cld exceptions` and the trend see them",
        ),
    ] = False,
) -> None:
    """Check CLD submission files: field contract, logical rules, quantitative expectations.

    One file: prints whether it is ready to submit, errors and warnings by rule, and writes
    the findings (parquet and an Excel-safe CSV). Several files, a folder or a glob (e.g. a
    region's councils): each file is checked on its own into its own folder, `--jobs` at a
    time in worker processes (memory: that of one file per worker), with one line per file and
    a summary across all (summary.csv). Exit code 1 when errors remain in any file.
    """
    from pipelines import runs
    from pipelines.period import Period

    cfg = get_config(ctx)
    per = Period.parse(period) if period else None

    def say(i: int, n: int, checked: runs.FileCheck) -> None:
        if n > 1:
            print_file_line(i, n, checked)

    outcome = runs.check_file(cfg, files, release=release, previous=previous, period=per,
                              out=out, docs=docs, jobs=jobs, record=record, on_file=say)
    if len(outcome.files) == 1:
        checked = outcome.files[0]
        print_summary(checked.summary, checked.file, checked.folder, checked.data_docs,
                      checked.national)
        if checked.run_id is not None:
            typer.echo(f"history run: {checked.run_id}")
        if not checked.ready:
            raise typer.Exit(1)
        return
    print_overall(outcome)
    if not outcome.ready:
        raise typer.Exit(1)


def print_file_line(i: int, n: int, checked) -> None:
    """One file of several: ready or not, its council, release and counts."""
    if checked.summary is None:  # one unreadable file does not stop the others
        typer.secho(f"[{i}/{n}] {checked.file.name}: NOT CHECKED - {checked.error}", fg="red")
        return
    summary = checked.summary
    typer.secho(
        f"[{i}/{n}] {checked.file.name}: "
        f"{'READY' if summary['ready'] else 'NOT ready'} (LA {summary['la_code']}, "
        f"{summary['release']}, {summary['rows']:,} rows) - {summary['errors']:,} errors, "
        f"{summary['warnings']:,} warnings",
        fg=typer.colors.GREEN if summary["ready"] else typer.colors.RED,
    )


def print_overall(outcome) -> None:
    """The summary across all files: counts, the rules behind most errors, summary.csv."""
    files = outcome.files
    checked = [f.summary for f in files if f.summary is not None]
    ready = sum(1 for f in files if f.ready)
    typer.secho(
        f"\nall files: {len(files)} given, {len(checked)} checked, {ready} ready to submit, "
        f"{len(files) - len(checked)} not checked (unreadable) - "
        f"{sum(s['rows'] for s in checked):,} rows, "
        f"{sum(s['errors'] for s in checked):,} errors, "
        f"{sum(s['warnings'] for s in checked):,} warnings",
        bold=True,
    )
    by_rule: dict[tuple[str, str], list] = {}
    for s in checked:
        for b in s.get("by_rule") or []:
            tot = by_rule.setdefault((b["severity"], b["rule_id"]), [0, 0, b["message"]])
            tot[0] += b["count"]
            tot[1] += 1
    errors = sorted(((v, k[1]) for k, v in by_rule.items() if k[0] == "error"), reverse=True)
    if errors:
        typer.echo("\nerrors by rule across all files (findings, files):")
        for (count, nfiles, message), rid in errors[:15]:
            typer.echo(f"  {count:>10,}  {nfiles:>4}  {rid:<36}  {message}")
    runs_recorded = [f"{f.run_id} ({f.file.name})" for f in files if f.run_id is not None]
    if runs_recorded:
        typer.echo(f"history runs: {', '.join(runs_recorded)}")
    typer.echo(f"\none row per file: {outcome.summary_csv}")


def rules_command(
    format: Annotated[str, typer.Option("--format", help="table, md or xlsx")] = "table",
    out: Annotated[
        Path | None, typer.Option(help="File to write (md/xlsx); default: print md")
    ] = None,
    release: Annotated[
        str | None, typer.Option(help="Release for the field checks (default: the latest)")
    ] = None,
) -> None:
    """List the rule catalogue (field checks, logical rules, quantitative expectations)."""
    from checks.catalogue import catalogue_frame

    if format not in ("table", "md", "xlsx"):
        raise UserError(f"--format must be table, md or xlsx, not {format!r}")
    frame = catalogue_frame(release)
    if format == "xlsx":
        target = out or Path("cld-rules.xlsx")
        from xlsxwriter.exceptions import FileCreateError

        try:
            from pipelines.excel_safe import excel_safe_frame as excel_safe

            excel_safe(frame).write_excel(target, worksheet="rules", autofit=True)
        except FileCreateError as exc:
            raise UserError(f"cannot write {target}: {exc.args[0]}") from None
        typer.echo(f"{frame.height} rules written to {target}")
        return
    if format == "md":
        from pipelines.markdown import markdown_table

        text = markdown_table(frame)
        if out:
            out.write_text(text, encoding="utf-8")
            typer.echo(f"{frame.height} rules written to {out}")
        else:
            typer.echo(text)
        return
    for r in frame.iter_rows(named=True):
        typer.echo(f"{r['rule_id']:<40} {r['severity']:<8} {r['category']:<13} {r['message']}")
    typer.echo(f"\n{frame.height} rules")


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
    app.command("rules")(rules_command)
