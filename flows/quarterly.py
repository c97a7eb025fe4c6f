"""``quarterly_submission``: the quarterly CLD return, from the case-management database to the
submission file, with its checks, history, comparison, DQ report and team exception lists.

Thin wiring: each step is a step function of ``pipelines.runs`` (the very functions
``cld run quarterly`` chains) wrapped as a Prefect task, chained in the same order; what a run
decides (staging, placing the file only once recorded, blocked submissions, dry runs) uses
``pipelines.runs``'s ``Placement`` and ``BlockedSubmission``. Prefect adds retries,
schedules, the task view and the artefacts.

Frames holding personal data pass between tasks in memory only: those tasks use
``cache_policy=NONE`` and ``persist_result=False``, and everything the flow returns, logs or
shows as an artefact is a count, an id or a path.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from flows.common import artefact_key, publish_summary, rule_counts
from flows.common import config as load_cfg
from pipelines import runs
from pipelines.config import Config
from pipelines.period import Period

# Tasks whose inputs or results hold personal data: never cached, never persisted.
IN_MEMORY: dict[str, Any] = {"cache_policy": NONE, "persist_result": False}


def _database_trouble(task: Any, task_run: Any, state: Any) -> bool:
    """Retry the build only when the case-management database could not be read (the
    extract already retries a lost connection itself; this covers a database that is down
    for longer). A missing sample, a mapping or a spec problem fails at once."""
    try:
        state.result()
    except Exception as exc:
        return str(exc).startswith("cannot read the case-management database")
    return False


@task(
    name="build: extract → feeds → transform → file",
    retries=2,
    retry_delay_seconds=[60, 300],
    retry_condition_fn=_database_trouble,
    **IN_MEMORY,
)
def build_task(
    cfg: Config, period: Period, release: str | None, header_style: str | None, out: Path
) -> Any:
    """``runs.build_step`` (what ``cld build`` runs), its stages named in the log."""
    logger = get_run_logger()
    seen: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in seen:
            seen.add(stage)
            logger.info("build: %s", stage)

    result = runs.build_step(cfg, period, release, header_style, out, progress=progress)
    s = result.summary
    logger.info(
        "built %s %s: %d rows, %d people, %d unmapped codes, %d quarantined feed files",
        s["period"], s["release"], s["rows"], s["people"], len(s["unmapped"]),
        len(result.quarantined),
    )  # fmt: skip
    return result


previous_task = task(runs.previous_step, name="previous submission", **IN_MEMORY)
checks_task = task(runs.checks_step, name="checks", **IN_MEMORY)
record_task = task(runs.record_step, name="history", **IN_MEMORY)
compare_task = task(runs.compare_step, name="comparison", persist_result=False)
report_task = task(runs.report_step, name="DQ report", persist_result=False)
exceptions_task = task(runs.exceptions_step, name="exception lists", persist_result=False)


@flow(name="quarterly-submission")
def quarterly_submission(
    period: str | None = None,
    release: str | None = None,
    header_style: str | None = None,
    dry_run: bool = False,
    build_anyway: bool = False,
    config: str | None = None,
) -> dict[str, Any]:
    """Build, check and record one quarter's CLD return (as ``cld run quarterly``).

    Args:
        period: the quarter, e.g. ``2024-25Q3``; default the quarter just ended.
        release: ``R1`` or ``R2``; default ``[submission] release`` (auto: by period).
        header_style: ``label`` or ``database``; default ``[submission] header_style``.
        dry_run: build and check only; nothing goes into history or the output folder, and
            the run completes even when errors would block the submission.
        build_anyway: write the submission file even when errors block submission.
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
    """
    from pipelines.build import default_path, summary_path_for

    logger = get_run_logger()
    cfg = load_cfg(config)
    p = Period.parse(period) if period else runs.last_complete_quarter()
    out_dir = cfg.path(cfg.paths.output_dir)
    staging = out_dir / f".staging-{uuid.uuid4().hex[:12]}"
    ids: dict[str, Any] = {}
    comparison_text = ""
    try:
        built = build_task(cfg, p, release, header_style, staging / "submission.csv")
        rel = built.summary["release"]
        final = default_path(cfg, p, rel, built.path.suffix == ".gz")
        prev_id, prev_frame = previous_task(cfg) if not dry_run else (None, None)
        reports = out_dir / "reports"
        docs = None if dry_run else reports / f"data_docs_{p}_{uuid.uuid4().hex[:8]}"
        checked = checks_task(
            cfg, built.frame, rel, p, prev_frame, docs, run_id=str(flow_run.get_id() or "")
        )
        summary = checked.summary
        blocked = not summary["ready"]
        logger.info("checks: %d errors, %d warnings", summary["errors"], summary["warnings"])
        facts: dict[str, Any] = {
            "period": str(p),
            "release": rel,
            "rows": built.summary["rows"],
            "people": built.summary["people"],
            "unmapped local codes": len(built.summary["unmapped"]),
            "quarantined feed files": len(built.quarantined),
            "errors": summary["errors"],
            "warnings": summary["warnings"],
            "ready to submit": "yes" if not blocked else "no",
        }
        written: Path | None = None
        placement = runs.Placement(staging)
        if not dry_run and (not blocked or build_anyway):
            written = placement.place(built.path, final)
            placement.place(built.summary_path, summary_path_for(final))
        facts["submission file"] = str(written) if written else "(not written)"
        if dry_run:
            facts["history"] = "(dry run: not recorded)"
        else:
            try:
                ids = record_task(cfg, "build", p, rel, built.frame, checked.findings, written)
            except BaseException:
                placement.undo()  # not recorded: the output folder stays as it was
                raise
            logger.info("history: run %d, submission %d", ids["run_id"], ids["submission_id"])
            facts["history run"] = ids["run_id"]
            facts["submission id"] = ids["submission_id"]
            compared, comparison_text = compare_task(
                cfg, prev_id, ids["submission_id"], reports / f"compare_run{ids['run_id']}"
            )
            facts.update(compared)
            facts["DQ report"] = str(report_task(cfg, ids["run_id"], reports, docs))
            lists = exceptions_task(cfg, ids["run_id"], deliver=False)
            facts.update({f"team lists: {k}": v for k, v in lists.items()})
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    by_event = [
        {"event type": k, "rows": v}
        for k, v in runs.event_totals(built.summary["rows_by_event_type_and_month"]).items()
    ]
    publish_summary(
        f"CLD return {p} ({rel})",
        artefact_key("quarterly", p),
        facts,
        {"rows by event type": by_event, "findings by rule": rule_counts(summary)},
    )
    if comparison_text:
        create_markdown_artifact(
            f"# Comparison with submission {prev_id}\n\n```\n{comparison_text}\n```\n",
            key=artefact_key("comparison", ids["submission_id"]),
            description="Changes against the previous submission (counts only)",
        )
    logger.info(
        "%s %s: %d rows, %d errors, %d warnings; file %s",
        p, rel, built.summary["rows"], summary["errors"], summary["warnings"],
        written or "not written",
    )  # fmt: skip
    if blocked and not build_anyway and not dry_run:
        raise runs.BlockedSubmission(
            f"{summary['errors']} errors block the {p} submission: the DQ report and the team "
            "exception lists show what to fix (build_anyway=true writes the file regardless)"
        )
    return {
        "period": str(p),
        "release": rel,
        "rows": built.summary["rows"],
        "errors": summary["errors"],
        "warnings": summary["warnings"],
        "ready": not blocked,
        "run_id": ids.get("run_id"),
        "submission_id": ids.get("submission_id"),
        "submission": str(written) if written else None,
    }
