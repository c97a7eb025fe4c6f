"""``cld init FOLDER``: a council's own folder (pipelines/council_init.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def init_command(
    folder: Annotated[Path, typer.Argument(help="The council's folder (new or empty).",
                                           show_default=False)],
    la_code: Annotated[str, typer.Option("--la-code", help="The council's CASSR code, as sent "
                                         "in LA_Code (e.g. 318).", show_default=False)],
    name: Annotated[str, typer.Option(help="The council's name, as the reports show it.",
                                      show_default=False)],
) -> None:
    """Make a council's folder: its cld.toml (its code and name, paths inside the folder,
    runs on the real date), the extract SQL, mapping tables, provider file contracts,
    thresholds, feedback layout and an empty team directory, all to edit. Never overwrites."""
    from pipelines.council_init import init_council

    made = init_council(folder, la_code, name)
    typer.echo(f"council {la_code} ({name.strip()}): {made.folder}")
    for written in made.written:
        typer.echo(f"  {written}")
    cfg = made.config
    typer.echo(
        "next:\n"
        "  1. export CLD_DATABASE_URL=...   the case-management database, a read-only login "
        "(docs/extract.md)\n"
        "  2. adapt sql/extract/*.sql to your views (same column names)\n"
        f"  3. cld --config {cfg} build --period <last quarter>: it lists every local code "
        "mappings/ cannot map\n"
        "  4. team_directory.csv: your teams and their managers' addresses (team_id is "
        "the case system's team id)\n"
        f"  5. cld --config {cfg} run quarterly --dry-run, read the DQ report, then without "
        "--dry-run"
    )


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)
