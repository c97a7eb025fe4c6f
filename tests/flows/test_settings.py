"""Prefect kept local and quiet: settings defaults, and what `prefect` reads from the project."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flows import settings
from tests.flows.conftest import PROJECT_ROOT, VENV_BIN


def test_defaults_fill_only_what_is_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A private copy of the environment: nothing configure_prefect sets can outlive the test.
    monkeypatch.setattr(os, "environ", dict(os.environ))
    for key in ("PREFECT_HOME", *settings.QUIET_DEFAULTS):
        os.environ.pop(key, None)
    monkeypatch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "true")  # the user's choice stays
    home = settings.configure_prefect(tmp_path)
    assert home == tmp_path / ".prefect"
    assert os.environ["PREFECT_HOME"] == str(tmp_path / ".prefect")
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "true"
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "90"


def test_an_explicit_prefect_home_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "elsewhere"))
    assert settings.configure_prefect(PROJECT_ROOT) == tmp_path / "elsewhere"


def test_the_prefect_command_in_the_project_uses_its_home_and_no_analytics() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [str(VENV_BIN / "prefect"), "config", "view", "--show-sources"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert "PREFECT_HOME='.prefect' (from prefect.toml)" in done.stdout
    assert "PREFECT_SERVER_ANALYTICS_ENABLED='False' (from prefect.toml)" in done.stdout


def test_importing_the_flows_sets_the_quiet_defaults_before_prefect_loads() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DO_NOT"))}
    code = (
        "import flows.quarterly, prefect.settings as s, os;"
        "print(s.get_current_settings().home, os.environ['DO_NOT_TRACK'],"
        " s.get_current_settings().server.analytics_enabled)"
    )
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-c", code],
        cwd="/", env=env, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert done.stdout.split() == [str(PROJECT_ROOT / ".prefect"), "1", "False"]
