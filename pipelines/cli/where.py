"""``cld where NAME``: the file and line that define a rule, field, list, SQL query,
threshold, setting, error or measure (pipelines/where.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from pipelines.cli.common import UserError


def where_command(
    names: Annotated[
        list[str],
        typer.Argument(
            help="Rule ids (LOG025, FLD_Gender_mandatory), fields (Date_of_Birth or 'Date of "
            "Birth'), lists, SQL queries (workflow_steps), threshold or cld.toml keys, error "
            "classes, measures (ASCOF_2A)",
            show_default=False,
        ),
    ],
) -> None:
    """Where a name is defined: file and line, for a rule, field, defined list, SQL query,
    threshold, cld.toml setting, error or SALT/ASCOF measure."""
    from pipelines.where import locate, nearest

    missing = []
    for name in names:
        places = locate(name)
        if not places:
            missing.append(name)
            continue
        for place in places:
            typer.echo(str(place))
    if missing:
        hints = []
        for name in missing:
            close = nearest(name)
            hints.append(f"{name!r}" + (f" (nearest: {', '.join(close)})" if close else ""))
        raise UserError(f"not a name this project defines: {'; '.join(hints)}")


def register(app: typer.Typer) -> None:
    app.command("where")(where_command)
