"""Shared fixtures. The PostgreSQL server is real: started once per session on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgserver import PgServer

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Keep Prefect local and quiet in every test process (shared/reference/stack.md).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
os.environ.setdefault("PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def _no_ambient_config() -> Iterator[None]:
    """No CLD_* setting from the environment during a test, and none left behind after it.

    Deliberately not built on ``monkeypatch``: this fixture is set up before a test's own
    monkeypatch and so torn down after it, which also removes what code under test set
    directly (the flows fill secrets from Prefect blocks into os.environ) or what a test's
    monkeypatch restored on undo."""
    saved = {n: v for n, v in os.environ.items() if n.startswith("CLD_")}
    for name in saved:
        del os.environ[name]
    yield
    for name in [n for n in os.environ if n.startswith("CLD_")]:
        del os.environ[name]
    os.environ.update(saved)
