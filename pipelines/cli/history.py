"""``cld compare``, ``cld feedback``, ``cld export``, ``cld history``: registered here; filled in
by the history issue."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    return None
