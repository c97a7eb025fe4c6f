"""Hand-built source tables for the golden journeys: tiny dicts → typed frames, no generator.

Every table of the case-management schema is present (empty unless given), with the column
types the extract hands over (``pipelines.source.tables.expected_schema``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from pipelines.source.tables import expected_schema, metadata

D = date.fromisoformat


def frames(**rows: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    """One typed frame per schema table; dates may be given as ISO text."""
    out = {}
    for name in metadata.tables:
        schema = expected_schema(name)
        assert schema is not None
        given = rows.pop(name, [])
        fixed = [
            {c: (D(v) if schema[c] == pl.Date() and isinstance(v, str) else v) for c, v in r.items()}
            for r in given
        ]
        full = [{c: r.get(c) for c in schema} for r in fixed]
        out[name] = pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(
            schema=schema
        )
    assert not rows, f"unknown tables {list(rows)}"
    return out


BASE: dict[str, list[dict[str, Any]]] = {
    "teams": [{"team_id": 1, "team_name": "Older People North"}],
    "workers": [{"worker_id": 11, "team_id": 1, "worker_name": "Sam Worker"}],
    "gp_practices": [{"practice_code": "A81001", "practice_name": "Riverside Surgery"}],
    "providers": [
        {"provider_id": 1, "provider_name": "Kind Care Ltd", "cqc_location_id": "1-101",
         "cqc_location_name": "Kind Care Riverside"},
    ],
}


def world(**rows: list[dict[str, Any]]) -> dict[str, pl.DataFrame]:
    merged = {k: list(v) for k, v in BASE.items()}
    for k, v in rows.items():
        merged.setdefault(k, []).extend(v)
    return frames(**merged)
