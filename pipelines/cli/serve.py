"""``cld serve``: run the council's Prefect deployments from this one process (``flow.serve``).

For a single council machine with no work pool: the quarterly submission, the nightly DQ run
and the NHS-number feedback flows, with the schedules of ``prefect.yaml``. Runs can be
triggered from the Prefect UI or ``prefect deployment run``. See docs/flows.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import UserError, get_config

HELP = (
    "Serve the council's flows (quarterly submission, nightly DQ, NHS-number feedback) from "
    "this process, with the schedules of prefect.yaml.\n\n"
    "Keeps running until stopped (Ctrl-C), starting scheduled runs and any run triggered "
    "from the Prefect UI or with `prefect deployment run 'quarterly-submission/quarterly'`. "
    "Needs a standing `prefect server start` named by PREFECT_API_URL: Prefect's scheduler, "
    "which turns the schedules into runs, runs only there (README: Scheduling with Prefect). "
    "Prefect's state stays in the project's .prefect/ folder unless PREFECT_HOME says "
    "otherwise."
)


WORKER_HELP = (
    "Start a Prefect process worker for the council's work pool: `prefect worker start --pool "
    "POOL`, with CLD_CONFIG set to this command's config so its runs read the same cld.toml.\n\n"
    "Needs PREFECT_API_URL (a standing `prefect server start`). Stops on SIGTERM (kill, "
    "systemctl stop) or Ctrl-C, also when started in the background from a script: a shell "
    "without job control starts background jobs with SIGINT ignored, and Prefect's worker "
    "turns SIGTERM into a SIGINT to itself, so `prefect worker start &` in a script never stops "
    "on `kill`; this command restores SIGINT first."
)


def register(app: typer.Typer) -> None:
    app.command("serve", help=HELP)(serve)
    app.command("worker", help=WORKER_HELP)(worker)


def worker(
    ctx: typer.Context,
    pool: Annotated[str, typer.Option("--pool", help="The work pool.")] = "cld-process",
) -> None:
    """Start a Prefect worker for the pool (see WORKER_HELP)."""
    import os
    import signal
    import sys

    cfg = get_config(ctx)
    from flows.settings import configure_prefect

    configure_prefect()
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        raise UserError(
            "cld worker needs a standing Prefect server: start `prefect server start` and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api); see README, Scheduling with Prefect"
        )
    prefect = Path(sys.executable).parent / "prefect"
    os.environ["CLD_CONFIG"] = str(cfg.file)
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # not inherited as ignored: see WORKER_HELP
    os.execv(prefect, [str(prefect), "worker", "start", "--pool", pool])


def serve(
    ctx: typer.Context,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Serve only this deployment (repeatable): quarterly, nightly, on-demand, "
            "inbox, check, all-councils. Default: all but all-councils.",
        ),
    ] = None,
    no_schedules: Annotated[
        bool,
        typer.Option("--no-schedules", help="Serve for manual runs only, without schedules."),
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="At most this many runs at once (they share one history database)."
        ),
    ] = 1,
    prefect_file: Annotated[
        Path | None,
        typer.Option(
            "--prefect-file",
            help="The deployments and schedules to serve (default: the project's prefect.yaml).",
        ),
    ] = None,
    list_only: Annotated[
        bool,
        typer.Option("--list", help="Print the deployments and their schedules, then exit."),
    ] = False,
) -> None:
    """Serve the council's flows (see HELP)."""
    cfg = get_config(ctx)  # every served flow gets this config file as its `config` parameter

    from flows.deployments import PREFECT_YAML, read_specs, runner_deployments, select

    source = prefect_file or PREFECT_YAML
    if not source.is_file():
        raise UserError(f"--prefect-file {source}: no such file")
    try:
        specs = select(read_specs(source), only)
    except ValueError as exc:
        raise UserError(str(exc)) from None

    if list_only:
        for spec in specs:
            sched = "manual only" if no_schedules else spec.schedule_text()
            typer.echo(f"{spec.name:<14} {spec.entrypoint:<40} {sched}")
        return

    from prefect import serve as prefect_serve
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        # Without one, Prefect would start a temporary server inside this process: it has no
        # scheduler (so no schedule would ever fire) and nothing outside can trigger a run.
        raise UserError(
            "cld serve needs a standing Prefect server: start `prefect server start` and set "
            "PREFECT_API_URL (e.g. http://127.0.0.1:4200/api); see README, Scheduling with Prefect"
        )
    typer.echo(f"serving {len(specs)} deployment(s) for {cfg.council.name}; Ctrl-C to stop")
    deployments = runner_deployments(specs, config=cfg.file, schedules=not no_schedules)
    prefect_serve(*deployments, limit=limit)
