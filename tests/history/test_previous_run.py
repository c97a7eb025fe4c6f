"""Which run is "the previous run" of a run (team lists' this run against the previous one):
a file checked on its own and recorded (kind check) never stands in for the council's own."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.history import History
from pipelines.history.read import previous_run


def test_a_recorded_file_check_is_not_the_previous_run_of_a_build(tmp_path: Path) -> None:
    found = pl.DataFrame({"rule_id": ["LOG001"], "severity": ["error"]})
    ids = {}
    with History.open(tmp_path / "h.duckdb") as h:
        for name, kind in (("nightly", "nightly"), ("file", "check"), ("build", "build"),
                           ("file again", "check")):
            with h.run(kind, "2025-26Q4", "R2") as run:
                run.add_findings(found)
                ids[name] = run.id
        assert previous_run(h, ids["build"]) == ids["nightly"]  # not the file checked between
        assert previous_run(h, ids["file"]) == ids["nightly"]
        assert previous_run(h, ids["file again"]) == ids["build"]
        assert previous_run(h, ids["nightly"]) is None
