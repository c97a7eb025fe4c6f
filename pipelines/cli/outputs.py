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
    from pipelines.period import Period

    _one_source(run, findings, period)
    if mode not in (None, "email", "folder"):
        raise UserError(f"--mode must be email or folder, not {mode!r}")
    cfg = get_config(ctx)
    got = runs.exception_lists(cfg, run=run, findings=findings, previous=previous,
                               period=Period.parse(period) if period else None, out=out,
                               deliver=deliver, mode=mode)
    lists, target, run_id = got.lists, got.folder, got.list_id
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
    report = got.delivery
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
    from pipelines import runs
    from pipelines.period import Period

    _one_source(run, findings, period)
    cfg = get_config(ctx)
    path = runs.report(cfg, run=run, findings=findings, cld=cld,
                       period=Period.parse(period) if period else None, out=out,
                       data_docs=data_docs)
    typer.echo(f"DQ report: {path}")


def register(app: typer.Typer) -> None:
    app.command("exceptions")(exceptions_command)
    app.command("report")(report_command)
