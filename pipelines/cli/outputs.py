"""``cld exceptions``, ``cld report``, ``cld deliver``: filled in by their issue."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
