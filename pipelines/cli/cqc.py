"""``cld cqc``: the CQC assurance pack (waiting lists, waits, reviews, carers, case list)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.common import UserError, get_config
from pipelines.period import Period


def register(app: typer.Typer) -> None:
    @app.command()
    def cqc(
        ctx: typer.Context,
        period: Annotated[
            str | None,
            typer.Option("--period", "-p", help="Quarter, e.g. 2025-26Q4 (default: the one "
                         "holding --as-at, else the last complete one)."),
        ] = None,
        as_at: Annotated[
            str | None,
            typer.Option("--as-at", help="Date the waiting lists are counted at, e.g. "
                         "2026-03-31 (default: the period's last day)."),
        ] = None,
        seed: Annotated[
            int, typer.Option(help="Seed of the 50-case draw (same seed, same 50).")
        ] = 1,
        out: Annotated[
            Path | None, typer.Option(help="Folder for the workbook and case summaries.")
        ] = None,
        points: Annotated[
            str, typer.Option(help="The waiting list over time by 'week' or 'month'.")
        ] = "week",
    ) -> None:
        """Write the CQC assurance pack: one workbook (definitions, a sheet per figure group,
        by team, the case list) and printable one-page case summaries; print the headline
        figures. The case list is personal data: the files are for the person who asked."""
        from pipelines import runs
        from pipelines.cli.run import _say
        from pipelines.cqc.figures import definitions

        cfg = get_config(ctx)
        try:
            d = date.fromisoformat(as_at) if as_at else None
        except ValueError:
            raise UserError(f"--as-at {as_at!r} is not a date like 2026-03-31") from None
        p = Period.parse(period) if period else None
        if points not in ("week", "month"):
            raise UserError(f"--points {points!r}: use week or month")
        if out is not None and out.exists() and not out.is_dir():
            raise UserError(f"--out {out} is a file: give a folder")
        outcome = runs.cqc(cfg, p, d, seed, out, progress=_say, points=points)
        figs = definitions()["figures"]
        for fid, h in outcome.headlines.items():
            text = f"{fid} {figs[fid]['title']}: {h['count']}"
            if h.get("of"):
                text += f" of {h['of']} ({h['percent']}%)"
            if h.get("median_days") is not None:
                text += (f"; median {h['median_days']:g} days, 90th percentile "
                         f"{h['p90_days']:g}, longest {h['max_days']}")
            typer.echo(text)
        for k, v in outcome.facts.items():
            typer.echo(f"{k}: {v}")
