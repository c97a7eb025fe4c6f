"""``all_councils_quarterly``: for hosts that process several councils' returns, the quarterly
submission for each council config, fanned out over a Dask cluster (prefect-dask).

Each council is one task on a Dask worker, running the same wiring as ``quarterly_submission``
(its stages show as nested task runs). Only counts, ids and paths come back from the workers.

The cluster: a local one with ``$CLD_DASK_WORKERS`` worker processes (default 2, one thread
each), or an existing one at ``$CLD_DASK_ADDRESS`` (e.g. ``tcp://10.0.0.5:8786``): a council's
or a region's cluster, whose workers run in this project's environment (same packages, the
councils' config files and folders reachable at the same paths) and can reach the Prefect API.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow, get_run_logger, task, unmapped
from prefect_dask import DaskTaskRunner

from flows.common import artefact_key, publish_summary
from flows.quarterly import quarterly_submission


def dask_runner() -> DaskTaskRunner:
    address = os.environ.get("CLD_DASK_ADDRESS")
    if address:
        return DaskTaskRunner(address=address)
    workers = int(os.environ.get("CLD_DASK_WORKERS", "2"))
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "dashboard_address": None}
    )


def worker_name() -> str | None:
    """The Dask worker running this task (None outside a Dask worker)."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return None


@task(name="council quarterly", persist_result=False)
def council_quarterly(
    config: str, period: str | None, release: str | None, dry_run: bool, build_anyway: bool
) -> dict[str, Any]:
    out = quarterly_submission.fn(
        period=period,
        release=release,
        dry_run=dry_run,
        build_anyway=build_anyway,
        config=config,
    )
    return {**out, "worker": worker_name()}


@flow(name="all-councils-quarterly", task_runner=dask_runner())
def all_councils_quarterly(
    configs: list[str],
    period: str | None = None,
    release: str | None = None,
    dry_run: bool = False,
    build_anyway: bool = False,
) -> list[dict[str, Any]]:
    """Run the quarterly submission for every council config, in parallel on Dask.

    A council whose return fails (or is blocked by errors) does not stop the others; the run
    fails at the end, naming them.

    Args:
        configs: one council config file (cld.toml) per council.
        period, release, dry_run, build_anyway: as for ``quarterly_submission``.
    """
    logger = get_run_logger()
    futures = council_quarterly.map(
        configs,
        period=unmapped(period),
        release=unmapped(release),
        dry_run=unmapped(dry_run),
        build_anyway=unmapped(build_anyway),
    )
    rows: list[dict[str, Any]] = []
    failed: list[str] = []
    for cfg_file, fut in zip(configs, futures, strict=True):
        fut.wait()
        state = fut.state
        if state.is_completed():
            r = fut.result()
            rows.append(
                {
                    "config": cfg_file,
                    "status": "ok",
                    "period": r.get("period"),
                    "rows": r.get("rows"),
                    "errors": r.get("errors"),
                    "run_id": r.get("run_id"),
                    "submission": r.get("submission"),
                    "worker": r.get("worker"),
                }
            )
        else:
            failed.append(cfg_file)
            reason = str(state.message or state.name)
            rows.append({"config": cfg_file, "status": "failed", "message": reason[:300]})
    publish_summary(
        "All councils: quarterly",
        artefact_key("all-councils", period or "latest"),
        {"councils": len(configs), "failed": len(failed)},
        {"councils": rows},
    )
    logger.info("all councils: %d done, %d failed", len(configs) - len(failed), len(failed))
    if failed:
        raise RuntimeError(f"{len(failed)} council(s) failed: {', '.join(failed)}")
    return rows
