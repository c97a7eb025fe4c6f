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
def _no_ambient_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's own config or database by accident."""
    monkeypatch.delenv("CLD_CONFIG", raising=False)
    monkeypatch.delenv("CLD_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLD_SMTP_PASSWORD", raising=False)
