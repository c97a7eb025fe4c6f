"""``quarterly_submission``: the quarterly CLD return, from the case-management database to the
submission file, with its checks, history, DQ report and comparison.

The flow only wires the stages (docs/contracts.md section 6); the `cld` commands call the same
functions. Frames holding personal data pass between tasks in memory only: those tasks use
``cache_policy=NONE`` and ``persist_result=False``, and everything the flow returns, logs or
shows as an artefact is a count, an id or a path.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from flows.common import (
    BlockedSubmission,
    artefact_key,
    counts_by,
    last_complete_quarter,
    publish_summary,
    resolve_release,
    rule_counts,
)
from flows.common import config as load_cfg
from pipelines.config import Config
from pipelines.period import Period

# Tasks whose inputs or results hold personal data: never cached, never persisted.
IN_MEMORY = {"cache_policy": NONE, "persist_result": False}


@task(name="extract", retries=3, retry_delay_seconds=[10, 60, 300], **IN_MEMORY)
def extract_task(cfg: Config, period: Period) -> dict[str, Any]:
    from pipelines.extract import extract

    tables = extract(
        cfg.database_url, period, cfg.path(cfg.paths.sql_dir), engine=cfg.source.read_engine
    )
    get_run_logger().info(
        "extracted %d tables, %d rows", len(tables), sum(t.height for t in tables.values())
    )
    return tables


@task(name="provider feeds", **IN_MEMORY)
def feeds_task(cfg: Config, tables: dict[str, Any]) -> Any:
    from pipelines.feeds import read_feeds

    persons = tables.get("persons", tables.get("person"))
    return read_feeds(
        cfg.path(cfg.paths.feeds_dir),
        cfg.path(cfg.paths.contracts_dir),
        cfg.path(cfg.paths.quarantine_dir),
        persons,
    )


@task(name="transform", **IN_MEMORY)
def transform_task(
    cfg: Config, tables: dict[str, Any], feeds: Any, period: Period, release: str
) -> Any:
    from pipelines.transform import transform

    result = transform(
        tables, feeds, period, release, cfg.path(cfg.paths.mappings_dir), cfg.council.la_code
    )
    get_run_logger().info("transform: %d CLD rows", result.frame.height)
    return result


@task(name="checks and history", **IN_MEMORY)
def checks_and_history_task(
    cfg: Config,
    frame: Any,
    period: Period,
    release: str,
    staged_file: Path,
    record: bool,
    kind: str = "quarterly",
) -> dict[str, Any]:
    """Run every check; unless ``record`` is off, keep the run, file and findings in history."""
    from checks import run_checks
    from cld_schema import load_spec

    spec = load_spec(release)
    if not record:
        result = run_checks(frame, spec, run_id=f"dry-{uuid.uuid4().hex[:12]}", period=period)
        return {"run_id": None, "summary": result.summary, "data_docs": result.data_docs}

    from pipelines.history import History

    sample_url = f"sqlite:///{cfg.path(cfg.source.sample_db)}"
    source = "sample" if cfg.database_url == sample_url else "database"
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        previous = h.previous_submission(str(period))
        with h.run(kind, str(period), release, source) as run:
            result = run_checks(frame, spec, run_id=run.id, previous=previous, period=period)
            run.add_submission(staged_file, frame)
            run.add_findings(result.findings)
            run_id = run.id
    return {"run_id": run_id, "summary": result.summary, "data_docs": result.data_docs}


@task(name="submission file", **IN_MEMORY)
def write_task(cfg: Config, frame: Any, release: str, header_style: str, path: Path) -> Path:
    from pipelines.submission import write_submission

    from cld_schema import load_spec

    return write_submission(frame, load_spec(release), path, header_style, gzip=cfg.submission.gzip)


@task(name="DQ report and comparison", persist_result=False)
def report_task(cfg: Config, run_id: str, period: Period) -> dict[str, str]:
    from pipelines import outputs

    report = outputs.write_report(cfg, run_id)
    return {"report": str(report)}


def submission_name(cfg: Config, period: Period, release: str) -> str:
    suffix = ".csv.gz" if cfg.submission.gzip else ".csv"
    return f"CLD_{cfg.council.la_code}_{period}_{release}{suffix}"


@flow(name="quarterly-submission")
def quarterly_submission(
    period: str | None = None,
    release: str | None = None,
    header_style: str | None = None,
    dry_run: bool = False,
    build_anyway: bool = False,
    config: str | None = None,
) -> dict[str, Any]:
    """Build, check and record one quarter's CLD return.

    Args:
        period: the quarter, e.g. ``2024-25Q3``; default the quarter just ended.
        release: ``R1`` or ``R2``; default ``[submission] release`` (auto: by period).
        header_style: ``label`` or ``database``; default ``[submission] header_style``.
        dry_run: build and check only; nothing goes into history or the output folder.
        build_anyway: write the submission file even when errors block submission.
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    p = Period.parse(period) if period else last_complete_quarter()
    rel = resolve_release(cfg, p, release)
    style = header_style or cfg.submission.header_style

    tables = extract_task(cfg, p)
    feeds = feeds_task(cfg, tables)
    built = transform_task(cfg, tables, feeds, p, rel)

    out_dir = cfg.path(cfg.paths.output_dir) / "submissions"
    final = out_dir / submission_name(cfg, p, rel)
    staging = Path(tempfile.mkdtemp(prefix="cld-staging-"))
    try:
        staged = write_task(cfg, built.frame, rel, style, staging / final.name)
        checked = checks_and_history_task(cfg, built.frame, p, rel, staged, record=not dry_run)
        summary = checked["summary"]
        blocked = not summary.get("ready", summary.get("errors", 0) == 0)
        written: Path | None = None
        if not dry_run and (not blocked or build_anyway):
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.move(staged, final)
            written = final
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    report: dict[str, str] = {}
    if checked["run_id"]:
        report = report_task(cfg, checked["run_id"], p)

    facts = {
        "period": str(p),
        "release": rel,
        "rows": built.frame.height,
        "errors": summary.get("errors"),
        "warnings": summary.get("warnings"),
        "ready to submit": "yes" if not blocked else "no",
        "history run": checked["run_id"] or "(dry run: not recorded)",
        "submission file": str(written) if written else "(not written)",
        **report,
    }
    publish_summary(
        f"CLD return {p} ({rel})",
        artefact_key("quarterly", p),
        facts,
        {
            "rows by event type": counts_by(built.frame, "Event_Type"),
            "findings by rule": rule_counts(summary),
        },
    )
    logger.info(
        "%s %s: %d rows, %s errors, %s warnings",
        p,
        rel,
        built.frame.height,
        summary.get("errors"),
        summary.get("warnings"),
    )
    if blocked and not build_anyway:
        raise BlockedSubmission(
            f"{summary.get('errors')} errors block the {p} submission; the DQ report and the "
            "team exception lists show what to fix (run with build_anyway=true to write the "
            "file regardless)"
        )
    return {
        "period": str(p),
        "release": rel,
        "rows": built.frame.height,
        "errors": summary.get("errors"),
        "warnings": summary.get("warnings"),
        "run_id": checked["run_id"],
        "submission": str(written) if written else None,
        **report,
    }
