"""A council with nothing in the period still gets a well-formed (header-only) result."""

from __future__ import annotations

from pathlib import Path

from cld_schema import load_spec
from pipelines.submission import write_submission
from pipelines.transform import transform
from tests.transform.test_journeys import MAPPINGS, PERIOD
from tests.transform.world import world


def test_no_events_gives_an_empty_frame_and_a_header_only_file(tmp_path: Path) -> None:
    res = transform(world(), None, PERIOD, "R2", MAPPINGS, "999")
    spec = load_spec("R2")
    assert res.frame.height == 0
    assert res.frame.columns[: len(spec.field_names)] == spec.field_names
    assert (res.counts, res.excluded, res.unmapped.height) == ({}, {}, 0)
    path = write_submission(res.frame, spec, tmp_path / "empty.csv", "label")
    assert path.read_bytes() == (",".join(spec.headers("label")) + "\r\n").encode("cp1252")
