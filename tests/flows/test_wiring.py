"""The small pieces of wiring, without a Prefect server."""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.states import Completed, Failed

from flows.common import artefact_key, rule_counts
from flows.deployments import read_specs, select
from flows.quarterly import _database_trouble
from pipelines.build import BuildError
from pipelines.runs import waiting_feedback as waiting_files
from pipelines.source.extract import ExtractError, SourceUnavailable


def failed_with(exc: Exception):
    return Failed(data=exc)


def _raised(exc: Exception, cause: Exception | None = None) -> Exception:
    """``exc`` as ``raise exc from cause`` leaves it (with ``__cause__`` set)."""
    try:
        raise exc from cause
    except Exception as caught:
        return caught


def test_the_build_is_retried_only_when_the_database_cannot_be_read() -> None:
    lost = SourceUnavailable("the extract failed after 3 attempts (connection lost each time)")
    down = _raised(BuildError("cannot read the case-management database: ..."), lost)
    assert _database_trouble(None, None, failed_with(down))
    # the same words without the typed cause are not a reason to retry: types, not texts
    said = BuildError("cannot read the case-management database: connection refused")
    assert not _database_trouble(None, None, failed_with(said))
    bad_query = _raised(BuildError("cannot read the case-management database: ..."),
                        ExtractError("sql/extract/x.sql: the query failed: syntax error"))
    assert not _database_trouble(None, None, failed_with(bad_query))
    no_sample = BuildError("the sample database x.db does not exist: run `cld sample` ...")
    assert not _database_trouble(None, None, failed_with(no_sample))
    assert not _database_trouble(None, None, failed_with(ValueError("bad mapping")))
    assert not _database_trouble(None, None, Completed(data=1))


def test_artefacts_hold_counts_and_rule_texts_only() -> None:
    assert artefact_key("quarterly", "2024-25Q3") == "quarterly-2024-25q3"
    summary = {
        "by_rule": [
            {"rule_id": "W1", "severity": "warning", "message": "m", "count": 9},
            {"rule_id": "E1", "severity": "error", "message": "m", "count": 2},
        ]
    }
    assert [r["rule"] for r in rule_counts(summary)] == ["E1", "W1"]
    assert set(rule_counts(summary)[0]) == {"rule", "severity", "count", "message"}


def test_deployments_selection() -> None:
    specs = read_specs()
    assert "all-councils" not in [s.name for s in select(specs, None)]
    assert [s.name for s in select(specs, ["nightly"])] == ["nightly"]
    with pytest.raises(ValueError, match="unknown deployment"):
        select(specs, ["weekly"])
    flows = {s.name: s.load_flow().name for s in specs}
    assert flows["quarterly"] == "quarterly-submission" and flows["nightly"] == "nightly-dq"


def test_feedback_inbox_lists_waiting_files_only(tmp_path: Path) -> None:
    (tmp_path / "processed").mkdir()
    for name in ("b.csv", "a.xlsx", "notes.md", ".hidden"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in waiting_files(tmp_path)] == ["a.xlsx", "b.csv"]
    assert waiting_files(tmp_path / "b.csv") == [tmp_path / "b.csv"]
    with pytest.raises(FileNotFoundError):
        waiting_files(tmp_path / "missing")


def test_every_deployment_parameter_is_a_parameter_of_its_flow() -> None:
    for spec in read_specs():
        known = set(spec.load_flow().parameters.properties)
        assert set(spec.parameters) <= known, (spec.name, set(spec.parameters) - known)
        assert known & {"config", "configs"}, f"{spec.name}: the council's config is a parameter"
