"""``cld exceptions`` (team exception lists, optionally delivered) and ``cld report`` (the
self-contained HTML data-quality report). Both read a run from the history, or a findings file
written by ``cld check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import UserError, get_config

RunOpt = Annotated[int | None, typer.Option("--run", help="History run id (default: the latest "
                                             "checked run)")]
FindingsOpt = Annotated[Path | None, typer.Option(
    "--findings", help="A findings file from `cld check` (findings.parquet or .csv) instead "
    "of the history")]
PeriodOpt = Annotated[str | None, typer.Option(
    "--period", "-p", help="Build this period from the case system and check it now "
    "(e.g. 2025-26Q3), instead of reading the history; nothing is recorded")]


def _one_source(run, findings, period) -> None:
    if sum(x is not None for x in (run, findings, period)) > 1:
        raise UserError("give one of --run, --findings or --period")




def exceptions_command(
    ctx: typer.Context,
    run: RunOpt = None,
    findings: FindingsOpt = None,
    period: PeriodOpt = None,
    previous: Annotated[Path | None, typer.Option(
        help="With --findings: the previous run's findings file, for the counts sheet")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for the workbooks (default: <output_dir>/exceptions/<run>)")] = None,
    deliver: Annotated[bool, typer.Option(
        "--deliver/--no-deliver",
        help="Send each team its workbook (as [delivery] mode says)")] = False,
    mode: Annotated[str | None, typer.Option(
        help="Override [delivery] mode: email or folder")] = None,
) -> None:
    """Write every team's exception list (one xlsx per team, only its own clients); teams
    with nothing outstanding get an all-clear. With --deliver, e-mail them or drop them in
    per-team folders; a failed team is retried, reported, and never stops the others."""
    from pipelines import runs
    from pipelines.outputs import write_exception_lists
    from pipelines.outputs.delivery import deliver as deliver_lists
    from pipelines.outputs.delivery import load_directory

    _one_source(run, findings, period)
    if mode not in (None, "email", "folder"):
        raise UserError(f"--mode must be email or folder, not {mode!r}")
    cfg = get_config(ctx)
    directory_path = cfg.path(cfg.delivery.directory)
    directory = load_directory(directory_path) if directory_path.exists() else {}
    teams = [(c.team_id, c.team_name) for c in directory.values()]
    got = runs.inputs_for(cfg, run=run, findings=findings, previous=previous,
                          period=period)
    label, run_id = got.label, got.list_id
    target = out or cfg.path(cfg.paths.output_dir) / "exceptions" / label
    lists = write_exception_lists(got.findings, target, run_id=run_id, teams=teams,
                                  previous=got.previous, feedback=got.feedback,
                                  trend=got.trend, **runs.team_list_inputs(cfg, got))
    if not lists.teams_known:
        typer.secho(
            f"these findings carry no owning team (a submission file read back by `cld check` "
            f"has none): all {lists.unallocated_count} went to the analyst's list "
            f"{lists.unallocated}. For team lists use --period (build and check now) or a run "
            "recorded by the quarterly/nightly flow (--run).", fg=typer.colors.YELLOW, err=True)
        if deliver:
            raise UserError("nothing to deliver: no team lists were written")
        return
    clear = sum(1 for t in lists.teams if t.all_clear)
    typer.echo(f"{len(lists.teams)} team workbooks ({clear} all clear) in {target}")
    typer.echo(f"  {'team':<40} {'errors':>7} {'warnings':>9} {'clients to fix':>14}")
    for t in lists.teams:
        typer.echo(f"  {t.team_name[:40]:<40} {t.errors:>7} {t.warnings:>9} {t.people:>14}")
    if lists.unallocated:
        typer.echo(f"{lists.unallocated_count} findings without a team: {lists.unallocated}")
    if not deliver:
        return
    report = deliver_lists(lists, cfg, mode=mode)
    if report.unreachable:
        again = f"--run {run_id} " if run_id and str(run_id).isdigit() else ""
        typer.secho(f"{report.unreachable}: nothing sent; the lists stay in {target} "
                    f"(deliver them later with `cld exceptions {again}--deliver`)",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    for o in report.outcomes:
        colour = typer.colors.GREEN if o.status in ("sent", "delivered") else typer.colors.RED
        typer.secho(f"  {o.team_id:<6} {o.status:<10} attempts {o.attempts}  {o.detail}",
                    fg=colour)
    typer.echo(f"delivery report: {report.path}")
    if not report.ok:
        typer.secho(f"{len(report.failed)} team(s) not delivered", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


def report_command(
    ctx: typer.Context,
    run: RunOpt = None,
    findings: FindingsOpt = None,
    period: PeriodOpt = None,
    cld: Annotated[Path | None, typer.Option(
        "--cld", help="With --findings: the checked CLD file, for completeness and volumes")
    ] = None,
    out: Annotated[Path | None, typer.Option(
        help="The HTML file to write (default: <output_dir>/reports/dq_report_<run>.html)")
    ] = None,
    data_docs: Annotated[Path | None, typer.Option(
        help="The Great Expectations Data Docs folder to link (default: beside the findings)")
    ] = None,
) -> None:
    """Write the self-contained HTML data-quality report: ready to submit or not, findings by
    rule and module, completeness against thresholds, volumes by month, changes against the
    previous submission, the teams' trend, and a link to the Data Docs. Opens offline."""
    from pipelines import runs, thresholds
    from pipelines.cldfile import read_cld
    from pipelines.outputs.report import ReportInputs, save_report
    from pipelines.period import Period

    _one_source(run, findings, period)
    cfg = get_config(ctx)
    reports = cfg.path(cfg.paths.output_dir) / "reports"
    if period is not None:
        target = out or reports / f"dq_report_{period}-now.html"
        got = runs.inputs_for(cfg, period=period, quantitative=True,
                              data_docs_dir=target.parent / f"data_docs_{period}")
        p = Period.parse(period)
        inp = ReportInputs(
            findings=got.findings, frame=got.frame, spec=got.spec, run_id=got.label,
            council=cfg.council.name, thresholds=thresholds.load(cfg).checks, trend=got.trend,
            data_docs=data_docs or got.data_docs, period_label=str(p),
            period=(p.start, p.end), kind="check", cutoff=p.end,
            national=runs.national_cells(got.frame, got.spec, got.findings, p),
            file_measures=got.file_measures,
        )
        path = save_report(inp, target)
    elif findings is None:
        path = runs.write_run_report(cfg, run, out.parent if out else reports,
                                     data_docs=data_docs)
        if out:
            path = path.replace(out)
    else:
        frame, spec = read_cld(cld) if cld else (None, None)
        docs = data_docs or (findings.parent / "data_docs")
        found = runs.inputs_for(cfg, findings=findings).findings
        inp = ReportInputs(
            findings=found, frame=frame, spec=spec, kind="check",
            council=cfg.council.name, thresholds=thresholds.load(cfg).checks,
            data_docs=docs if docs.exists() else None,
            national=runs.national_cells(frame, spec, found),
            file_measures=runs.file_measures(frame, spec),
        )
        path = save_report(inp, out or reports / f"dq_report_{findings.parent.name}.html")
    typer.echo(f"DQ report: {path}")


def register(app: typer.Typer) -> None:
    app.command("exceptions")(exceptions_command)
    app.command("report")(report_command)
