"""Fixtures for the Prefect flow tests: an isolated PREFECT_HOME, the test harness, a real
standing ``prefect server`` on loopback, and council configs pointing into tmp folders."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PREFECT = str(VENV_BIN / "prefect")

# Never touch the developer's ~/.prefect or the project's .prefect: set before prefect is
# imported by any flow test (Prefect reads its settings once, at import).
if "prefect" not in sys.modules:
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="cld-prefect-home-")
    # Flow-run logs go to the (test) API, so the tests can check them for personal data.
    os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "true"
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Flows run for real against a temporary Prefect server and SQLite database."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(
    folder: Path,
    *,
    sample_db: Path | None = None,
    la_code: str = "999",
    mappings: Path | None = None,
    feeds: Path | None = None,
    reference_date: str | None = None,
) -> Path:
    """A council config whose outputs all go under ``folder``; the rest from the sample's."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "out"
    db = sample_db or out / "sample" / "council.db"
    data = PROJECT_ROOT / "data" / "sample"
    mappings = mappings or data / "mappings"
    feeds = feeds or db.parent / "feeds"
    text = f"""
[council]
la_code = "{la_code}"
name = "Test council {la_code}"

[paths]
output_dir = "{out}"
history_db = "{out / "history.duckdb"}"
quarantine_dir = "{out / "quarantine"}"
mappings_dir = "{mappings}"
sql_dir = "{PROJECT_ROOT / "sql"}"
feeds_dir = "{feeds}"
contracts_dir = "{data / "contracts"}"

[source]
sample_db = "{db}"

[checks]
thresholds = "{data / "thresholds.yaml"}"

[delivery]
mode = "folder"
directory = "{data / "team_directory.csv"}"
folder = "{out / "exceptions"}"

[feedback]
layout = "{data / "feedback_layout.yaml"}"
"""
    if reference_date:
        text += f"\n[runs]\nreference_date = {reference_date}\n"
    path = folder / "cld.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Api:
    """Reads back what the server holds about a flow run (plain REST, no client state)."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)

    def flow_run(self, run_id: str) -> dict[str, Any]:
        return self.http.get(f"/flow_runs/{run_id}").raise_for_status().json()

    def wait_final(self, run_id: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.flow_run(run_id)
            if run["state"]["type"] in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}:
                return run
            if time.monotonic() > deadline:
                pytest.fail(f"flow run still {run['state']['type']} after {timeout}s")
            time.sleep(1)

    def logs(self, run_id: str) -> list[str]:
        messages: list[str] = []
        while True:  # the API hands out at most 200 a page
            body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "offset": len(messages)}
            page = self.http.post("/logs/filter", json=body).raise_for_status().json()
            messages += [r["message"] for r in page]
            if len(page) < 200:
                return messages

    def artifacts(self, run_id: str) -> list[dict[str, Any]]:
        body = {"artifacts": {"flow_run_id": {"any_": [run_id]}}}
        return self.http.post("/artifacts/filter", json=body).raise_for_status().json()

    def task_runs(self, run_id: str) -> list[dict[str, Any]]:
        body = {"flow_runs": {"id": {"any_": [run_id]}}}
        return self.http.post("/task_runs/filter", json=body).raise_for_status().json()


@dataclass
class Council:
    """A synthetic council database and its config (outputs under ``folder``)."""

    folder: Path
    config: Path
    db: Path
    period: str  # a quarter with data (and, for the sample, every injected defect)
    today: str  # a day inside the data, standing in for today in the nightly run
    nhs_numbers: list[str]  # every NHS number in the database: must never leak
    feedback_dir: Path | None = None


# The small sample council (pipelines.sample); False: the golden-journey council of the
# transform tests (hand-made, committed, stable).
USE_SAMPLE = True


def make_council(folder: Path, la_code: str = "999") -> Council:
    """A council database with its config: the small sample council, or the golden journeys."""
    import sqlalchemy as sa

    folder.mkdir(parents=True, exist_ok=True)
    feedback_dir = None
    if USE_SAMPLE:
        from pipelines.sample import small_council

        info = small_council(folder)
        db = Path(info.db)
        config = write_config(
            folder, sample_db=db, la_code=la_code, feeds=info.feeds_dir,
            reference_date=info.reference_date.isoformat(),
        )  # fmt: skip
        period = info.defect_periods[-1]
        today = info.reference_date.isoformat()
        feedback_dir = info.feedback_dir
    else:
        from tests.build.test_build import load_world
        from tests.transform.test_journeys import MAPPINGS, PERIOD

        db = folder / "council.db"
        load_world(f"sqlite:///{db}")
        config = write_config(
            folder, sample_db=db, la_code=la_code, mappings=MAPPINGS, feeds=folder / "feeds"
        )
        period, today = str(PERIOD), PERIOD.end.isoformat()
    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT nhs_number FROM persons")).fetchall()
    engine.dispose()
    nhs = sorted({str(r[0]).replace(" ", "") for r in rows if r[0]})
    return Council(folder, config, db, period, today, nhs, feedback_dir)


def assert_no_nhs_number(texts: list[str], council: Council) -> None:
    """None of the council's NHS numbers appears in any of ``texts`` (spaced or not)."""
    blob = "\n".join(texts)
    squashed = blob.replace(" ", "")
    leaked = [n for n in council.nhs_numbers if n in squashed]
    assert not leaked, f"{len(leaked)} NHS numbers leaked, e.g. {leaked[0][:3]}…"


@dataclass
class PrefectServer:
    """A real ``prefect server start`` on loopback with its own PREFECT_HOME and SQLite DB."""

    home: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.home / "server.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update(
            PREFECT_HOME=str(self.home),
            PREFECT_API_URL=self.api_url,
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS="false",
            DO_NOT_TRACK="1",
            PREFECT_UI_ENABLED="false",
            PREFECT_CLI_PROMPT="false",
            PREFECT_LOGGING_LEVEL="INFO",
            # Flow-run logs go to the API, so the test can read them back and check them.
            PREFECT_LOGGING_TO_API_ENABLED="true",
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.update(extra)
        return env

    def start(self, timeout: float = 180) -> None:
        # Every service on, as `prefect server start` runs them for a council: the scheduler
        # turning schedules into runs above all (it once failed on SQLAlchemy 2.1 unseen).
        env = self.env()
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=self.home,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.api_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()  # the fixture never yields: nothing else would stop it
        raise RuntimeError(f"prefect server not healthy in {timeout}s:\n{self.log.read_text()}")

    def problems(self) -> list[str]:
        """ERROR lines and tracebacks in the server's log (the scheduler logs its failures
        there and carries on, so nothing else shows them)."""
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return [ln for ln in lines if " ERROR " in ln or "Traceback" in ln or "Error:" in ln]

    def scheduler_errors(self) -> list[str]:
        """The scheduler's failures in the server's log (its services' ERROR lines name
        schedule_deployments / schedule_recent_deployments; the SQLAlchemy 2.1 failure was an
        InvalidRequestError). Other services' complaints under load, such as SQLite's
        "database is locked" for a worker heartbeat, are not the scheduler's."""
        return [ln for ln in self.problems()
                if "schedul" in ln.lower() or "InvalidRequestError" in ln or "bulk DML" in ln]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def prefect(
        self, *args: str, timeout: float = 120, cwd: Path = PROJECT_ROOT, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run the ``prefect`` command against this server; fails the test if it fails."""
        done = subprocess.run(
            [PREFECT, *args],
            env=self.env(**env),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            pytest.fail(
                f"prefect {' '.join(args)} failed ({done.returncode}):\n"
                f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
            )
        return done


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One standing server per test module (starting one takes 8-17 s)."""
    home = tmp_path_factory.mktemp("prefect-home")
    server = PrefectServer(home=home, port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class DaskCluster:
    """A real Dask cluster on loopback: ``dask scheduler`` and two ``dask worker`` processes
    (one thread each), as a council's or a region's cluster would run them."""

    folder: Path
    workers: tuple[str, ...] = ("cld-w1", "cld-w2")
    procs: list[subprocess.Popen] = field(default_factory=list)
    address: str = ""

    def start(self, env: dict[str, str], timeout: float = 120) -> None:
        dask = str(VENV_BIN / "dask")
        port = free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.folder.mkdir(parents=True, exist_ok=True)
        logs = [open(self.folder / f"{n}.log", "w") for n in ("scheduler", *self.workers)]  # noqa: SIM115
        self.procs.append(subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env, stdout=logs[0], stderr=subprocess.STDOUT, cwd=self.folder,
        ))  # fmt: skip
        for name, log in zip(self.workers, logs[1:], strict=True):
            self.procs.append(subprocess.Popen(
                [dask, "worker", self.address, "--name", name, "--nthreads", "1",
                 "--nworkers", "1", "--host", "127.0.0.1", "--no-dashboard",
                 "--local-directory", str(self.folder / name)],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder,
            ))  # fmt: skip
        from distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(len(self.workers), timeout=timeout)

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> Iterator[DaskCluster]:
    """Scheduler and workers see the harness's Prefect API (task runs report to it) and no
    CLD_* setting of the developer's."""
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith("CLD_")}
    env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    cluster = DaskCluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.start(env)
        yield cluster
    finally:
        cluster.stop()
