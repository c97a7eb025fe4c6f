"""``cld run quarterly`` / ``cld run nightly``: the whole job from the shell, no Prefect needed.

The same step functions the Prefect flows wrap (``pipelines.runs``), chained in order.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from cld_schema import RELEASES
from pipelines.cli.build import build_progress, steps_with_progress
from pipelines.cli.common import UserError, get_config, say_council
from pipelines.period import Period

run_app = typer.Typer(
    rich_markup_mode=None,  # help shows [section] key names as written
    help="Run the whole job (build, checks, history, report, team lists) without Prefect.",
    no_args_is_help=True,
)




def _say(text: str) -> None:
    typer.secho(f"· {text}", dim=True)


def print_outcome(outcome: Any) -> None:
    """Counts, ids and paths only."""
    for key, value in outcome.facts.items():
        if isinstance(value, dict):
            typer.echo(f"{key}:")
            for k, v in value.items():
                typer.echo(f"  {k}: {v}")
        elif isinstance(value, list):
            typer.echo(f"{key}: {', '.join(map(str, value)) or 'none'}")
        else:
            typer.echo(f"{key}: {value}")
    errors = [r for r in outcome.by_rule if r.get("severity") == "error"]
    if errors:
        typer.echo("errors by rule:")
        for r in sorted(errors, key=lambda r: -int(r.get("count") or 0))[:15]:
            typer.echo(f"  {r.get('rule_id')}: {r.get('count')}  {r.get('message')}")


def verdict(outcome: Any) -> None:
    if outcome.ready:
        typer.secho(f"{outcome.period} {outcome.release}: ready to submit", fg=typer.colors.GREEN)
    else:
        # Point to the report and the lists only when this run wrote them.
        wrote = [name for key, name in (("DQ report", "the DQ report"),
                                        ("exception lists", "the team lists"))
                 if outcome.facts.get(key)]  # fmt: skip
        see = f": see {' and '.join(wrote)}" if wrote else ""
        typer.secho(
            f"{outcome.period} {outcome.release}: NOT ready to submit "
            f"({outcome.facts.get('errors')} errors){see}",
            fg=typer.colors.RED,
        )


@run_app.command("quarterly")
def quarterly_cmd(
    ctx: typer.Context,
    period: Annotated[
        str | None,
        typer.Option("--period", "-p", help="Quarter, e.g. 2025-26Q2 (default: the last one)."),
    ] = None,
    release: Annotated[
        str | None, typer.Option(help=" or ".join(RELEASES) + " (default: config/auto).")
    ] = None,
    header_style: Annotated[
        str | None, typer.Option(help="label or database (default: config).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Build and check only: nothing recorded or placed.")
    ] = False,
    build_anyway: Annotated[
        bool, typer.Option("--build-anyway", help="Write the file even when errors block it.")
    ] = False,
    deliver: Annotated[
        bool, typer.Option("--deliver", help="Also deliver the team lists ([delivery] mode).")
    ] = False,
) -> None:
    """Build, check and record a quarter; compare, DQ report, team exception lists.

    Exit code 1 when errors block the submission (the file is then not placed unless
    --build-anyway), 2 for a problem to fix first (config, database, period).
    """
    from pipelines import runs

    cfg = get_config(ctx)
    say_council(cfg)
    p = Period.parse(period) if period else None
    if release and release.upper() not in RELEASES:
        raise UserError(f"unknown release {release!r}: use {' or '.join(RELEASES)}")
    try:
        with build_progress() as tick:
            outcome = runs.quarterly(
                cfg, p, release.upper() if release else None, header_style,
                dry_run=dry_run, build_anyway=build_anyway, deliver=deliver, progress=_say,
                steps=steps_with_progress(tick),
            )  # fmt: skip
    except runs.BlockedSubmission as exc:
        if exc.outcome is not None:
            print_outcome(exc.outcome)
        typer.secho(f"blocked: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    print_outcome(outcome)
    verdict(outcome)


@run_app.command("nightly")
def nightly_cmd(
    ctx: typer.Context,
    today: Annotated[
        str | None, typer.Option(help="ISO date standing in for today (default: today).")
    ] = None,
    deliver: Annotated[
        bool, typer.Option("--deliver/--no-deliver", help="Deliver the team lists.")
    ] = True,
) -> None:
    """Check the rolling year up to today, record it (DQ trend, NHS-number feedback), and
    write and deliver every team's exception list."""
    from pipelines import runs

    cfg = get_config(ctx)
    say_council(cfg)
    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        raise UserError(f"--today {today!r} is not a date like 2026-01-31") from None
    try:
        with build_progress() as tick:
            outcome = runs.nightly(cfg, day, deliver=deliver, progress=_say,
                                   steps=steps_with_progress(tick))
    except (runs.DeliveryFailed, runs.NoEvents) as exc:
        if exc.outcome is not None:
            print_outcome(exc.outcome)
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    print_outcome(outcome)


def register(app: typer.Typer) -> None:
    app.add_typer(run_app, name="run")
