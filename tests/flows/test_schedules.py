"""Schedules turn into runs, as on a council's machine: a standing ``prefect server start`` with
its scheduler on, the deployments of prefect.yaml, a process worker (or ``cld serve``); a
scheduled nightly run completes and is recorded in history, and the server logs no error.

The test copy of prefect.yaml adds an every-minute schedule to the nightly deployment beside
its real 02:00 one, so a scheduled run falls due within a minute of deploying.
"""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipelines.config import load_config
from pipelines.history import History
from pipelines.period import Period
from tests.flows.conftest import (
    PREFECT,
    PROJECT_ROOT,
    VENV_BIN,
    Api,
    Council,
    PrefectServer,
    make_council,
)
from tests.flows.test_deployments import POOL, prefect_yaml

EVERY_MINUTE = {"cron": "* * * * *", "timezone": "Europe/London", "active": True}


def copy_with_minute_schedule(folder: Path, rename: str | None = None) -> Path:
    """prefect.yaml as shipped, the nightly deployment also scheduled every minute."""
    spec = prefect_yaml()
    for d in spec["deployments"]:
        if d["name"] == "nightly":
            d["schedules"] = [*d["schedules"], EVERY_MINUTE]
            d["name"] = rename or d["name"]
    path = folder / "prefect.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def runs_of(api: Api, deployment_id: str) -> list[dict[str, Any]]:
    body = {"deployments": {"id": {"any_": [deployment_id]}}, "sort": "EXPECTED_START_TIME_ASC"}
    return api.http.post("/flow_runs/filter", json=body).raise_for_status().json()


def wait_for_deployment(api: Api, name: str, timeout: float, proc: Any = None) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{name}: the serving process exited ({proc.returncode})")
        r = api.http.get(f"/deployments/name/{name}")
        if r.status_code == 200 and r.json().get("schedules"):
            return r.json()
        time.sleep(0.5)
    pytest.fail(f"deployment {name} not registered in {timeout}s")


def wait_for_scheduled_completion(
    api: Api, deployment_id: str, timeout: float, proc: subprocess.Popen[bytes], log: Path
) -> dict[str, Any]:
    """The first scheduled run of the deployment, once it has finished (it must complete)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        for run in runs_of(api, deployment_id):
            if run["state"]["type"] in {"FAILED", "CRASHED", "CANCELLED"}:
                pytest.fail(f"scheduled run {run['state']}:\n{log.read_text()[-3000:]}")
            if run["state"]["type"] == "COMPLETED":
                return run
        time.sleep(1)
    states = [(r["state"]["name"], r["expected_start_time"]) for r in runs_of(api, deployment_id)]
    pytest.fail(f"no scheduled run completed in {timeout}s: {states[:5]}\n{log.read_text()[-3000:]}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 30) -> float:
    """Send ``sig`` and wait; returns how long the process took to exit (fails past timeout)."""
    start = time.monotonic()
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        pytest.fail(f"did not stop within {timeout}s of signal {sig}")
    return time.monotonic() - start


def nightly_runs_in_history(council: Council) -> list[dict[str, Any]]:
    cfg = load_config(council.config)
    with History.open(cfg.path(cfg.paths.history_db)) as h:
        return [r for r in h.runs().to_dicts() if r["kind"] == "nightly"]


@pytest.mark.slow
def test_a_schedule_becomes_a_completed_nightly_run_through_a_worker(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    council = make_council(tmp_path / "council")
    spec = copy_with_minute_schedule(tmp_path)
    prefect_server.prefect("work-pool", "create", POOL, "--type", "process", "--overwrite")
    prefect_server.prefect("--no-prompt", "deploy", "--all", "--prefect-file", str(spec))
    api = Api(prefect_server.api_url)
    nightly = wait_for_deployment(api, "nightly-dq/nightly", 30)
    crons = sorted(s["schedule"]["cron"] for s in nightly["schedules"])
    assert crons == ["* * * * *", "0 2 * * *"]

    # The scheduler (not a person) makes the runs: wait for it, before any worker exists.
    deadline = time.monotonic() + 60
    while not (scheduled := runs_of(api, nightly["id"])):
        assert time.monotonic() < deadline, "the scheduler made no run in 60 s"
        time.sleep(1)
    assert all(r["auto_scheduled"] for r in scheduled)
    # ... from the real 02:00 Europe/London schedule too, not only the test's minute one.
    two_am = [r for r in scheduled if r["expected_start_time"][11:16] in {"02:00", "01:00"}]
    assert two_am, [r["expected_start_time"] for r in scheduled[:5]]

    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", POOL],
            env=prefect_server.env(CLD_CONFIG=str(council.config)),
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        run = wait_for_scheduled_completion(api, nightly["id"], 240, worker, log)
    finally:
        took = stop(worker, signal.SIGTERM)
    assert run["auto_scheduled"] and run["created_by"]["type"] == "SCHEDULE"
    # Recorded in history: the rolling year to the council's reference date.
    [recorded] = nightly_runs_in_history(council)[:1]
    expected = Period.containing(date.fromisoformat(council.today))  # [runs] reference_date
    assert recorded["status"] == "ok" and recorded["period"] == str(expected)
    assert recorded["findings"] > 0
    assert prefect_server.scheduler_errors() == []
    print(f"worker stopped {took:.1f} s after SIGTERM")


@pytest.mark.slow
def test_cld_serve_runs_its_schedules_on_a_standing_server(
    prefect_server: PrefectServer, tmp_path: Path
) -> None:
    council = make_council(tmp_path / "council")
    spec = copy_with_minute_schedule(tmp_path, rename="nightly-served")
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            [VENV_BIN / "cld", "--config", council.config, "serve", "--only", "nightly-served",
             "--prefect-file", spec],
            env=prefect_server.env(),
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    api = Api(prefect_server.api_url)
    try:
        served = wait_for_deployment(api, "nightly-dq/nightly-served", 90, serve)
        assert served["parameters"]["config"] == str(council.config)
        run = wait_for_scheduled_completion(api, served["id"], 240, serve, log)
    finally:
        stop(serve, signal.SIGTERM)
    assert run["auto_scheduled"] and run["created_by"]["type"] == "SCHEDULE"
    recorded = nightly_runs_in_history(council)
    assert recorded and recorded[0]["status"] == "ok"
    assert prefect_server.scheduler_errors() == []


@pytest.mark.parametrize("command", [["serve", "--only", "nightly"], ["worker"]])
def test_cld_serve_and_worker_without_a_standing_server_say_so(
    tmp_path: Path, command: list[str]
) -> None:
    """Prefect's temporary in-process server has no scheduler: refuse, in one line."""
    env = {k: v for k, v in PrefectServer(home=tmp_path, port=0).env().items()
           if k != "PREFECT_API_URL"}  # fmt: skip
    done = subprocess.run(
        [str(VENV_BIN / "cld"), *command],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "needs a standing Prefect server" in line and "PREFECT_API_URL" in line
