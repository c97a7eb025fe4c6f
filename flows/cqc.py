"""``cqc_pack``: the CQC assurance pack on demand (``pipelines.runs.cqc``, the same function
as ``cld cqc``). The flow's result and artefact hold the headline counts and the folder
written; the case list is personal data and stays in the files."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger

from flows.common import artefact_key, publish_summary
from flows.common import config as load_cfg
from pipelines import runs
from pipelines.period import Period


@flow(name="cqc-pack", persist_result=False)
def cqc_pack(
    period: str | None = None,
    as_at: str | None = None,
    seed: int = 1,
    out: str | None = None,
    config: str | None = None,
    points: str = "week",
) -> dict[str, Any]:
    """Write the CQC assurance pack (workbook and case summaries).

    Args:
        period: quarter, e.g. 2025-26Q4 (default: the one holding as_at, else the last one).
        as_at: ISO date the waiting lists are counted at (default: the period's last day).
        seed: seed of the 50-case draw.
        out: folder for the files (default: the config's output folder, cqc/...).
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
        points: the waiting list over time by "week" or "month".
    """
    from pathlib import Path

    logger = get_run_logger()
    cfg = load_cfg(config)
    outcome = runs.cqc(
        cfg,
        Period.parse(period) if period else None,
        date.fromisoformat(as_at) if as_at else None,
        seed,
        cfg.path(Path(out)) if out else None,
        progress=logger.info,
        points=points,
    )
    counts = {fid: h["count"] for fid, h in outcome.headlines.items()}
    logger.info("cqc pack as at %s: %d cases drawn", outcome.as_at, outcome.cases)
    publish_summary(
        "CQC assurance pack",
        artefact_key("cqc", outcome.as_at),
        {**outcome.facts},
        {"figures": [{"figure": k, "count": v} for k, v in counts.items()]},
    )
    return {"as_at": outcome.as_at, "period": outcome.period, "figures": counts,
            "workbook": str(outcome.workbook), "cases": outcome.cases}
