"""Writer → reader round trip: what the build writes, ``read_cld`` reads back unchanged
(field values, release, header style), for both releases, both header styles, gzip or not."""

from __future__ import annotations

from pathlib import Path

import pytest

from cld_schema import load_spec
from pipelines.cldfile import read_cld_info
from pipelines.submission import write_submission
from pipelines.transform import transform
from tests.transform.test_journeys import MAPPINGS, PERIOD, TABLES
from tests.transform.world import world


@pytest.mark.parametrize(
    ("release", "style", "gz"),
    [("R1", "label", False), ("R2", "database", True), ("R2", "label", False)],
)
def test_written_file_reads_back_the_same(tmp_path: Path, release: str, style: str, gz: bool):
    res = transform(world(**TABLES), None, PERIOD, release, MAPPINGS, "999")
    spec = load_spec(release)
    path = write_submission(res.frame, spec, tmp_path / "cld.csv", style, gzip=gz)
    back, back_spec, info = read_cld_info(path)
    assert (back_spec.release, info.header_style) == (release, style)
    assert info.gzip is gz
    assert not info.bom
    assert back.select(spec.field_names).equals(res.frame.select(spec.field_names))
