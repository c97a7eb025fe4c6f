"""The flows run for real under ``prefect_test_harness`` (temporary server and database,
isolated PREFECT_HOME); what they leave in Prefect is read back through its API."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.flows.conftest import Api, write_config

pytestmark = pytest.mark.usefixtures("prefect_harness")


def api() -> Api:
    from prefect.settings import PREFECT_API_URL

    return Api(PREFECT_API_URL.value())


def run_id_of(state) -> str:
    return str(state.state_details.flow_run_id)


def test_preflight_passes_and_fails_visibly(tmp_path: Path) -> None:
    from flows.preflight import preflight

    db = tmp_path / "council.db"
    sqlite3.connect(db).close()
    cfg = write_config(tmp_path / "ok", sample_db=db)
    state = preflight(config=str(cfg), return_state=True)
    assert state.is_completed()
    result = state.result()
    assert result["database"] == "sqlite" and all(result["folders"].values())
    keys = {a["key"] for a in api().artifacts(run_id_of(state))}
    assert keys == {"preflight"}

    bad = write_config(tmp_path / "bad", sample_db=tmp_path / "missing" / "council.db")
    state = preflight(config=str(bad), return_state=True)
    assert state.is_failed()


def test_missing_secrets_come_from_prefect_secret_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.blocks.system import Secret

    from flows.common import secrets_from_blocks

    monkeypatch.delenv("CLD_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLD_SMTP_PASSWORD", "from-env")
    Secret(value="sqlite:///from-block.db").save("cld-database-url", overwrite=True)
    Secret(value="from-block").save("cld-smtp-password", overwrite=True)
    try:
        assert secrets_from_blocks() == ["CLD_DATABASE_URL"]
        assert os.environ["CLD_DATABASE_URL"] == "sqlite:///from-block.db"
        assert os.environ["CLD_SMTP_PASSWORD"] == "from-env"  # the environment wins
    finally:
        monkeypatch.delenv("CLD_DATABASE_URL", raising=False)
