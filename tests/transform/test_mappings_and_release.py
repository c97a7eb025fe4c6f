"""Mapping tables are checked when loaded; Release 2 output converts via the @R2 columns or the
spec's R1→R2 map, and reports what has no R2 value."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines.mappings import MappingError, load_mappings
from pipelines.transform import transform
from tests.transform.test_journeys import MAPPINGS, PERIOD, TABLES, step
from tests.transform.world import world

SAMPLE_MAPPINGS = Path(__file__).resolve().parents[2] / "data" / "sample" / "mappings"


def test_sample_council_mappings_load() -> None:
    m = load_mappings(SAMPLE_MAPPINGS)
    assert {"step_type", "gender", "service", "outcome"} <= set(m.tables)
    assert m.table("service").fields == ("Service_Type", "Service_Component")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(MAPPINGS, target)
    return target


def test_value_not_in_defined_list_names_file_line_and_value(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "gender.csv").write_text(
        "local_code,description,Gender\nM,Male,Male\nF,Female,Femal\n", encoding="utf-8"
    )
    with pytest.raises(MappingError, match=r"gender\.csv: line 3: Gender value 'Femal'"):
        load_mappings(d)


def test_r2_override_checked_against_release_2(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "accommodation.csv").write_text(
        "local_code,description,Accommodation_Status,Accommodation_Status@R2\n"
        "TENLA,Council tenant,Tenant,Tenant\n",  # 'Tenant' is R1 only
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match=r"line 2: Accommodation_Status@R2 value 'Tenant'.*R2"):
        load_mappings(d)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("local_code,description,Gendre\nM,Male,Male\n", "column 'Gendre' is not a Release 1"),
        ("local_code,description,Gender\nM,Male,Male\nM,Man,Male\n", "line 3: local_code 'M'"),
        ("code,description,Gender\nM,Male,Male\n", "no 'local_code' column"),
        ("local_code,description,Gender\n,Male,Male\n", "line 2: empty local_code"),
        ('local_code,description,Gender\n"M,Male\n', r"gender\.csv: cannot be read as CSV: \w[^\n`]*$"),
    ],
)
def test_broken_tables_fail_at_load(tmp_path: Path, text: str, message: str) -> None:
    d = _copy(tmp_path)
    (d / "gender.csv").write_text(text, encoding="utf-8")
    with pytest.raises(MappingError, match=message):
        load_mappings(d)


def test_missing_step_type_table_is_a_clear_error(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    (d / "step_type.csv").unlink()
    with pytest.raises(MappingError, match=r"step_type\.csv is missing"):
        transform(world(**TABLES), None, PERIOD, "R1", d, "999")


def test_unmapped_step_type_is_reported_and_left_out() -> None:
    tables = dict(TABLES)
    tables["workflow_steps"] = [
        *TABLES["workflow_steps"],
        step(120, 1, "NEWTYPE", "COMP", "2024-10-01", "2024-10-02"),
        step(121, 1, "NEWTYPE", "COMP", "2024-10-03", "2024-10-04"),
    ]
    res = transform(world(**tables), None, PERIOD, "R1", MAPPINGS, "999")
    assert "120" not in res.frame.get_column("_step_id").to_list()
    assert res.excluded["unmapped_step_type"] == 2
    row = res.unmapped.filter(pl.col("code") == "NEWTYPE").to_dicts()
    assert row == [{"mapping": "step_type.csv", "field": "Event_Type", "code": "NEWTYPE", "rows": 2}]


@pytest.fixture(scope="module")
def r2():
    tables = dict(TABLES)
    tables["workflow_steps"] = [
        *TABLES["workflow_steps"],
        step(114, 1, "CONTACT", "COMP", "2024-10-01", "2024-10-02", "EOL"),  # no R2 value
    ]
    return transform(world(**tables), None, PERIOD, "R2", MAPPINGS, "999")


def test_release_2_fields_and_texts(r2) -> None:
    spec = load_spec("R2")
    frame = r2.frame
    assert frame.columns[: len(spec.field_names)] == spec.field_names
    assert "First_Name" not in frame.columns  # not an R2 field
    rows = {r["_step_id"]: r for r in frame.to_dicts()}
    assert rows["201"]["Client_Type"] == "Service user"
    assert rows["201"]["Event_Outcome"] == "Continuation of support or services"
    assert rows["110"]["Client_Type"] == "Unpaid carer"
    assert rows["110"]["Primary_Support_Reason"] == "Social support: Support to unpaid carer"
    assert rows["relationship:2"]["Client_Type"] == "Unpaid carer known by association"
    assert rows["201"]["Service_Type"] == "Long term support: Community"
    # @R2 override column wins over the spec's map (Carol's council tenancy)
    assert rows["206"]["Accommodation_Status"] == (
        "Tenant: Local authority or other social housing provider")
    for f in spec.field_names:
        allowed = spec.values(f)
        if allowed:
            vals = set(frame.get_column(f).drop_nulls().to_list())
            assert vals <= set(allowed), (f, vals - set(allowed))


def test_release_2_value_without_mapping_is_reported_not_guessed(r2) -> None:
    row = r2.frame.filter(pl.col("_step_id") == "114").row(0, named=True)
    assert row["Event_Outcome"] is None
    lost = r2.unmapped.filter(pl.col("field") == "Event_Outcome").to_dicts()
    assert lost == [{"mapping": "cld_schema R1→R2", "field": "Event_Outcome",
                     "code": "Progress to End of Life Care", "rows": 1}]
