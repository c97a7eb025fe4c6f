"""``nightly_dq``: the current rolling year through every check, kept in history, and each
team's exception list delivered (02:00 Europe/London, prefect.yaml).

Thin wiring only: the same stage functions as the quarterly flow and the `cld` commands.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.common import artefact_key, counts_by, publish_summary, resolve_release, rule_counts
from flows.common import config as load_cfg
from flows.quarterly import (
    checks_and_history_task,
    extract_task,
    feeds_task,
    transform_task,
    write_task,
)
from pipelines.config import Config
from pipelines.period import Period


@task(name="deliver exception lists", persist_result=False)
def deliver_task(cfg: Config, run_id: str) -> dict[str, Any]:
    from pipelines import outputs

    return outputs.deliver_exceptions(cfg, run_id)


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
    rel = resolve_release(cfg, p, None)

    tables = extract_task(cfg, p)
    feeds = feeds_task(cfg, tables)
    built = transform_task(cfg, tables, feeds, p, rel)
    with tempfile.TemporaryDirectory(prefix="cld-nightly-") as tmp:
        staged = write_task(
            cfg, built.frame, rel, cfg.submission.header_style, Path(tmp) / f"nightly_{p}.csv"
        )
        checked = checks_and_history_task(
            cfg, built.frame, p, rel, staged, record=True, kind="nightly"
        )
    delivered = deliver_task(cfg, checked["run_id"])
    summary = checked["summary"]
    publish_summary(
        f"Nightly DQ {p} ({rel})",
        artefact_key("nightly", p),
        {
            "rolling year to": str(p.end),
            "rows": built.frame.height,
            "errors": summary.get("errors"),
            "warnings": summary.get("warnings"),
            "history run": checked["run_id"],
        },
        {
            "rows by event type": counts_by(built.frame, "Event_Type"),
            "findings by rule": rule_counts(summary),
        },
    )
    logger.info(
        "nightly %s: %s errors, %s warnings", p, summary.get("errors"), summary.get("warnings")
    )
    return {
        "period": str(p),
        "run_id": checked["run_id"],
        "errors": summary.get("errors"),
        "warnings": summary.get("warnings"),
        "delivered": delivered,
    }
