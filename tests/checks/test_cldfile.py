"""Reading submission files back: encodings, gzip, header styles, release detection."""

from __future__ import annotations

import gzip

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines.cldfile import CldFileError, read_cld, read_cld_info
from tests.checks.conftest import frame_of


def _csv(spec, style: str, rows: list[dict]) -> str:
    frame = frame_of(spec, rows).drop("_row")
    return frame.rename(dict(zip(spec.field_names, spec.headers(style), strict=True))).write_csv()


@pytest.mark.parametrize("release", ["R1", "R2"])
@pytest.mark.parametrize("style", ["label", "database"])
def test_round_trip_detects_release_and_style(tmp_path, release, style):
    spec = load_spec(release)
    p = tmp_path / "f.csv"
    p.write_bytes(_csv(spec, style, [{}, {"Event_Description": "café"}]).encode("cp1252"))
    frame, got, info = read_cld_info(p)
    assert got.release == release and info.header_style == style
    assert frame.columns[: len(spec.field_names)] == spec.field_names
    assert all(dt == pl.String for dt in frame.select(spec.field_names).dtypes)
    assert frame["_row"].to_list() == [0, 1]
    assert frame["Event_Description"].to_list() == [None, "café"]  # blank = null
    assert frame["_team_id"].null_count() == 2


def test_gzip_utf8_and_bom_reported(tmp_path, spec_r1):
    p = tmp_path / "f.csv.gz"
    text = _csv(spec_r1, "label", [{"Event_Description": "naïve"}])
    p.write_bytes(gzip.compress(b"\xef\xbb\xbf" + text.encode("utf-8")))
    frame, _, info = read_cld_info(p)
    assert info.gzip and info.bom and info.encoding == "utf-8"
    assert frame["LA_Code"].to_list() == ["999"]  # first header intact despite the BOM
    assert frame["Event_Description"].to_list() == ["naïve"]
    assert any("byte-order mark" in n for n in info.notes)


def test_unknown_header_names_the_columns(tmp_path, spec_r1):
    text = _csv(spec_r1, "label", [{}]).replace("Gender", "Sex", 1)
    p = tmp_path / "f.csv"
    p.write_text(text, encoding="cp1252")
    with pytest.raises(CldFileError, match=r"missing columns: Gender.*unknown columns: Sex"):
        read_cld(p)


def test_release_forced_and_missing_file(tmp_path, spec_r1):
    p = tmp_path / "f.csv"
    p.write_text(_csv(spec_r1, "database", [{}]), encoding="cp1252")
    with pytest.raises(CldFileError, match="R2 CLD specification"):
        read_cld(p, release="R2")
    with pytest.raises(CldFileError, match="no such file"):
        read_cld(tmp_path / "nope.csv")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(CldFileError, match=r"e\.csv: the file is empty"):
        read_cld(empty)
    book = tmp_path / "book.xlsx"
    frame_of(spec_r1, [{}]).drop("_row").write_excel(book)
    with pytest.raises(CldFileError, match=r"book\.xlsx: an Excel workbook .* CSV"):
        read_cld(book)


def test_a_file_without_its_header_is_named_without_repeating_the_data(tmp_path, spec_r1):
    """The first line is then a data row: its values (NHS number, names) must not be echoed,
    and blank cells in it must not crash the reader."""
    row = {"NHS_Number": "9434765919", "First_Name": "Ada", "Last_Name": "Zyxwv"}
    text = _csv(spec_r1, "label", [row])
    p = tmp_path / "f.csv"
    p.write_text(text.split("\n", 1)[1], encoding="cp1252")  # header line dropped
    with pytest.raises(CldFileError, match="header row missing") as err:
        read_cld(p)
    assert "9434765919" not in str(err.value) and "Zyxwv" not in str(err.value)


def test_an_unreadable_csv_does_not_quote_its_cells(tmp_path, spec_r1):
    text = _csv(spec_r1, "label", [{}])
    p = tmp_path / "f.csv"
    p.write_text(text + '"9434765919,Zyxwv\n', encoding="cp1252")  # unterminated quote
    with pytest.raises(CldFileError, match="line 3: a quote is opened and not closed") as err:
        read_cld(p)
    assert "9434765919" not in str(err.value) and "Zyxwv" not in str(err.value)


def test_a_column_named_twice_is_named_as_the_duplicate(tmp_path, spec_r1):
    """A header naming a column twice (here Gender, in place of Ethnicity) names it."""
    text = _csv(spec_r1, "label", [{}]).replace("Ethnicity", "Gender", 1)
    p = tmp_path / "f.csv"
    p.write_text(text, encoding="cp1252")
    with pytest.raises(
        CldFileError, match=r"duplicated columns: Gender; missing columns: Ethnicity"
    ):
        read_cld(p)


def test_a_large_file_comes_back_one_chunk_per_column(tmp_path, spec_r2):
    """polars reads a large file in several chunks; both readers hand the checks one chunk
    per column (a chunked frame is copied whole by every later query), values in order."""
    from pipelines.cldfile import read_cld_for_check

    n = 20_000
    rows = [{"LA_Person_Unique_Identifier": str(100000 + i)} for i in range(n)]
    p = tmp_path / "big.csv"
    p.write_text(_csv(spec_r2, "label", rows))
    assert pl.read_csv(p, infer_schema=False)[spec_r2.headers("label")[0]].n_chunks() > 1
    for frame in (read_cld_info(p)[0], read_cld_for_check(p)[0]):
        assert {frame[c].n_chunks() for c in frame.columns} == {1}
        assert frame.height == n
        ids = frame["LA_Person_Unique_Identifier"].to_list()
        assert ids == [str(100000 + i) for i in range(n)]
