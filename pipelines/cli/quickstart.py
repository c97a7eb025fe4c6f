"""``cld quickstart``: the README's one-command run on the embedded sample council."""

from __future__ import annotations

import typer

from pipelines.cli.common import get_config


def register(app: typer.Typer) -> None:
    @app.command()
    def quickstart() -> None:
        """Make the sample council if needed, then run the main job on it."""
        cfg = get_config()
        typer.echo(f"council {cfg.council.la_code} ({cfg.council.name}); config {cfg.file}")
