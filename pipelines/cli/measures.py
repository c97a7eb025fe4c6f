"""``cld measures FILE``: the SALT and ASCOF figures NHS England and DHSC will derive from a
submission file, before it is sent (docs/measures.md).

Prints figures only; the people behind each figure go to files in ``--out`` (never to the
screen or a log).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.common import UserError, get_config

if TYPE_CHECKING:
    import polars as pl


def _period_of(frame: pl.DataFrame, spec):
    import polars as pl

    from pipelines.period import Period

    end = frame.select(pl.col("Reporting_Period_End_Date").drop_nulls().mode().first()).item()
    if end is None:
        raise UserError("the file has no Reporting_Period_End_Date: give --period, e.g. 2025-26Q2")
    parsed = pl.Series([end]).str.to_date(spec.date_format, strict=False).item()
    if parsed is None:
        raise UserError(f"Reporting_Period_End_Date {end!r} is not a date: give --period")
    return Period.containing(parsed)


def _earlier(cfg, period, use_history: bool) -> tuple[list, str | None]:
    """Earlier recorded submissions for the look-backs (none when no history)."""
    path = cfg.path(cfg.paths.history_db)
    if not use_history or not path.exists():
        return [], None  # DuckDB is not even imported
    from pipelines.history.store import History, HistoryError
    from pipelines.measures.history import earlier_editions

    try:
        with History.open(path) as h:
            return earlier_editions(h, period), None
    except HistoryError as exc:
        return [], f"history not read ({exc})"


def measures_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CLD submission file (.csv or .csv.gz)")],
    period: Annotated[
        str | None, typer.Option(help="Quarter, e.g. 2025-26Q2 (default: the file's end date)")
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option(help="CSV age_band,population with rows 18-64 and 65+ (ASCOF 2B/2C rates)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for measures.csv and people/ (default: <output_dir>/measures/<file>)"
        ),
    ] = None,
    release: Annotated[
        str | None, typer.Option(help="R1 or R2 (default: from the headers)")
    ] = None,
    history: Annotated[
        bool, typer.Option(help="Use earlier submissions recorded in history for look-backs")
    ] = True,
) -> None:
    """The SALT and ASCOF figures of a CLD file, with the people behind each one."""
    from pipelines.cldfile import read_cld_info
    from pipelines.measures import (
        MEASURES,
        Edition,
        compute,
        format_figure,
        read_population,
        write,
    )
    from pipelines.period import Period

    cfg = get_config(ctx)
    pop = read_population(population) if population is not None else None
    p = Period.parse(period) if period else None
    frame, spec, info = read_cld_info(file, release)
    p = p or _period_of(frame, spec)
    editions, why = _earlier(cfg, p, history)
    typer.echo(
        f"· {file.name}: {frame.height:,} rows, {info.release}, {p} (ASCOF {p.start} to {p.end})"
    )
    run = compute([*editions, Edition(frame, p, str(file), info.release)], p, population=pop)
    if why:
        run.notes.insert(0, why)
    from pipelines.runs import findings_folders

    target = out or findings_folders([file], cfg.path(cfg.paths.output_dir) / "measures")[0]
    path, people = write(run, target)
    width = max(len(m.id) for m in MEASURES)
    for m in MEASURES:
        res = run.results[m.id]
        typer.secho(f"\n{m.id:<{width}}  {m.title}", bold=True)
        for f in res.figures:
            if f.group in ("18-64", "65+", "Total"):
                typer.echo(f"  {f.group:<6} {format_figure(f, m.unit)}")
    typer.echo("\nnotes:")
    for n in run.notes:
        typer.echo(f"  - {n}")
    typer.echo(f"\nfigures: {path}")
    typer.echo(f"people behind each figure (for analysts; holds person ids): {people}/")


def print_trend(h, last: int = 8, measure: str | None = None) -> None:
    """The recorded figures over the last submissions (Total rows; every group of one
    measure with ``measure``)."""
    import polars as pl
    from rich.console import Console
    from rich.table import Table

    from pipelines.measures.history import trend

    frame = trend(h, measure, None if measure else "Total")
    if frame.is_empty():
        typer.echo("no SALT/ASCOF figures recorded yet (cld run quarterly records them)")
        return
    keep = frame["submission_id"].unique().sort().tail(last)
    frame = frame.filter(pl.col("submission_id").is_in(keep.implode()))
    labels = {s: f"{p} (#{s})" for s, p in frame.select("submission_id", "period").unique().rows()}
    frame = frame.with_columns(
        pl.when(pl.col("denominator").is_null())
        .then(pl.col("numerator").cast(pl.String))
        .otherwise(pl.format("{} ({}/{})", pl.col("value").round(1), "numerator", "denominator"))
        .alias("figure"),
        pl.col("submission_id").replace_strict(labels, return_dtype=pl.String).alias("sub"),
    )
    order = [labels[s] for s in keep.to_list()]
    pivot = frame.pivot(on="sub", index=["measure", "grp"], values="figure").sort("measure", "grp")
    table = Table(title=f"SALT/ASCOF figures over submissions{' - ' + measure if measure else ''}")
    cols = ["measure", "grp", *[c for c in order if c in pivot.columns]]
    for c in cols:
        table.add_column(c, overflow="fold")
    for row in pivot.select(cols).iter_rows():
        table.add_row(*["" if v is None else str(v) for v in row])
    Console(width=200).print(table)


def register(app: typer.Typer) -> None:
    app.command("measures")(measures_command)
