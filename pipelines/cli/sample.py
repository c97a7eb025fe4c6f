"""``cld sample``: make the synthetic sample council (database, feeds, feedback, manifest)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import UserError, get_config


def _parse_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--reference-date {text!r} is not a date like 2026-03-31") from None


def sample(
    ctx: typer.Context,
    size: Annotated[
        str, typer.Option("--size", "-s", help="small | average | large | england")
    ] = "small",
    people: Annotated[
        int | None, typer.Option("--people", "-n", help="Number of persons (overrides --size).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same council.")] = 1,
    defects: Annotated[
        int | None,
        typer.Option(
            "--defects",
            help="Defects of each kind to inject (default: scaled to the size); 0 = clean.",
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to",
            help="SQLAlchemy URL to load into (e.g. postgresql+psycopg://user@host/db); "
            "default: the SQLite file [source] sample_db.",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Make the sample over an existing one: the SQLite file and its folder (the "
            "default target), or with --to the sample's tables in that database.",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Folder for feeds/, feedback/ and defects.csv."),
    ] = None,
    reference_date: Annotated[
        str | None,
        typer.Option("--reference-date", help="Last day with data (default 2026-03-31)."),
    ] = None,
    ddl: Annotated[
        str | None,
        typer.Option("--ddl", help="Only print the CREATE TABLE DDL for a dialect (mssql)."),
    ] = None,
) -> None:
    """Make the synthetic sample council: case-management database, provider feeds,
    NHS-number feedback and the manifest of injected defects."""
    from rich.progress import Progress

    from pipelines.sample import DEFAULT_REFERENCE, generate
    from pipelines.sample.data import load_sample_data
    from pipelines.sample.generator import resolve_people
    from pipelines.sample.targets import render_ddl

    if ddl:
        typer.echo(render_ddl(ddl), nl=False)
        return
    resolve_people(size, people, load_sample_data())  # a bad --size or --people first
    cfg = get_config(ctx)
    target: str | Path = to or cfg.path(cfg.source.sample_db)
    out_dir = out or (
        cfg.path(cfg.source.sample_db).parent
        if not to
        else cfg.path(Path(cfg.paths.output_dir) / "sample")
    )
    ref = _parse_date(reference_date) or DEFAULT_REFERENCE
    if not replace and (not to or out is None):
        # --to writes the database there, but its feeds, feedback and manifest beside the
        # embedded sample's (unless --out): those too are not replaced without asking
        held = [p for p in ([] if to else [Path(target)]) + [out_dir / "defects.csv"]
                if p.exists()]
        if held:
            raise UserError(
                f"{held[0]} already holds a sample council: add --replace to make a new one "
                "over it (its database, feeds, feedback and manifest)"
                + (", or --out DIR for the new one's files" if to else "")
            )
    with Progress(transient=True) as bar:
        task = bar.add_task("people", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        info = generate(
            target,
            size=size,
            people=people,
            seed=seed,
            defects=True if defects is None else defects,
            out_dir=out_dir,
            reference_date=ref,
            progress=progress,
            replace=replace,
        )
    where = info.db if info.db else "the database at --to"
    typer.echo(
        f"Sample council ({info.size}, {info.people:,} people, seed {info.seed}) written to {where}"
    )
    typer.echo(
        f"  rows: {sum(info.counts.values()):,} in {len(info.counts)} tables; "
        f"steps {info.counts['workflow_steps']:,}, "
        f"service agreements {info.counts['service_agreements']:,}"
    )
    typer.echo(f"  feeds: {len(info.feed_files)} files in {info.feeds_dir}")
    typer.echo(f"  feedback: {info.feedback_dir}")
    typer.echo(
        f"  defects: {info.defects} in {info.manifest} (valid for {', '.join(info.defect_periods)})"
    )


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
