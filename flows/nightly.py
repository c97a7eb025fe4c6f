"""``nightly_dq``: the current rolling year through every check, kept in history (the DQ
trend, NHS-number feedback followed up), and each team's exception list delivered
(02:00 Europe/London, prefect.yaml).

Thin wiring: the step functions of ``pipelines.runs`` as tasks, in the order
``cld run nightly`` chains them. The nightly build is not kept as a submission: only its
findings go into history, so "the previous submission" stays the last quarterly one.
"""

from __future__ import annotations

import shutil
import uuid
from datetime import date
from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from flows.common import artefact_key, publish_summary, rule_counts
from flows.common import config as load_cfg
from flows.quarterly import build_task, checks_task, exceptions_task, previous_task, record_task
from pipelines import runs
from pipelines.period import Period


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
        _, prev_frame = previous_task(cfg)
        checked = checks_task(
            cfg, built.frame, rel, p, prev_frame, None, run_id=str(flow_run.get_id() or "")
        )
        recorded = record_task(cfg, "nightly", p, rel, built.frame, checked.findings, None)
        delivered = exceptions_task(cfg, recorded["run_id"], deliver=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary = checked.summary
    failed = list(delivered.get("failed teams") or [])
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
            "failed teams": ", ".join(failed) or "none",
        },
        {"findings by rule": rule_counts(summary)},
    )
    logger.info(
        "nightly %s: %d errors, %d warnings, %d team lists delivered, %d failed",
        p, summary["errors"], summary["warnings"], delivered.get("delivered", 0), len(failed),
    )  # fmt: skip
    if failed:
        raise runs.DeliveryFailed(
            f"exception lists not delivered to team(s) {', '.join(failed)}: "
            f"see {delivered['delivery report']}"
        )
    return {
        "period": str(p),
        "run_id": recorded["run_id"],
        "errors": summary["errors"],
        "warnings": summary["warnings"],
        "teams": delivered["teams"],
        "delivered": delivered.get("delivered", 0),
    }
