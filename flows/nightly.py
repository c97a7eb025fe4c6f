"""``nightly_dq``: the current rolling year through every check, kept in history (the DQ
trend, NHS-number feedback followed up), and each team's exception list delivered
(02:00 Europe/London, prefect.yaml).

Thin wiring: ``pipelines.runs.nightly`` (what ``cld run nightly`` runs) with its step
functions wrapped as Prefect tasks. The nightly build is not kept as a submission: only its
findings go into history, so "the previous submission" stays the last quarterly one.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import Failed

from flows.common import artefact_key, publish_summary, rule_counts
from flows.common import config as load_cfg
from flows.quarterly import FLOW_STEPS
from pipelines import runs

NIGHTLY_STEPS = FLOW_STEPS


@flow(name="nightly-dq")
def nightly_dq(config: str | None = None, today: str | None = None) -> dict[str, Any]:
    """Check the rolling year up to today, record it, and deliver the team exception lists.

    Args:
        config: the council's cld.toml; default ``$CLD_CONFIG``, ./cld.toml, the sample's.
        today: ISO date standing in for today (reruns and tests); default
            ``[runs] reference_date`` in cld.toml, else the real date.
    """
    logger = get_run_logger()
    cfg = load_cfg(config)
    day = date.fromisoformat(today) if today else None  # None: cfg.today()
    failure: runs.DeliveryFailed | runs.NoEvents | None = None
    try:
        outcome = runs.nightly(
            cfg, day, deliver=True, progress=logger.info, steps=NIGHTLY_STEPS,
        )  # fmt: skip
    except (runs.DeliveryFailed, runs.NoEvents) as exc:  # recorded: publish, then fail
        failure, outcome = exc, exc.outcome
    f = outcome.facts
    failed = list(f.get("failed teams") or [])
    publish_summary(
        f"Nightly DQ {outcome.period} ({outcome.release})",
        artefact_key("nightly", outcome.period),
        {**{k: v for k, v in f.items() if k != "failed teams"},
         "failed teams": ", ".join(map(str, failed)) or "none"},
        {"findings by rule": rule_counts({"by_rule": outcome.by_rule})},
    )
    logger.info(
        "nightly %s: %d errors, %d warnings, %d team lists delivered, %d failed",
        outcome.period, f["errors"], f["warnings"], f.get("delivered", 0), len(failed),
    )  # fmt: skip
    if isinstance(failure, runs.NoEvents):  # one line, no traceback: nothing was sent
        logger.error("%s", failure)
        return Failed(message=str(failure))  # type: ignore[return-value]
    if failure is not None:
        raise failure
    return {
        "period": outcome.period,
        "run_id": outcome.run_id,
        "errors": f["errors"],
        "warnings": f["warnings"],
        "teams": f["teams"],
        "delivered": f.get("delivered", 0),
    }
