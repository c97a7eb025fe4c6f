"""``cld build``: the quarterly submission file and its summary."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from cld_schema import RELEASES
from pipelines.cli.common import UserError, get_config, say_council
from pipelines.period import Period


def print_summary(result: Any) -> None:
    """Where the files are, and the counts an analyst checks first (no personal data)."""
    s = result.summary
    typer.echo(f"submission file: {result.path}")
    typer.echo(f"summary:         {result.summary_path}")
    typer.echo(
        f"{s['rows']} rows, {s['people']} people, release {s['release']}, "
        f"period {s['reporting_period']['start']} to {s['reporting_period']['end']}"
    )
    for event_type, months in s["rows_by_event_type_and_month"].items():
        typer.echo(f"  {event_type}: {sum(months.values())}")
    if s["unmapped"]:
        n = sum(u["rows"] for u in s["unmapped"])
        typer.secho(
            f"unmapped local codes: {len(s['unmapped'])} codes on {n} rows (see the summary; "
            "add them to the mapping tables)",
            fg=typer.colors.YELLOW,
        )
    feeds = s["feeds"]
    if not feeds.get("folder_found", True):
        typer.secho(
            f"no provider feeds: folder {feeds['folder']} not found ([paths] feeds_dir)",
            fg=typer.colors.YELLOW,
        )
    for q in feeds.get("quarantined", []):
        typer.secho(f"quarantined feed file {q['file']}: {q['reason']}", fg=typer.colors.YELLOW)
    for q in feeds.get("held_in_quarantine", []):
        typer.secho(
            f"still in quarantine since {(q.get('since') or '?')[:10]} (not re-sent): "
            f"{q['file']}: {q['reason']}",
            fg=typer.colors.YELLOW,
        )
    if feeds.get("unmatched_rows"):
        typer.echo(f"feed rows not matched to a person: {feeds['unmatched_rows']}")


def interactive() -> bool:
    """Progress bars only for a person at a terminal: never in CI, under Prefect or when the
    output goes to a file or pipe."""
    import os
    import sys

    if os.environ.get("CI") or os.environ.get("PREFECT__FLOW_RUN_ID"):
        return False
    return sys.stdout.isatty()


@contextlib.contextmanager
def build_progress() -> Iterator[Any]:
    """A bar per long build stage (extract, feeds, transform, write) with counts, on a
    terminal; yields the ``progress(stage, done, total)`` callback, or None when quiet."""
    if not interactive():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from pipelines.build import STAGES

    with Progress(
        TextColumn("{task.description:<10}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        transient=True,
    ) as bar:
        tasks = {stage: bar.add_task(stage, total=None, start=False, visible=False)
                 for stage in STAGES}

        def tick(stage: str, done: int, total: int) -> None:
            task = tasks[stage]
            bar.start_task(task)
            bar.update(task, completed=done, total=total, visible=True)

        yield tick


def run_build(cfg: Any, period: Period, **options: Any) -> Any:
    """Run the build with a progress display for the long stages (on a terminal)."""
    from pipelines.build import build

    with build_progress() as tick:
        return build(cfg, period, progress=tick, **options)


def steps_with_progress(tick: Any) -> Any:
    """The run's steps, the build showing its progress bar (``tick``) when there is one."""
    from pipelines import runs

    if tick is None:
        return runs.PLAIN

    def build(cfg: Any, period: Any, release: Any, header_style: Any, out: Any) -> Any:
        return runs.build_step(cfg, period, release, header_style, out, progress=tick)

    return dataclasses.replace(runs.PLAIN, build=build)


def register(app: typer.Typer) -> None:
    @app.command("build")
    def build_cmd(
        ctx: typer.Context,
        period: Annotated[
            str, typer.Option("--period", "-p", help="Quarter, e.g. 2024-25Q3 (Oct-Dec 2024).")
        ],
        release: Annotated[
            str | None,
            typer.Option(
                help=" or ".join(RELEASES) + " (default: the config's, auto = by period)."
            ),
        ] = None,
        source: Annotated[
            str | None,
            typer.Option(
                help="Case-management database URL (default: $CLD_DATABASE_URL or the sample)."
            ),
        ] = None,
        header_style: Annotated[
            str | None, typer.Option(help="label or database (default: the config's).")
        ] = None,
        out: Annotated[Path | None, typer.Option(help="Write the file here instead.")] = None,
        gzip: Annotated[
            bool | None, typer.Option("--gzip/--no-gzip", help="Write .csv.gz.")
        ] = None,
    ) -> None:
        """Build the CLD submission file for a quarter (rolling 12 months) and its summary."""
        cfg = get_config(ctx)
        say_council(cfg)
        parsed = Period.parse(period)
        if release is not None and release not in (*RELEASES, "auto"):
            raise UserError(f"--release {release!r}: use {', '.join(RELEASES)} or auto")
        if header_style is not None and header_style not in ("label", "database"):
            raise UserError(f"--header-style {header_style!r}: use label or database")
        result = run_build(
            cfg,
            parsed,
            release=release,
            source=source,
            header_style=header_style,
            out=out,
            gzip=gzip,
        )
        print_summary(result)
