"""Volumes of a sample database over a 12-month window, counted the way a CLD file would hold
them (rules.md section 1): completed requests/assessments/reviews that finish in the window,
services active at any time in it, and the people behind them. Used by the volume tests and the
benchmark to compare the generator with shared/reference/cld/volumes.md."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from pipelines.sample.defects import IN_SCOPE_TYPES


def window_volumes(db: Path, start: date, end: date) -> dict[str, int]:
    s, e = start.isoformat(), end.isoformat()
    types = ",".join(f"'{t}'" for t in IN_SCOPE_TYPES)
    with sqlite3.connect(db) as conn:
        steps = conn.execute(
            f"SELECT step_type_code, COUNT(*) FROM workflow_steps WHERE status_code = 'COMP' "
            f"AND completed_on BETWEEN ? AND ? AND step_type_code IN ({types}) "
            f"GROUP BY step_type_code",
            (s, e),
        ).fetchall()
        services = conn.execute(
            "SELECT COUNT(*) FROM service_agreements WHERE status_code IN ('ACT','END','SUSP') "
            "AND start_date <= ? AND (end_date IS NULL OR end_date >= ?)",
            (e, s),
        ).fetchone()[0]
        people = conn.execute(
            f"SELECT COUNT(*) FROM (SELECT person_id FROM workflow_steps WHERE status_code='COMP' "
            f"AND completed_on BETWEEN ? AND ? AND step_type_code IN ({types}) UNION "
            f"SELECT person_id FROM service_agreements WHERE status_code IN ('ACT','END','SUSP') "
            f"AND start_date <= ? AND (end_date IS NULL OR end_date >= ?))",
            (s, e, e, s),
        ).fetchone()[0]
    by_kind = {"Request": 0, "Assessment": 0, "Review": 0}
    for code, n in steps:
        by_kind[IN_SCOPE_TYPES[code]] += n
    out = {
        "people": people,
        "requests": by_kind["Request"],
        "assessments": by_kind["Assessment"],
        "reviews": by_kind["Review"],
        "services": services,
    }
    out["rows"] = out["requests"] + out["assessments"] + out["reviews"] + services
    return out
