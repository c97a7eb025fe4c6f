"""Options and helpers shared by every ``cld`` command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from cld_schema.errors import CldError
from pipelines.config import Config, load_config


class UserError(CldError):
    """A bad option or a missing file, found by the command itself. Like every ``CldError``
    (bad config, bad period, a build or history problem) ``cld`` prints it on one line and
    exits 2."""


@dataclass(frozen=True)
class CliState:
    """What the ``cld`` options before the command select, kept in click's context
    (``ctx.obj``) for the command to read."""

    config: Path | None = None


def global_options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Council config file (default: $CLD_CONFIG, ./cld.toml, then the sample's).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=lambda on: _print_version(on),
                     help="Show the tool's version and the CLD releases it knows, and exit."),
    ] = False,
) -> None:
    """Adult social care Client Level Data (CLD): build, check and track quarterly returns."""
    ctx.obj = CliState(config=config)


def _print_version(on: bool) -> None:
    if not on:
        return
    from cld_schema import RELEASES
    from pipelines.version import code_version

    typer.echo(f"cld-pipeline {code_version()}")
    typer.echo(f"CLD releases: {', '.join(RELEASES)} (cld_schema/data/releases.yaml)")
    raise typer.Exit()


def say_council(cfg: Config) -> None:
    """The council and config a run works for, first (a forgotten --config shows at once)."""
    typer.echo(f"council {cfg.council.la_code} ({cfg.council.name}); config {cfg.file}")


def get_config(ctx: typer.Context) -> Config:
    """The council's config the invocation selected (``--config``, else $CLD_CONFIG,
    ./cld.toml, the sample's), from the command's click context (``ctx.obj``, set by
    :func:`global_options`)."""
    state = ctx.find_root().obj
    path = state.config if isinstance(state, CliState) else None
    return load_config(path)  # a ConfigError is a CldError: `cld` prints it


def print_table(title: str, headers: list[str], rows: list[list[object]],
                caption: str | None = None) -> None:
    """A table that stays readable at any terminal width: a table when it fits (no cell cut
    inside a word), else one block per row ("header: value" lines) so nothing is broken up
    like "Reporting_Pe riod_Start_D ate"."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    cells = [["" if v is None else str(v) for v in r] for r in rows]
    def longest(text: str) -> int:
        return max((len(x) for x in text.split("\n")), default=0)

    widths = [max([longest(h), *(longest(c[i]) for c in cells)]) for i, h in enumerate(headers)]
    if sum(widths) + 3 * len(headers) + 1 <= console.width:
        table = Table(title=title, caption=caption)
        for h in headers:
            table.add_column(h, no_wrap=True)
        for c in cells:
            table.add_row(*c)
        console.print(table)
        return
    console.print(f"[b]{title}[/b]", highlight=False)
    for c in cells:
        console.print("")
        for h, v in zip(headers, c, strict=True):
            if v:
                head = h.replace("\n", " ")
                console.print(f"  {head}: {v}", highlight=False, markup=False, soft_wrap=False)
    if caption:
        console.print(caption, markup=False)
