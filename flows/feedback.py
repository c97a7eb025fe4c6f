"""``nhs_number_feedback``: take in the NHS-number matching feedback returned after a
submission and route each number found to the owning team (``pipelines.history.feedback``,
the same code as ``cld feedback FILE``).

``path`` is a file, or an inbox folder whose waiting files are each taken in and then moved
to its ``processed/`` subfolder (the scheduled ``inbox`` deployment picks each file up once).
A malformed file is quarantined with a reason by the history stage; the run then fails,
naming it, after the other files have been taken in.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import artefact_key, publish_summary
from flows.common import config as load_cfg
from pipelines.config import Config

FEEDBACK_SUFFIXES = {".csv", ".txt", ".xlsx", ".gz"}


@task(name="take in feedback file", persist_result=False)
def ingest_task(cfg: Config, path: Path) -> dict[str, Any]:
    """One file; the result holds counts only (no NHS numbers, no person ids)."""
    from pipelines.history import History
    from pipelines.history.feedback import (
        FeedbackError,
        FeedbackLayout,
        FeedbackQuarantined,
        ingest,
    )

    layout = FeedbackLayout.load(cfg.path(cfg.feedback.layout))
    try:
        with History.open(cfg.path(cfg.paths.history_db)) as h:
            res = ingest(h, path, layout, cfg.path(cfg.paths.quarantine_dir))
    except FeedbackQuarantined as exc:
        return {"file": path.name, "status": "quarantined", "reason file": str(exc.reason_file)}
    except FeedbackError as exc:
        if "already taken in" in str(exc):
            return {"file": path.name, "status": "already taken in"}
        raise
    out = asdict(res)
    return {
        "file": path.name,
        "status": "taken in",
        **{k: v for k, v in out.items() if isinstance(v, int)},
        "rejected rows": sum(res.rejected.values()),
        "teams": len(res.by_team),
    }


def waiting_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"feedback path {path} does not exist")
    return sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in FEEDBACK_SUFFIXES
    )


@flow(name="nhs-number-feedback")
def nhs_number_feedback(path: str, config: str | None = None) -> dict[str, Any]:
    """Take in one feedback file, or every file waiting in an inbox folder, and route the items.

    Args:
        path: the feedback file, or an inbox folder (relative paths: the config's folder).
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    where = cfg.path(Path(path))
    if not where.exists() and not Path(path).is_absolute():
        where.mkdir(parents=True, exist_ok=True)  # a fresh inbox: nothing waiting yet
    files = waiting_files(where)
    results: list[dict[str, Any]] = []
    for f in files:
        result = ingest_task(cfg, f)
        results.append(result)
        if where.is_dir() and f.exists():
            done = where / "processed"
            done.mkdir(exist_ok=True)
            shutil.move(f, done / f.name)
    quarantined = [r["file"] for r in results if r["status"] == "quarantined"]
    logger.info("feedback: %d file(s) from %s, %d quarantined", len(files), where, len(quarantined))
    columns = ["file", "status", "rows", "items", "no_match", "rejected rows", "teams"]
    publish_summary(
        "NHS-number feedback",
        artefact_key("feedback"),
        {"path": str(where), "files": len(files), "quarantined": len(quarantined)},
        {"files": [{c: r.get(c, "") for c in columns} for r in results]},
    )
    if quarantined:
        raise RuntimeError(
            f"feedback file(s) quarantined: {', '.join(quarantined)} (reason files in "
            f"{cfg.path(cfg.paths.quarantine_dir)})"
        )
    return {"path": str(where), "files": results}
