"""``cld check`` (check a submission file) and ``cld rules`` (list the rule catalogue)."""

from __future__ import annotations

import gc
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cld_schema.errors import CldError
from pipelines.cli.common import UserError, get_config


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


def cld_files(args: list[Path]) -> list[Path]:
    """The files to check: each argument a file, a folder (its ``*.csv`` and ``*.csv.gz``,
    sorted) or a glob pattern the shell did not expand (``'returns/*.csv'``)."""
    import glob

    out: list[Path] = []
    for a in args:
        if a.is_dir():
            found = sorted(p for p in a.iterdir() if p.name.endswith((".csv", ".csv.gz")))
            if not found:
                raise UserError(f"{a}: is a folder with no .csv or .csv.gz files in it")
            out += found
        elif not a.exists() and any(ch in str(a) for ch in "*?["):
            found = sorted(Path(p) for p in glob.glob(str(a)) if Path(p).is_file())
            if not found:
                raise UserError(f"{a}: no file matches this pattern")
            out += found
        else:
            out.append(a)
    return list(dict.fromkeys(out))


def _check_file(
    cfg, file: Path, out: Path, *, release, prev, per, thresholds: dict, docs: bool, run_id: str
):
    """Check one file into ``out``: (summary, national picture, Data Docs index)."""
    import polars as pl

    from checks import run_checks
    from checks.engine import summarise
    from checks.national import national_dq
    from checks.rules.file import file_findings
    from pipelines.cldfile import read_cld_for_check
    from pipelines.excel_safe import excel_safe_frame as excel_safe

    frame, spec, info = read_cld_for_check(file, release)
    from checks.quantitative import ThresholdsError, check_thresholds

    try:
        check_thresholds(thresholds, spec)
    except ThresholdsError as exc:
        raise UserError(f"{cfg.path(cfg.checks.thresholds)}: {exc}") from None
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
    summary = {**res.summary, **summarise(findings)}
    summary["la_code"] = _la_code(frame)
    findings.write_parquet(out / "findings.parquet")
    excel_safe(findings).write_csv(out / "findings.csv")
    if res.taxonomy is not None:  # the national DQ report's shape: module x field x status x …
        res.taxonomy.write_csv(out / "dq_taxonomy.csv")
    national = national_dq(res.taxonomy, spec, findings)
    national.write_csv(out / "national_dq.csv")
    return summary, national, res.data_docs


def _check_one(cfg, file: Path, target: Path, kw: dict) -> dict:
    """One file of a folder run, in a worker process: its summary (findings written)."""
    summary, _, _ = _check_file(cfg, file, target, prev=None, **kw)
    gc.collect()  # one file's frames go before the worker reads the next
    return summary


def _worker_start() -> None:
    from checks.quantitative import start_gx_import

    start_gx_import()  # each worker imports GX once, overlapping its first file


def _check_many(cfg, paths: list[Path], base: Path, stamp: str, *, jobs: int, **kw):
    """(file, findings folder, a call giving its summary) per file, in the files' order.
    With ``jobs`` > 1 the files are checked that many at a time in worker processes (each
    holds one file in memory at a time; GX, spec and thresholds loaded once per worker), so a
    region's or England's folder uses every core; one worker's error stays that file's."""
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    plan = []
    for file in paths:
        target = base / file.name.split(".")[0]
        plan.append((file, target, {**kw, "run_id": f"{stamp}-{uuid.uuid4().hex[:6]}"}))
    jobs = max(1, min(jobs or (os.cpu_count() or 1), len(paths)))
    if jobs == 1:
        _worker_start()
        for file, target, args in plan:
            yield file, target, (lambda f=file, t=target, a=args: _check_one(cfg, f, t, a))
        return
    # spawn, not fork: this process has threads (the GX import) that fork would copy mid-way
    with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"),
                             initializer=_worker_start) as pool:  # fmt: skip
        futures = [pool.submit(_check_one, cfg, f, t, a) for f, t, a in plan]
        for (file, target, _), fut in zip(plan, futures, strict=True):
            yield file, target, fut.result


def _la_code(frame) -> str | None:
    """The council's code as the file gives it (most common LA_Code)."""
    import polars as pl

    codes = frame.select(pl.col("LA_Code").drop_nulls().mode().sort().first()).item()
    return None if codes is None else str(codes)


def check_command(
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
) -> None:
    """Check CLD submission files: field contract, logical rules, quantitative expectations.

    One file: prints whether it is ready to submit, errors and warnings by rule, and writes
    the findings (parquet and an Excel-safe CSV). Several files, a folder or a glob (e.g. a
    region's councils): each file is checked on its own into its own folder, ``--jobs`` at a
    time in worker processes (memory: that of one file per worker), with one line per file and
    a summary across all (summary.csv). Exit code 1 when errors remain in any file.
    """
    from checks.quantitative import start_gx_import
    from pipelines.cldfile import read_cld
    from pipelines.period import Period

    cfg = get_config()
    paths = cld_files(files)
    if previous and len(paths) > 1:
        raise UserError("--previous compares one file with its previous submission: give one file")
    thresholds = _thresholds(cfg)
    prev = read_cld(previous)[0] if previous else None
    per = Period.parse(period) if period else None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    base = (out or cfg.path(cfg.paths.output_dir) / "checks").resolve()
    if len(paths) == 1:
        file = paths[0]
        target = out.resolve() if out else base / file.name.split(".")[0]
        run_id = f"{stamp}-{uuid.uuid4().hex[:6]}"
        start_gx_import()  # GX's import overlaps reading and checking the file
        summary, national, data_docs = _check_file(
            cfg, file, target, release=release, prev=prev, per=per,
            thresholds=thresholds, docs=docs, run_id=run_id,
        )  # fmt: skip
        print_summary(summary, file, target, data_docs, national)
        if not summary["ready"]:
            raise typer.Exit(1)
        return
    rows = []
    for i, (file, target, job) in enumerate(
        _check_many(cfg, paths, base, stamp, release=release, per=per, thresholds=thresholds,
                    docs=docs, jobs=jobs),
        1,
    ):
        try:
            summary = job()
        except CldError as exc:  # one unreadable file does not stop the others
            rows.append({"file": file.name, "status": "unreadable", "message": str(exc)})
            typer.secho(f"[{i}/{len(paths)}] {file.name}: NOT CHECKED - {exc}", fg="red")
            continue
        rows.append(
            {
                "file": file.name,
                "status": "ready" if summary["ready"] else "not ready",
                "la_code": summary["la_code"],
                "release": summary["release"],
                "rows": summary["rows"],
                "errors": summary["errors"],
                "warnings": summary["warnings"],
                "by_rule": summary["by_rule"],
                "findings": str(target),
            }
        )
        typer.secho(
            f"[{i}/{len(paths)}] {file.name}: "
            f"{'READY' if summary['ready'] else 'NOT ready'} (LA {summary['la_code']}, "
            f"{summary['release']}, {summary['rows']:,} rows) - {summary['errors']:,} errors, "
            f"{summary['warnings']:,} warnings",
            fg=typer.colors.GREEN if summary["ready"] else typer.colors.RED,
        )
    print_overall(rows, base)
    if any(r["status"] != "ready" for r in rows):
        raise typer.Exit(1)


def print_overall(rows: list[dict], base: Path) -> None:
    """The summary across all files: counts, the rules behind most errors, summary.csv."""
    import polars as pl

    base.mkdir(parents=True, exist_ok=True)
    schema = _summary_schema()
    table = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    table.write_csv(base / "summary.csv")
    checked = table.filter(pl.col("status") != "unreadable")
    ready = table.filter(pl.col("status") == "ready").height
    typer.secho(
        f"\nall files: {table.height} checked, {ready} ready to submit, "
        f"{table.height - checked.height} unreadable - {int(checked['rows'].sum() or 0):,} rows, "
        f"{int(checked['errors'].sum() or 0):,} errors, "
        f"{int(checked['warnings'].sum() or 0):,} warnings",
        bold=True,
    )
    by_rule: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        for b in r.get("by_rule") or []:
            tot = by_rule.setdefault((b["severity"], b["rule_id"]), [0, 0, b["message"]])
            tot[0] += b["count"]
            tot[1] += 1
    errors = sorted(((v, k[1]) for k, v in by_rule.items() if k[0] == "error"), reverse=True)
    if errors:
        typer.echo("\nerrors by rule across all files (findings, files):")
        for (count, nfiles, message), rid in errors[:15]:
            typer.echo(f"  {count:>10,}  {nfiles:>4}  {rid:<36}  {message}")
    typer.echo(f"\none row per file: {base / 'summary.csv'}")


def _summary_schema() -> dict:
    import polars as pl

    text, count = pl.String, pl.Int64
    return {
        "file": text,
        "status": text,
        "la_code": text,
        "release": text,
        "rows": count,
        "errors": count,
        "warnings": count,
        "message": text,
        "findings": text,
    }


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


def to_markdown(frame) -> str:
    cols = frame.columns
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.iter_rows():
        lines.append("| " + " | ".join(str(v or "").replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines) + "\n"


def register(app: typer.Typer) -> None:
    app.command("check")(check_command)
    app.command("rules")(rules_command)
