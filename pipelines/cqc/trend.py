"""The waiting list over time: nightly runs record the waiting-now figures (W1-W5, counts and
days by team and age group: no person) in history; the pack and the DQ report read them back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from pipelines.period import Period

WAITING = ("W1", "W2", "W3", "W4", "W5")


def waiting_rows(pack: Any) -> pl.DataFrame:
    """The W figures of a pack by team and age group, as ``waiting_now`` stores them."""
    from pipelines.cqc.stats import summarise

    parts = []
    for fid in WAITING:
        if fid in pack.items:
            s = summarise(fid, pack.items[fid], ["team_id", "team_name", "age_group"])
            parts.append(s.select(
                pl.lit(pack.as_at).alias("as_at"), "figure",
                pl.col("team_id").cast(pl.String), "team_name", "age_group", "count",
                "median_days", "p90_days", "max_days",
            ))
    return pl.concat(parts) if parts else pl.DataFrame()


def waiting_now(cfg: Any, as_at: date) -> pl.DataFrame:
    """Read the extract and work out W1-W5 at ``as_at`` (what a nightly run records)."""
    from pipelines.cqc.pack import from_config

    pack = from_config(cfg, Period.containing(as_at), as_at, only=list(WAITING))
    return waiting_rows(pack)


def read_trend(cfg: Any, grain: str = "week") -> pl.DataFrame | None:
    """The recorded waiting list over time, or None when there is no history yet."""
    from pipelines.history import History

    path = cfg.path(cfg.paths.history_db)
    if not path.exists():
        return None
    with History.open(path) as h:
        return h.waiting_trend(grain)
