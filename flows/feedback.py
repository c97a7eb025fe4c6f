"""``nhs_number_feedback``: ingest the NHS-number matching feedback returned after a submission
and route each item to the owning team (pipelines.history does the work; `cld feedback` calls
the same function).

``path`` is a file, or a folder whose waiting files are each ingested and then moved into its
``processed/`` subfolder, so the scheduled "inbox" deployment picks each file up once.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import artefact_key, publish_summary
from flows.common import config as load_cfg
from pipelines.config import Config

FEEDBACK_SUFFIXES = {".csv", ".txt", ".xlsx", ".gz"}


@task(name="ingest feedback file", persist_result=False)
def ingest_task(cfg: Config, path: Path) -> dict[str, Any]:
    from pipelines.history import ingest_feedback

    result = ingest_feedback(cfg, path)
    return dict(result) if not isinstance(result, dict) else result


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
    """Ingest one feedback file, or every file waiting in a folder, and route the items.

    Args:
        path: the feedback file, or an inbox folder (relative paths: the config's folder).
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    where = cfg.path(Path(path))
    files = waiting_files(where)
    results: list[dict[str, Any]] = []
    for f in files:
        results.append({"file": f.name, **ingest_task(cfg, f)})
        if where.is_dir():
            done = where / "processed"
            done.mkdir(exist_ok=True)
            shutil.move(f, done / f.name)
    logger.info("feedback: %d file(s) ingested from %s", len(files), where)
    publish_summary(
        "NHS-number feedback",
        artefact_key("feedback"),
        {"path": str(where), "files": len(files)},
        {"files": results},
    )
    return {"path": str(where), "files": results}
