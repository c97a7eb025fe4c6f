"""``cld spec …``: the CLD specification as loaded from cld_schema (filled in by the spec work)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    spec_app = typer.Typer(help="Read the CLD specification as this tool holds it.")
    app.add_typer(spec_app, name="spec")
