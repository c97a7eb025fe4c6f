"""``nightly_dq``: the current rolling year through every check, kept in history (the DQ
trend), and each team's exception list delivered (02:00 Europe/London, prefect.yaml).

Thin wiring only: ``pipelines.build.build``, ``checks.run_checks``, ``pipelines.history`` and
``pipelines.outputs`` (exception lists, delivery), as the quarterly flow and the `cld`
commands use them. The nightly build is not kept as a submission: only its findings go into
history, so "the previous submission" stays the last quarterly one.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import artefact_key, publish_summary, rule_counts
from flows.common import config as load_cfg
from flows.quarterly import IN_MEMORY, _source_label, build_task, checks_task, previous_task
from pipelines.config import Config
from pipelines.period import Period


@task(name="history", **IN_MEMORY)
def nightly_history_task(
    cfg: Config, period: Period, release: str, frame: Any, findings: Any
) -> dict[str, Any]:
    """Keep the run and its findings; resolve NHS-number feedback against today's records."""
    from pipelines.history import History

    with (
        History.open(cfg.path(cfg.paths.history_db)) as h,
        h.run("nightly", str(period), release, _source_label(cfg)) as run,
    ):
        run.add_findings(findings)
        resolved = run.resolve_feedback(frame)
        run_id = run.id
    get_run_logger().info("history: run %d; feedback %s", run_id, resolved)
    return {"run_id": run_id, "feedback": {k: int(v) for k, v in resolved.items()}}


@task(name="exception lists", persist_result=False)
def exceptions_task(cfg: Config, run_id: int) -> dict[str, Any]:
    """Every team's workbook for the recorded run, delivered by e-mail or to folders as
    ``[delivery]`` says (what `cld exceptions --run N --deliver` does)."""
    from pipelines.outputs import write_exception_lists
    from pipelines.outputs.delivery import deliver, load_directory
    from pipelines.outputs.sources import from_history

    directory_path = cfg.path(cfg.delivery.directory)
    directory = load_directory(directory_path) if directory_path.exists() else {}
    teams = [(c.team_id, c.team_name) for c in directory.values()]
    got = from_history(cfg, run_id)
    lists = write_exception_lists(
        got.findings,
        cfg.path(cfg.paths.output_dir) / "exceptions" / f"run{run_id}",
        run_id=str(run_id),
        teams=teams,
        previous=got.previous,
        feedback=got.feedback,
        trend=got.trend,
    )
    report = deliver(lists, cfg)
    failed = sorted(o.team_id for o in report.failed)
    get_run_logger().info(
        "exception lists: %d teams, %d delivered, %d failed",
        len(lists.teams), len(report.outcomes) - len(failed), len(failed),
    )  # fmt: skip
    return {
        "teams": len(lists.teams),
        "all clear": sum(1 for t in lists.teams if t.all_clear),
        "delivered": len(report.outcomes) - len(failed),
        "failed teams": failed,
        "unallocated findings": lists.unallocated_count,
        "delivery report": str(report.path),
    }


@flow(name="nightly-dq")
def nightly_dq(config: str | None = None, today: str | None = None) -> dict[str, Any]:
    """Check the rolling year up to today, record it, and deliver the team exception lists.

    Args:
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
        today: ISO date standing in for today (reruns and tests); default today.
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    p = Period.containing(date.fromisoformat(today) if today else date.today())
    staging = cfg.path(cfg.paths.output_dir) / f".staging-{uuid.uuid4().hex[:12]}"
    try:
        built = build_task(cfg, p, None, None, staging / "nightly.csv")
        rel = built.summary["release"]
        _, prev_frame = previous_task(cfg, p)
        checked = checks_task(cfg, built.frame, rel, p, prev_frame, None)
        recorded = nightly_history_task(cfg, p, rel, built.frame, checked.findings)
        delivered = exceptions_task(cfg, recorded["run_id"])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = checked.summary
    publish_summary(
        f"Nightly DQ {p} ({rel})",
        artefact_key("nightly", p),
        {
            "rolling year": f"{p.start} to {p.end}",
            "rows": built.summary["rows"],
            "errors": summary["errors"],
            "warnings": summary["warnings"],
            "history run": recorded["run_id"],
            **{f"feedback {k}": v for k, v in recorded["feedback"].items()},
            **{k: v for k, v in delivered.items() if k != "failed teams"},
            "failed teams": ", ".join(delivered["failed teams"]) or "none",
        },
        {"findings by rule": rule_counts(summary)},
    )
    logger.info(
        "nightly %s: %d errors, %d warnings, %d team lists delivered",
        p, summary["errors"], summary["warnings"], delivered["delivered"],
    )  # fmt: skip
    if delivered["failed teams"]:
        raise RuntimeError(
            f"exception lists not delivered to team(s) {', '.join(delivered['failed teams'])}: "
            f"see {delivered['delivery report']}"
        )
    return {
        "period": str(p),
        "run_id": recorded["run_id"],
        "errors": summary["errors"],
        "warnings": summary["warnings"],
        "teams": delivered["teams"],
        "delivered": delivered["delivered"],
    }
