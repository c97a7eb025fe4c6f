"""``check_file``: check a CLD submission file, or every file in a folder, as ``cld check``
does (``pipelines.runs.check_file``, the same function): findings (parquet and an Excel-safe
CSV), the DQ taxonomy, the national picture and the Data Docs into the findings folder, and,
by default, the findings kept in history as a run of kind ``check`` (one per file).

Like ``cld check``'s exit code 1 (and the quarterly flow on a blocked submission), a file that
is not ready to submit, or cannot be read, fails the run in one line naming the files, after
everything is written and recorded. The result, logs and
artefact hold counts, paths and rule texts only, never a finding's value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.states import Failed

from flows.common import artefact_key, publish_summary, rule_counts
from flows.common import config as load_cfg
from pipelines import runs
from pipelines.period import Period

check_task = task(runs.check_file, name="check files", persist_result=False)


def file_row(checked: runs.FileCheck) -> dict[str, Any]:
    s = checked.summary or {}
    status = "unreadable" if checked.summary is None else "ready" if checked.ready else "not ready"
    return {"file": checked.file.name, "status": status, "la_code": s.get("la_code") or "",
            "release": s.get("release", ""),
            "rows": s.get("rows", ""), "errors": s.get("errors", ""),
            "warnings": s.get("warnings", ""), "history run": checked.run_id or "",
            "findings": str(checked.folder) if checked.summary is not None else "",
            "reason": checked.error or ""}


@flow(name="check-file", persist_result=False)
def check_file(
    path: str,
    config: str | None = None,
    release: str | None = None,
    previous: str | None = None,
    period: str | None = None,
    out: str | None = None,
    docs: bool = True,
    record: bool = True,
    jobs: int = 0,
) -> dict[str, Any]:
    """Check a CLD file, a folder of them or a glob (``cld check PATH``).

    Args:
        path: the file, folder or glob (relative paths: the config's folder).
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
        release: R1 or R2, used only when a file does not say its reporting period.
        previous: the previous submission file, for the change checks (one file only).
        period: e.g. 2025-26Q2 (default: each file's own dates).
        out: the findings folder (default ``<output_dir>/checks/<file>``; with several files
            one folder per file under it, and summary.csv).
        docs: build the offline Great Expectations Data Docs.
        record: keep each checked file's findings in history as a run of kind ``check``.
        jobs: with several files, how many to check at a time in worker processes (0: one
            per core).
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    where = cfg.path(Path(path))

    def say(i: int, n: int, checked: runs.FileCheck) -> None:
        row = file_row(checked)
        if checked.summary is None:  # the reason, as `cld check` prints it
            logger.warning("[%d/%d] %s: not checked: %s", i, n, row["file"], row["reason"])
            return
        logger.info("[%d/%d] %s: %s (LA %s), %s rows, %s errors, %s warnings", i, n,
                    row["file"], row["status"], row["la_code"] or "?", row["rows"],
                    row["errors"], row["warnings"])

    outcome = check_task(
        cfg, where, release=release.upper() if release else None,
        previous=cfg.path(Path(previous)) if previous else None,
        period=Period.parse(period) if period else None,
        out=cfg.path(Path(out)) if out else None, docs=docs, jobs=jobs, record=record,
        on_file=say,
    )  # fmt: skip
    files = [file_row(f) for f in outcome.files]
    tables: dict[str, list[dict[str, Any]]] = {"files": files}
    if len(outcome.files) == 1 and outcome.files[0].summary is not None:
        tables["rules"] = rule_counts(outcome.files[0].summary)
    facts = outcome.facts
    publish_summary(f"Check of {where.name}", artefact_key("check", where.stem), facts, tables)
    not_ready = [r["file"] for r in files if r["status"] != "ready"]
    if not_ready:  # an outcome, written and recorded, not a crash: one line, no traceback
        message = (f"{len(not_ready)} of {len(files)} file(s) not ready to submit "
                   f"({facts['errors']} errors): {', '.join(not_ready[:10])}; findings in "
                   f"{facts['findings']}")
        logger.error("%s", message)
        return Failed(message=message)  # type: ignore[return-value]
    return {"ready": True, **facts, "files": files}
