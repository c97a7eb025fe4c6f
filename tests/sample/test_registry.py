"""One function per defect kind: the registry of pipelines/sample/defects.py and
data/sample/defect_kinds.csv name the same kinds, and a difference is refused in one line."""

from __future__ import annotations

import csv
import dataclasses

import pytest

from pipelines.sample import generate
from pipelines.sample.data import DATA_DIR, load_sample_data
from pipelines.sample.defects import (
    REGISTRY,
    STAGES,
    DefectKindsError,
    check_kinds,
    defect,
    registered,
)


def _rows() -> list[dict[str, str]]:
    with (DATA_DIR / "defect_kinds.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_each_listed_kind_has_one_function_and_each_function_one_row():
    check_kinds(_rows())  # raises if they differ
    listed = [r["kind"] for r in _rows()]
    assert sorted(listed) == sorted(REGISTRY)
    assert sorted(d.kind for s in STAGES for d in registered(s)) == sorted(listed)


def _refused(rows: list[dict[str, str]]) -> str:
    with pytest.raises(DefectKindsError) as got:
        check_kinds(rows)
    message = str(got.value)
    assert "\n" not in message
    return message


def test_a_row_without_a_function_is_named():
    message = _refused([*_rows(), {"kind": "missing_shoe_size"}])
    assert "no @defect function: missing_shoe_size" in message


def test_a_function_without_a_row_is_named():
    rows = _rows()
    gone = rows[len(rows) // 2]["kind"]
    message = _refused([r for r in rows if r["kind"] != gone])
    assert f"no row in defect_kinds.csv: {gone}" in message
    assert message.count(",") == 0  # only that kind


def test_a_kind_listed_twice_is_named():
    rows = _rows()
    message = _refused([*rows, rows[0]])
    assert f"listed twice in defect_kinds.csv: {rows[0]['kind']}" in message


def test_a_second_function_for_a_kind_is_refused():
    before = dict(REGISTRY)
    with pytest.raises(DefectKindsError, match=r"missing_gender.* has two functions"):

        @defect("missing_gender")
        def _again(db) -> None:
            pass

    assert before == REGISTRY


def test_generate_refuses_kinds_that_differ(tmp_path):
    data = load_sample_data()
    fewer = dataclasses.replace(data, defect_kinds=data.defect_kinds[1:])
    gone = data.defect_kinds[0]["kind"]
    with pytest.raises(DefectKindsError, match=f"no row in defect_kinds.csv: {gone}"):
        generate(tmp_path / "council.db", people=50, defects=1, data=fewer)
    assert not (tmp_path / "council.db").exists()
    # without defects the kinds are not used, so not checked
    generate(tmp_path / "clean" / "council.db", people=50, defects=0, data=fewer)
