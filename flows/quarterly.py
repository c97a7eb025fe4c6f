"""``quarterly_submission``: the quarterly CLD return, from the case-management database to the
submission file, with its checks, history, DQ report and comparison.

The flow only wires the stages (docs/contracts.md section 6): ``pipelines.build.build``
(extract → provider feeds → transform → file, what ``cld build`` runs), ``checks.run_checks``,
``pipelines.history`` and ``pipelines.outputs``. The file is built into a staging folder and
moved into the output folder only when no error blocks it (or ``build_anyway``).

Frames holding personal data pass between tasks in memory only: those tasks use
``cache_policy=NONE`` and ``persist_result=False``, and everything the flow returns, logs or
shows as an artefact is a count, an id or a path.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE
from prefect.runtime import flow_run

from flows.common import (
    BlockedSubmission,
    artefact_key,
    last_complete_quarter,
    publish_summary,
    rule_counts,
)
from flows.common import config as load_cfg
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
    cfg: Config, period: Period, release: str | None, header_style: str | None, out: Path | None
) -> Any:
    from pipelines.build import build

    logger = get_run_logger()
    seen: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in seen:
            seen.add(stage)
            logger.info("build: %s", stage)

    result = build(
        cfg, period, release=release, header_style=header_style, out=out, progress=progress
    )
    s = result.summary
    logger.info(
        "built %s %s: %d rows, %d people, %d unmapped codes, %d quarantined feed files",
        s["period"], s["release"], s["rows"], s["people"], len(s["unmapped"]),
        len(result.quarantined),
    )  # fmt: skip
    return result


@task(name="previous submission", **IN_MEMORY)
def previous_task(cfg: Config, period: Period) -> tuple[int | None, Any]:
    """The submission this build is compared with (last sent, else newest), and its rows."""
    from pipelines.history import History

    with History.open(cfg.path(cfg.paths.history_db)) as h:
        prev = h.previous_submission()
        return (prev.id, h.submission_frame(prev.id)) if prev else (None, None)


@task(name="checks", **IN_MEMORY)
def checks_task(
    cfg: Config, frame: Any, release: str, period: Period, previous: Any, docs_dir: Path | None
) -> Any:
    from checks import run_checks
    from cld_schema import load_spec
    from pipelines.outputs.sources import load_thresholds

    result = run_checks(
        frame,
        load_spec(release),
        run_id=str(flow_run.get_id() or uuid.uuid4()),
        previous=previous,
        period=period,
        thresholds=load_thresholds(cfg),
        data_docs_dir=docs_dir,
    )
    s = result.summary
    get_run_logger().info("checks: %d errors, %d warnings", s["errors"], s["warnings"])
    return result


@task(name="history", **IN_MEMORY)
def history_task(
    cfg: Config,
    kind: str,
    period: Period,
    release: str,
    frame: Any,
    findings: Any,
    submission: Path | None,
) -> dict[str, int]:
    """Keep the run, the built rows and the findings in history, atomically, and follow up
    open NHS-number feedback against this extract."""
    from pipelines.history import History

    with (
        History.open(cfg.path(cfg.paths.history_db)) as h,
        h.run(kind, str(period), release, _source_label(cfg)) as run,
    ):
        sub_id = run.add_submission(submission, frame)
        run.add_findings(findings)
        feedback = run.resolve_feedback(frame)  # NHS numbers now held in the case records
        run_id = run.id
    get_run_logger().info("history: run %d, submission %d, feedback %s", run_id, sub_id, feedback)
    return {"run_id": run_id, "submission_id": sub_id}


def _source_label(cfg: Config) -> str:
    """Where the data came from, without credentials (history strips them too)."""
    return "environment database" if os.environ.get("CLD_DATABASE_URL") else "embedded sample"


@task(name="comparison", persist_result=False)
def comparison_task(
    cfg: Config, previous_id: int | None, submission_id: int, out_dir: Path
) -> dict[str, Any]:
    """Compare with the previous submission; the detail goes to CSV files, counts come back."""
    from pipelines.history import History
    from pipelines.history.compare import Thresholds

    if previous_id is None:
        return {"compared with": "(no earlier submission)"}
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        result = h.compare(
            previous_id, submission_id, Thresholds.load(cfg.path(cfg.checks.thresholds))
        )
        files = result.write(out_dir)
    create_markdown_artifact(
        f"# Comparison with submission {previous_id}\n\n```\n{result.summary_text()}\n```\n",
        key=artefact_key("comparison", submission_id),
        description="Changes against the previous submission (counts only)",
    )
    return {
        "compared with": f"submission {previous_id}",
        **{f"events {k}": v for k, v in result.totals().items()},
        "comparison warnings": len(result.warnings),
        "comparison files": str(out_dir) if files else "(none)",
    }


@task(name="DQ report", persist_result=False)
def report_task(cfg: Config, run_id: int, out_dir: Path, data_docs: Path | None) -> str:
    """The self-contained HTML DQ report of the recorded run (what `cld report --run` writes)."""
    from pipelines.outputs.report import write_report

    docs = data_docs if data_docs is not None and data_docs.exists() else None
    return str(write_report(cfg, run_id, out_dir, data_docs=docs))


class Placement:
    """Moves staged files into the output folder, each in one step (same filesystem), keeping
    what they replace in the staging folder until the run is recorded, so a run that fails
    to record puts the earlier files back."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.moves: list[tuple[Path, Path | None]] = []  # (final, backup of what was there)

    def place(self, staged: Path, final: Path) -> Path:
        final.parent.mkdir(parents=True, exist_ok=True)
        backup = None
        if final.exists():
            backup = self.staging / f"{final.name}.before"
            os.replace(final, backup)
        os.replace(staged, final)
        self.moves.append((final, backup))
        return final

    def undo(self) -> None:
        for final, backup in reversed(self.moves):
            if backup is not None:
                os.replace(backup, final)
            else:
                final.unlink(missing_ok=True)
        self.moves.clear()


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
        dry_run: build and check only; nothing goes into history or the output folder, and
            the run completes even when errors would block the submission.
        build_anyway: write the submission file even when errors block submission.
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
    """
    from pipelines.build import default_path, summary_path_for

    logger = get_run_logger()
    cfg = load_cfg(config)
    p = Period.parse(period) if period else last_complete_quarter()
    out_dir = cfg.path(cfg.paths.output_dir)
    staging = out_dir / f".staging-{uuid.uuid4().hex[:12]}"
    try:
        built = build_task(cfg, p, release, header_style, staging / "submission.csv")
        rel = built.summary["release"]
        final = default_path(cfg, p, rel, built.path.suffix == ".gz")
        prev_id, prev_frame = previous_task(cfg, p) if not dry_run else (None, None)
        reports = out_dir / "reports"
        docs = None if dry_run else reports / f"data_docs_{p}_{uuid.uuid4().hex[:8]}"
        checked = checks_task(cfg, built.frame, rel, p, prev_frame, docs)
        summary = checked.summary
        blocked = not summary["ready"]
        written: Path | None = None
        placement = Placement(staging)
        if not dry_run and (not blocked or build_anyway):
            written = placement.place(built.path, final)
            placement.place(built.summary_path, summary_path_for(final))
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
            "submission file": str(written) if written else "(not written)",
        }
        ids: dict[str, Any] = {}
        if dry_run:
            facts["history"] = "(dry run: not recorded)"
        else:
            try:
                ids = history_task(cfg, "build", p, rel, built.frame, checked.findings, written)
            except BaseException:
                placement.undo()  # not recorded: the output folder stays as it was
                raise
            facts["history run"] = ids["run_id"]
            facts["submission id"] = ids["submission_id"]
            compare_dir = reports / f"compare_run{ids['run_id']}"
            facts.update(comparison_task(cfg, prev_id, ids["submission_id"], compare_dir))
            facts["DQ report"] = report_task(cfg, ids["run_id"], reports, docs)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    by_event = [
        {"event type": k, "rows": v}
        for k, v in _event_totals(built.summary["rows_by_event_type_and_month"]).items()
    ]
    publish_summary(
        f"CLD return {p} ({rel})",
        artefact_key("quarterly", p),
        facts,
        {"rows by event type": by_event, "findings by rule": rule_counts(summary)},
    )
    logger.info(
        "%s %s: %d rows, %d errors, %d warnings; file %s",
        p, rel, built.summary["rows"], summary["errors"], summary["warnings"],
        written or "not written",
    )  # fmt: skip
    if blocked and not build_anyway and not dry_run:
        raise BlockedSubmission(
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


def _event_totals(counts: Any) -> dict[str, int]:
    """Rows per event type from the build summary (event type -> month -> rows)."""
    if not isinstance(counts, dict):
        return {}
    return {
        str(et): sum(int(n) for n in months.values()) if isinstance(months, dict) else int(months)
        for et, months in counts.items()
    }
