"""``quarterly_submission``: the quarterly CLD return, from the case-management database to the
submission file, with its checks, history, comparison, DQ report and team exception lists.

Thin wiring: ``pipelines.runs.quarterly`` (what ``cld run quarterly`` runs) with each of its
step functions wrapped as a Prefect task (``FLOW_STEPS``). What a run decides (staging,
placing the file only once recorded, blocked submissions, dry runs) lives there; Prefect adds
retries, schedules, the task view and the artefacts.

Frames holding personal data pass between tasks in memory only: those tasks use
``cache_policy=NONE`` and ``persist_result=False``, and everything the flow returns, logs or
shows as an artefact is a count, an id or a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.states import Failed

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
    for longer: the build's error then holds the extract's ``SourceUnavailable`` as its
    cause). A missing sample, a mapping, a query or a spec problem fails at once."""
    from pipelines.source.extract import SourceUnavailable

    try:
        state.result()
    except Exception as exc:
        return isinstance(exc.__cause__, SourceUnavailable)
    return False


@task(
    name="build: extract → feeds → transform → file",
    retries=2,
    retry_delay_seconds=[60, 300],
    retry_condition_fn=_database_trouble,
    **IN_MEMORY,
)
def build_task(
    cfg: Config, period: Period, release: str | None, header_style: str | None, out: Path,
    warm_checks: bool = False, quarantine: bool = True,
) -> Any:
    """``runs.build_step`` (what ``cld build`` runs), its stages named in the log."""
    logger = get_run_logger()
    seen: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in seen:
            seen.add(stage)
            logger.info("build: %s", stage)

    result = runs.build_step(cfg, period, release, header_style, out, progress=progress,
                             warm_checks=warm_checks, quarantine=quarantine)
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
# The comparison (its changes and vanished people hold person ids) goes from the comparison
# task to the DQ report task in memory: one quarterly run compares the two submissions once.
compare_task = task(runs.compare_step, name="comparison", **IN_MEMORY)
report_task = task(runs.report_step, name="DQ report", **IN_MEMORY)
exceptions_task = task(runs.exceptions_step, name="exception lists", persist_result=False)


FLOW_STEPS = runs.Steps(
    build=build_task,
    previous=previous_task,
    checks=checks_task,
    record=record_task,
    compare=compare_task,
    report=report_task,
    exceptions=exceptions_task,
)


def publish(outcome: runs.RunOutcome) -> None:
    """The run's summary, rows by event type, findings by rule and the comparison as
    artefacts (counts, ids and paths only)."""
    facts = {k: v for k, v in outcome.facts.items() if not isinstance(v, dict)}
    by_event = [
        {"event type": k, "rows": v}
        for k, v in (outcome.facts.get("rows by event type") or {}).items()
    ]
    publish_summary(
        f"CLD return {outcome.period} ({outcome.release})",
        artefact_key("quarterly", outcome.period),
        facts,
        {"rows by event type": by_event, "findings by rule": rule_counts(
            {"by_rule": outcome.by_rule})},
    )
    if outcome.comparison_text:
        create_markdown_artifact(
            f"# Comparison with submission {outcome.previous_id}\n\n```\n"
            f"{outcome.comparison_text}\n```\n",
            key=artefact_key("comparison", outcome.submission_id),
            description="Changes against the previous submission (counts only)",
        )


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
        period: the quarter, e.g. ``2024-25Q3``; default the latest quarter ended by
            ``[runs] reference_date`` in cld.toml, else by the real date.
        release: ``R1`` or ``R2``; default ``[submission] release`` (auto: by period).
        header_style: ``label`` or ``database``; default ``[submission] header_style``.
        dry_run: build and check only; nothing goes into history or the output folder, and
            the run completes even when errors would block the submission.
        build_anyway: write the submission file even when errors block submission.
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    p = Period.parse(period) if period else runs.default_period(cfg)
    try:
        outcome = runs.quarterly(
            cfg, p, release, header_style,
            dry_run=dry_run, build_anyway=build_anyway, exceptions=True, deliver=False,
            progress=logger.info, steps=FLOW_STEPS,
        )  # fmt: skip
    except runs.BlockedSubmission as blocked:
        if blocked.outcome is not None:
            publish(blocked.outcome)
        # Failed with the reason in one line: an expected outcome, not a crash, so no
        # traceback in the run's log (the report and the team lists say what to fix).
        logger.error("%s", blocked)
        return Failed(message=str(blocked))  # type: ignore[return-value]
    publish(outcome)
    f = outcome.facts
    logger.info(
        "%s %s: %d rows, %d errors, %d warnings; file %s",
        p, outcome.release, f["rows"], f["errors"], f["warnings"], f["submission file"],
    )  # fmt: skip
    return {
        "period": str(p),
        "release": outcome.release,
        "rows": f["rows"],
        "errors": f["errors"],
        "warnings": f["warnings"],
        "ready": outcome.ready,
        "run_id": outcome.run_id,
        "submission_id": outcome.submission_id,
        "submission": str(outcome.submission) if outcome.submission else None,
    }
