"""The sample database hangs together: every foreign key resolves, journeys run in order."""

from __future__ import annotations

import sqlite3

import pytest

from pipelines.source.tables import metadata


def _rows(db, sql: str) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def _foreign_keys() -> list[tuple[str, str, str, str]]:
    out = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            out.append((table.name, fk.parent.name, fk.column.table.name, fk.column.name))
    return out


# links the schema does not declare as foreign keys but the generator promises
_SOFT_LINKS = [
    ("workflow_steps", "previous_step_id", "workflow_steps", "step_id"),
    ("service_agreements", "source_step_id", "workflow_steps", "step_id"),
    ("service_agreements", "cared_for_person_id", "persons", "person_id"),
]


@pytest.mark.parametrize("link", _foreign_keys() + _SOFT_LINKS, ids=lambda x: ".".join(x[:2]))
def test_every_reference_resolves(council, link):
    child, col, parent, pcol = link
    orphans = _rows(
        council.db,
        f"SELECT COUNT(*) FROM {child} c WHERE c.{col} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM {parent} p WHERE p.{pcol} = c.{col})",
    )[0][0]
    assert orphans == 0
    present = _rows(council.db, f"SELECT COUNT(*) FROM {child} WHERE {col} IS NOT NULL")[0][0]
    assert present > 0, f"{child}.{col} is never filled: the link is not exercised"


def test_every_table_has_rows(council):
    assert all(n > 0 for n in council.counts.values()), council.counts


def test_step_details_match_step_kinds(council):
    wrong = _rows(
        council.db,
        "SELECT COUNT(*) FROM step_contact_details d JOIN workflow_steps s USING (step_id) "
        "WHERE s.step_type_code <> 'CONTACT'",
    )[0][0]
    assert wrong == 0
    missing = _rows(
        council.db,
        "SELECT COUNT(*) FROM workflow_steps s WHERE s.step_type_code = 'CONTACT' AND NOT EXISTS "
        "(SELECT 1 FROM step_contact_details d WHERE d.step_id = s.step_id)",
    )[0][0]
    assert missing == 0
