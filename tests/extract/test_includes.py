"""``-- include: name`` in an extract query: the shared scope SQL written once (issue 17, d5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.source.extract import ExtractError, load_queries
from tests.extract.conftest import SQL_DIR

PEOPLE = [
    "allocations", "financial_assessments", "person_addresses", "person_conditions",
    "person_employment", "person_gp_registrations", "person_support_reasons", "persons",
]  # fmt: skip
STEPS = ["step_assessment_details", "step_contact_details", "step_review_details"]


def test_the_scope_subqueries_are_written_once_and_expanded() -> None:
    people = (SQL_DIR / "include" / "people_in_scope.sql").read_text(encoding="utf-8")
    queries = {q.name: q for q in load_queries(SQL_DIR)}
    assert "include" not in queries  # the include folder holds no query
    for name in PEOPLE + STEPS:
        text = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
        wanted = "people_in_scope" if name in PEOPLE else "steps_in_scope"
        assert f"-- include: {wanted}" in text, name
        assert "UNION" not in text and "previous_step_id" not in text, name  # not copied
        assert "carer_relationships r" in queries[name].sql or name in STEPS
        assert "-- include" not in queries[name].sql and "--" not in queries[name].sql
    assert "SELECT r.cared_for_person_id FROM carer_relationships r" in people
    assert "SELECT w.previous_step_id FROM workflow_steps w" in queries["step_review_details"].sql


def _folder(tmp_path: Path, query: str, include: str | None = None) -> Path:
    (tmp_path / "q.sql").write_text(query, encoding="utf-8")
    if include is not None:
        (tmp_path / "include").mkdir()
        (tmp_path / "include" / "ids.sql").write_text(include, encoding="utf-8")
    return tmp_path


def test_an_include_is_indented_like_its_directive(tmp_path: Path) -> None:
    q = "SELECT x FROM t WHERE x IN (\n    -- include: ids\n)\n"
    (query,) = load_queries(_folder(tmp_path, q, "-- why\nSELECT id FROM u\nWHERE id > 0\n"))
    assert "\n    SELECT id FROM u\n    WHERE id > 0\n)" in query.sql


def test_an_unknown_include_names_the_file(tmp_path: Path) -> None:
    q = "SELECT x FROM t WHERE x IN (\n    -- include: people_in_scop\n)\n"
    with pytest.raises(ExtractError, match=r"q\.sql: unknown include 'people_in_scop'"):
        load_queries(_folder(tmp_path, q, "SELECT 1"))


@pytest.mark.parametrize("name", ["../persons", "People", ""])
def test_an_include_name_is_a_plain_name(tmp_path: Path, name: str) -> None:
    q = f"SELECT x FROM t WHERE x IN (\n    -- include: {name}\n)\n"
    with pytest.raises(ExtractError, match=r"q\.sql: include name"):
        load_queries(_folder(tmp_path, q, "SELECT 1"))


def test_an_include_cannot_include_another(tmp_path: Path) -> None:
    q = "SELECT x FROM t WHERE x IN (\n    -- include: ids\n)\n"
    with pytest.raises(ExtractError, match=r"ids\.sql: an include file cannot include another"):
        load_queries(_folder(tmp_path, q, "-- include: ids\n"))
