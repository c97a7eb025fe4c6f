"""The submission writer: exact headers and order, Windows-1252 without BOM, empty cells,
CSV-injection guard, gzip, and atomic replacement."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines import submission
from pipelines.submission import SubmissionError, write_submission

SPEC = load_spec("R1")


def cld_frame(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    """A CLD frame with the spec's columns (all String), internal columns after."""
    full = [{f: r.get(f) for f in SPEC.field_names} for r in rows]
    frame = pl.DataFrame(full, schema={f: pl.String for f in SPEC.field_names}, orient="row")
    return frame.with_row_index("_row").select(
        *SPEC.field_names, "_row", pl.lit("1").alias("_person_id")
    )


ROWS = [
    {"LA_Code": "999", "LA_Person_Unique_Identifier": "1", "Gender": "Female",
     "Event_Type": "Service", "Unit_Cost": "-3.50", "Event_Description": "Café, \"quoted\""},
    {"LA_Code": "999", "LA_Person_Unique_Identifier": "2", "Gender": None, "Event_Type": "",
     "Event_Description": "line one\nline two"},
]


@pytest.mark.parametrize("style", ["label", "database"])
def test_header_order_encoding_and_empty_cells(tmp_path: Path, style: str) -> None:
    path = write_submission(cld_frame(ROWS), SPEC, tmp_path / "out.csv", style)
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # no BOM
    assert "Café".encode("cp1252") in raw  # Windows-1252, not UTF-8
    text = raw.decode("cp1252")
    assert "NULL" not in text
    back = pl.read_csv(raw, encoding="windows-1252", infer_schema=False)
    assert back.columns == SPEC.headers(style)
    assert back.height == 2
    col = dict(zip(SPEC.field_names, back.columns, strict=True))
    assert back.get_column(col["Unit_Cost"]).to_list() == ["-3.50", None]
    assert back.get_column(col["Event_Description"]).to_list() == [
        'Café, "quoted"', "line one\nline two"]
    # '' and None both become an empty cell: nothing between the delimiters
    second = text.split("\r\n")[2]
    assert second.startswith("999,,,,2,")
    assert ',"",' not in second  # an empty text is not written as a quoted empty string
    assert "_row" not in text and "_person_id" not in text


def test_gzip(tmp_path: Path) -> None:
    path = write_submission(cld_frame(ROWS), SPEC, tmp_path / "out.csv", "label", gzip=True)
    assert path.name == "out.csv.gz"
    plain = write_submission(cld_frame(ROWS), SPEC, tmp_path / "plain.csv", "label")
    assert gzip.decompress(path.read_bytes()) == plain.read_bytes()


@pytest.mark.parametrize("value", ["=SUM(A1)", "+44", "@cmd", "-x", "- 3", "-"])
def test_formula_like_value_is_an_error_naming_field_and_row(tmp_path: Path, value: str) -> None:
    rows = [ROWS[0], {**ROWS[1], "Event_Description": value}]
    with pytest.raises(SubmissionError, match=r"row 1, field Event_Description"):
        write_submission(cld_frame(rows), SPEC, tmp_path / "out.csv", "label")
    assert not (tmp_path / "out.csv").exists()


def test_null_text_is_refused(tmp_path: Path) -> None:
    rows = [{**ROWS[0], "Postcode": "NULL"}]
    with pytest.raises(SubmissionError, match="row 0, field Postcode"):
        write_submission(cld_frame(rows), SPEC, tmp_path / "out.csv", "label")


def test_unencodable_character_is_an_error_not_replaced(tmp_path: Path) -> None:
    rows = [ROWS[0], {**ROWS[1], "Last_Name": "Nguyễn"}]  # ễ is not in Windows-1252
    with pytest.raises(SubmissionError, match="row 1, field Last_Name") as err:
        write_submission(cld_frame(rows), SPEC, tmp_path / "out.csv", "label")
    assert "Nguy" not in str(err.value)  # personal data is not echoed
    assert not list(tmp_path.iterdir())


def test_failure_mid_write_keeps_the_old_file_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.csv"
    write_submission(cld_frame(ROWS[:1]), SPEC, target, "label")
    before = target.read_bytes()

    calls = {"n": 0}
    real = submission._csv_lines

    def failing(data: pl.DataFrame, header: list[str] | None) -> str:
        calls["n"] += 1
        if calls["n"] == 3:  # header and first chunk written, then the disk "fails"
            raise OSError("disk full")
        return real(data, header)

    monkeypatch.setattr(submission, "CHUNK_ROWS", 1)
    monkeypatch.setattr(submission, "_csv_lines", failing)
    with pytest.raises(OSError, match="disk full"):
        write_submission(cld_frame(ROWS * 3), SPEC, target, "label")
    assert calls["n"] == 3
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_missing_spec_field_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SubmissionError, match="Gender"):
        write_submission(cld_frame(ROWS).drop("Gender"), SPEC, tmp_path / "x.csv", "label")
