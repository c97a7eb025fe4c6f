"""``nhs_number_feedback``: take in the NHS-number matching feedback returned after a
submission and route each number found to the owning team (``pipelines.history.feedback``,
the same code as ``cld feedback FILE``, through ``pipelines.runs.feedback``).

``path`` is a file, or an inbox folder whose waiting files are each taken in and then moved
to its ``processed/`` subfolder (the scheduled ``inbox`` deployment picks each file up once).
A malformed file is quarantined with a reason by the history stage; the run then fails,
naming it, after the other files have been taken in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import artefact_key, publish_summary
from flows.common import config as load_cfg
from pipelines import runs
from pipelines.period import Period

ingest_task = task(runs.feedback_step, name="take in feedback file", persist_result=False)


@flow(name="nhs-number-feedback")
def nhs_number_feedback(path: str, config: str | None = None, case_db: bool = False,
                        period: str | None = None) -> dict[str, Any]:
    """Take in one feedback file, or every file waiting in an inbox folder, and route the items.

    Args:
        path: the feedback file, or an inbox folder (relative paths: the config's folder).
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
        case_db: check person ids and route to teams from the case-management database
            (persons, allocations) instead of the latest submission (``cld feedback --case-db``).
        period: with ``case_db``, the period to extract (default: the latest submission's
            period in history, else the last complete quarter).
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    per = Period.parse(period) if period else None
    where = cfg.path(Path(path))
    if not where.exists() and not Path(path).is_absolute():
        where.mkdir(parents=True, exist_ok=True)  # a fresh inbox: nothing waiting yet
    results = runs.feedback(cfg, where, step=ingest_task, case_db=case_db, period=per)
    quarantined = [r["file"] for r in results if r["status"] == "quarantined"]
    logger.info(
        "feedback: %d file(s) from %s, %d quarantined", len(results), where, len(quarantined)
    )
    columns = ["file", "status", "rows", "items", "no_match", "rejected rows", "teams"]
    publish_summary(
        "NHS-number feedback",
        artefact_key("feedback"),
        {"path": str(where), "files": len(results), "quarantined": len(quarantined)},
        {"files": [{c: r.get(c, "") for c in columns} for r in results]},
    )
    if quarantined:
        raise RuntimeError(
            f"feedback file(s) quarantined: {', '.join(quarantined)} (reason files in "
            f"{cfg.path(cfg.paths.quarantine_dir)})"
        )
    return {"path": str(where), "files": results}
