"""docs/cqc.md prints every figure's definition exactly as figures.yaml holds it."""

from __future__ import annotations

from pipelines.cqc.figures import FIGURES, definitions
from tests.conftest import PROJECT_ROOT


def test_docs_carry_every_definition() -> None:
    text = " ".join((PROJECT_ROOT / "docs" / "cqc.md").read_text(encoding="utf-8").split())
    d = definitions()
    assert set(d["figures"]) == set(FIGURES)  # one declared unit per defined figure
    for fid, f in d["figures"].items():
        assert f"**{fid} {f['title']}**" in text, fid
        assert " ".join(f["definition"].split()) in text, fid
