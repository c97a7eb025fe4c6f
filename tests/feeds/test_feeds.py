"""Provider feeds: encodings and XLSX, contract breaches to quarantine, matching people."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.source.feeds import FeedError, load_contracts, read_feeds

CONTRACTS = Path(__file__).resolve().parents[2] / "data" / "sample" / "contracts"

# The case records the feeds are matched against (as the extract's person_index gives them).
PERSONS = pl.DataFrame(
    {
        "person_id": [1, 2, 3, 4, 5],
        "nhs_number": ["9434765919", "9434765870", None, "9434765862", "9434765862"],
        "date_of_birth": [date(1970, 1, 1), date(1960, 2, 29), date(1955, 5, 5), None, None],
        "gender_code": ["F", "M", "F", "M", "F"],
    }
)

HEADER = [
    "Record ID", "Carer NHS Number", "Carer Council ID", "Carer Surname", "Carer Date of Birth",
    "Carer Gender", "Carer Postcode", "Cared For Council ID", "Activity Type",
    "Activity Start Date", "Activity End Date", "Support Type", "Outcome",
    "Hours Caring per Week",
]  # fmt: skip

# Each row: why it is there. Lines in the file are row index + 2 (line 1 is the header).
ROWS = [
    ["C1", "9434765919", "1", "Ó Briain", "01/01/1970", "F", "LS1 4AP", "2", "ASSESSMENT",
     "03/04/2024", "10/04/2024", "", "SUPPORTED", "50+"],  # id and NHS agree: clean match
    ["C2", "943 476 5870", "2", "Smith", "29/02/1960", "M", "", "", "REVIEW",
     "5/6/2024", "", "", "", ""],  # NHS with spaces, d/m/yyyy date: clean match
    ["C3", "9434765919", "2", "Jones", "29/02/1960", "M", "", "", "SUPPORT",
     "01/07/2024", "", "RESPITE", "", ""],  # id 2 but person 1's NHS number: nhs conflict
    ["C4", "", "3", "Brown", "06/05/1955", "M", "", "", "SUPPORT",
     "01/07/2024", "", "SITTING", "", ""],  # DOB and gender disagree with person 3
    ["C5", "9434765870", "", "Green", "", "", "", "", "ASSESSMENT",
     "02/08/2024", "", "", "", ""],  # no id: matched by NHS number to person 2
    ["C6", "9434765811", "", "Black", "", "", "", "", "ASSESSMENT",
     "02/08/2024", "", "", "", ""],  # no id, unknown NHS number: unmatched
    ["C7", "", "999", "White", "", "", "", "", "REVIEW",
     "02/08/2024", "", "", "", ""],  # id not on the system: unmatched
    ["C8", "", "", "Grey", "", "", "", "", "REVIEW",
     "02/08/2024", "", "", "", ""],  # nothing to match on: unmatched
    ["C9", "9434765862", "", "Dup", "", "", "", "", "REVIEW",
     "02/08/2024", "", "", "", ""],  # NHS number on two case records: unmatched
    ["C10", "", "1", "Plum", "", "", "", "", "",
     "02/08/2024", "", "", "", ""],  # required Activity Type blank: row left out
    ["C11", "", "1", "Plum", "", "", "", "", "SUPPORT",
     "02/08/2024", "31/13/2024", "PICNIC", "", ""],  # bad optional values: blanked, kept
]  # fmt: skip


def _csv_text(rows=ROWS, header=HEADER) -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if ("," in v or '"' in v) else v

    return "\r\n".join(",".join(cell(v) for v in r) for r in [header, *rows]) + "\r\n"


def _write_xlsx(path: Path, rows=ROWS, header=HEADER) -> None:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Carers")
    datef = wb.add_format({"num_format": "dd/mm/yyyy"})
    ws.write_row(0, 0, header)
    for i, row in enumerate(rows, 1):
        for j, v in enumerate(row):
            name = header[j]
            if "Date" in name and v and name != "Activity End Date":
                d, m, y = (int(x) for x in v.split("/"))
                ws.write_datetime(i, j, datetime(y, m, d), datef)  # a real Excel date cell
            elif name == "Carer NHS Number" and v.isdigit():
                ws.write_number(i, j, int(v))  # Excel turns long ids into numbers
            elif v:
                ws.write_string(i, j, v)
    wb.close()


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    feeds, quarantine = tmp_path / "feeds", tmp_path / "quarantine"
    feeds.mkdir()
    return feeds, quarantine


def _read(feeds: Path, quarantine: Path):
    return read_feeds(feeds, CONTRACTS, quarantine, PERSONS)


def _content(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop("_file").sort("_line")


def test_every_encoding_and_xlsx_read_the_same(tmp_path: Path) -> None:
    text = _csv_text()
    variants = {
        "carers_utf8.csv": lambda p: p.write_bytes(text.encode("utf-8")),
        "carers_bom.csv": lambda p: p.write_bytes(text.encode("utf-8-sig")),
        "carers_1252.csv": lambda p: p.write_bytes(text.encode("cp1252")),
        "carers_1252_bom.csv": lambda p: p.write_bytes(b"\xef\xbb\xbf" + text.encode("cp1252")),
        "carers_book.xlsx": _write_xlsx,
    }
    got = {}
    for name, write in variants.items():
        feeds = tmp_path / name / "feeds"
        feeds.mkdir(parents=True)
        write(feeds / name)
        result = read_feeds(feeds, CONTRACTS, tmp_path / name / "q", PERSONS)
        assert result.quarantined == [] and result.processed == [name]
        got[name] = (
            _content(result.frames["carers"]),
            result.unmatched.drop("file"),
            result.conflicts.drop("file"),
            result.row_errors.drop("file"),
        )
    first = got["carers_utf8.csv"]
    assert first[0].height == 6  # 11 rows: 1 left out (blank required value), 4 unmatched
    for name, parts in got.items():
        for a, b in zip(parts, first, strict=True):
            assert a.equals(b), name
    c1 = first[0].filter(pl.col("Record ID") == "C1")
    assert c1["Carer Surname"].item() == "Ó Briain"
    assert c1["Activity Start Date"].item() == date(2024, 4, 3)
    assert first[0].schema["Carer Date of Birth"] == pl.Date


def test_matching_unmatched_and_conflicts(dirs) -> None:
    feeds, quarantine = dirs
    (feeds / "carers_2024_08.csv").write_text(_csv_text(), encoding="utf-8")
    result = _read(feeds, quarantine)
    frame = result.frames["carers"]
    matched = dict(zip(frame["Record ID"], frame["_person_id"], strict=True))
    assert matched == {"C1": 1, "C2": 2, "C3": 2, "C4": 3, "C5": 2, "C11": 1}
    assert frame.filter(pl.col("Record ID") == "C5")["_matched_by"].item() == "nhs_number"
    unmatched = {r["line"]: r["reason"] for r in result.unmatched.iter_rows(named=True)}
    assert set(unmatched) == {7, 8, 9, 10}  # C6..C9
    assert "not found" in unmatched[7] and "person id not found" in unmatched[8]
    assert "more than one person" in unmatched[10]
    conflicts = {(r["line"], r["kind"]) for r in result.conflicts.iter_rows(named=True)}
    assert conflicts == {
        (4, "feed_nhs_conflict"),
        (5, "feed_dob_conflict"),
        (5, "feed_gender_conflict"),
    }
    # the lists name file, line and what is wrong, never the personal values
    for table in (result.unmatched, result.conflicts):
        text = str(table.to_dicts())
        assert "9434765" not in text and "1955" not in text


def test_row_errors_are_listed_not_lost(dirs) -> None:
    feeds, quarantine = dirs
    (feeds / "carers_2024_08.csv").write_text(_csv_text(), encoding="utf-8")
    result = _read(feeds, quarantine)
    errs = {(r["line"], r["column"], r["action"]) for r in result.row_errors.iter_rows(named=True)}
    assert errs == {
        (11, "Activity Type", "row left out"),
        (12, "Activity End Date", "value blanked"),
        (12, "Support Type", "value blanked"),
    }
    c11 = result.frames["carers"].filter(pl.col("Record ID") == "C11")
    assert c11["Activity End Date"].item() is None and c11["Support Type"].item() is None
    # every data row is accounted for: matched, unmatched or left out with a reason
    left_out = result.row_errors.filter(pl.col("action") == "row left out")["line"].n_unique()
    assert result.frames["carers"].height + result.unmatched.height + left_out == len(ROWS)


def _breach_files(feeds: Path) -> dict[str, str]:
    """file name -> a word the reason must contain."""
    renamed = [h if h != "Activity Type" else "Activity" for h in HEADER]
    (feeds / "carers_renamed.csv").write_text(_csv_text(header=renamed), encoding="utf-8")
    us_dates = [[*r[:9], "12/31/2024", *r[10:]] for r in ROWS]
    (feeds / "carers_usdates.csv").write_text(_csv_text(rows=us_dates), encoding="utf-8")
    (feeds / "carers_undecodable.csv").write_bytes(_csv_text().encode("utf-8") + b"\x81\x8d\xff")
    (feeds / "carers_empty.csv").write_bytes(b"")
    (feeds / "carers_ragged.csv").write_text(_csv_text() + "X,Y," * 30 + "\r\n")
    (feeds / "carers_damaged.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    # the header row left off: the first data row (NHS number, surname) must not be echoed
    (feeds / "carers_noheader.csv").write_text(_csv_text().split("\r\n", 1)[1])
    # an unterminated quote: polars quotes the cells in its error
    (feeds / "carers_badquote.csv").write_text(_csv_text() + '"9434765919,Smith\r\n')
    (feeds / "referrals_2024.csv").write_text(_csv_text(), encoding="utf-8")
    eq = "Order Number,NHS Number,Client ID,Client Surname,Date of Birth,Item Code,"
    eq += "Item Description,Quantity,Status,Delivery Date,Installation Date,Collection Date,"
    eq += "Unit Cost\r\nE1,,1,X,,BED1,Bed,two,DELIVERED,01/05/2024,,,12.50\r\n"
    (feeds / "equipment_badqty.csv").write_text(eq, encoding="utf-8")
    return {
        "carers_renamed.csv": "'Activity Type'",
        "carers_usdates.csv": "'Activity Start Date'",
        "carers_undecodable.csv": "decoded",
        "carers_empty.csv": "empty",
        "carers_ragged.csv": "CSV",
        "carers_damaged.xlsx": "workbook",
        "carers_noheader.csv": "header",
        "carers_badquote.csv": "CSV",
        "referrals_2024.csv": "no feed contract",
        "equipment_badqty.csv": "'Quantity'",
    }


def test_each_breach_is_quarantined_with_its_reason(dirs, caplog) -> None:
    feeds, quarantine = dirs
    expected = _breach_files(feeds)
    (feeds / "carers_good.csv").write_text(_csv_text(), encoding="utf-8")
    sizes = {p.name: p.stat().st_size for p in feeds.iterdir()}
    with caplog.at_level(logging.INFO, logger="pipelines.source.feeds"):
        result = _read(feeds, quarantine)
    got = {q.file: q.reason for q in result.quarantined}
    assert set(got) == set(expected)
    for name, word in expected.items():
        assert word in got[name], (name, got[name])
        assert "9434765" not in got[name] and "Briain" not in got[name]  # no personal data
        moved = next(quarantine.glob(f"*/{name}"))
        assert moved.stat().st_size == sizes[name]  # the whole file, unchanged
        note = moved.with_name(name + ".reason.txt").read_text()
        assert word in note and "Reason:" in note
        assert "9434765" not in note  # no NHS numbers in the reason
        assert not (feeds / name).exists()
    # nothing lost: every file is either processed (and left in place) or quarantined
    assert result.processed == ["carers_good.csv"]
    assert len(result.processed) + len(result.quarantined) == len(sizes)
    assert (feeds / "carers_good.csv").exists()
    assert result.frames["carers"].height == 6
    assert result.frames["equipment"].height == 0
    assert "9434765" not in caplog.text and "1970" not in caplog.text


def test_systematic_bad_dates_in_an_optional_column_quarantine(dirs) -> None:
    feeds, quarantine = dirs
    rows = [[*r[:10], "2024-12-31", *r[11:]] for r in ROWS]  # ISO instead of UK dates
    (feeds / "carers_x.csv").write_text(_csv_text(rows=rows), encoding="utf-8")
    result = _read(feeds, quarantine)
    assert [q.file for q in result.quarantined] == ["carers_x.csv"]
    assert "'Activity End Date' (optional)" in result.quarantined[0].reason
    assert f"{len(ROWS)} of {len(ROWS)} filled" in result.quarantined[0].reason


def test_an_optional_column_may_be_absent(dirs) -> None:
    feeds, quarantine = dirs
    keep = [i for i, h in enumerate(HEADER) if h != "Carer Gender"]
    rows = [[r[i] for i in keep] for r in ROWS]
    (feeds / "carers_x.csv").write_text(
        _csv_text(rows=rows, header=[HEADER[i] for i in keep]), encoding="utf-8"
    )
    result = _read(feeds, quarantine)
    assert result.quarantined == []
    assert result.frames["carers"]["Carer Gender"].null_count() == result.frames["carers"].height
    assert "feed_gender_conflict" not in result.conflicts["kind"].to_list()


def test_the_sample_contracts_load_and_a_broken_contract_is_named(tmp_path) -> None:
    names = {c.name for c in load_contracts(CONTRACTS)}
    assert names == {"carers", "equipment"}
    (tmp_path / "bad.yaml").write_text("name: x\ncolumns: [{name: A, type: datetime}]\n")
    with pytest.raises(FeedError, match=r"bad\.yaml"):
        load_contracts(tmp_path)


def test_an_equipment_workbook_is_typed_and_matched(dirs) -> None:
    feeds, quarantine = dirs
    header = [
        "Order Number", "NHS Number", "Client ID", "Client Surname", "Date of Birth", "Gender",
        "Item Code", "Item Description", "Quantity", "Status", "Delivery Date",
        "Installation Date", "Collection Date", "Unit Cost",
    ]  # fmt: skip
    wb = xlsxwriter.Workbook(str(feeds / "equipment_2024_09.xlsx"))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, header)
    ws.write_row(1, 0, ["E1", "", "2", "Smith", "", "M", "BED1", "Bed", 2, "DELIVERED"])
    ws.write_datetime(1, 10, datetime(2024, 9, 3), wb.add_format({"num_format": "dd/mm/yyyy"}))
    ws.write_number(1, 13, 125.5)
    ws.write_row(3, 0, ["E2", "9434765919", "", "X", "", "", "RAIL", "", 1, "INSTALLED"])
    wb.close()  # row 3 (line 3) left blank: ignored
    result = _read(feeds, quarantine)
    eq = result.frames["equipment"].sort("_line")
    assert eq["Order Number"].to_list() == ["E1", "E2"]
    assert eq["_line"].to_list() == [2, 4]
    assert eq["_person_id"].to_list() == [2, 1]
    assert eq.schema["Quantity"] == pl.Int64 and eq["Quantity"].to_list() == [2, 1]
    assert eq["Delivery Date"].to_list() == [date(2024, 9, 3), None]
    assert eq["Unit Cost"].to_list() == [125.5, None]
    assert result.frames["carers"].height == 0 and "_person_id" in result.frames["carers"].columns


def test_a_persons_frame_without_the_matching_columns_is_refused(dirs) -> None:
    feeds, quarantine = dirs
    with pytest.raises(FeedError, match="date_of_birth"):
        read_feeds(feeds, CONTRACTS, quarantine, PERSONS.drop("date_of_birth"))


def test_a_resent_row_replaces_the_earlier_one(dirs) -> None:
    feeds, quarantine = dirs
    (feeds / "carers_2024_08.csv").write_text(_csv_text(ROWS[:2]), encoding="utf-8")
    corrected = [[*ROWS[1][:11], "INFO", *ROWS[1][12:]]]  # C2 again with a support type
    (feeds / "carers_2024_08_resend.csv").write_text(_csv_text(corrected), encoding="utf-8")
    result = _read(feeds, quarantine)
    frame = result.frames["carers"]
    assert sorted(frame["Record ID"]) == ["C1", "C2"]
    c2 = frame.filter(pl.col("Record ID") == "C2")
    assert (c2["_file"].item(), c2["Support Type"].item()) == ("carers_2024_08_resend.csv", "INFO")
    dropped = result.row_errors.filter(pl.col("action") == "row left out")
    assert dropped.select("file", "line").rows() == [("carers_2024_08.csv", 3)]


def test_a_file_still_in_quarantine_is_reported_on_every_later_run_until_resent(dirs) -> None:
    feeds, quarantine = dirs
    (feeds / "carers_good.csv").write_text(_csv_text(), encoding="utf-8")
    (feeds / "carers_empty.csv").write_text("", encoding="utf-8")
    first = _read(feeds, quarantine)
    assert [q.file for q in first.quarantined] == ["carers_empty.csv"] and first.held == []
    # later runs: the file is no longer in the feeds folder, yet still missing from the build
    for _ in range(2):
        later = _read(feeds, quarantine)
        assert later.quarantined == []
        assert [q.file for q in later.held] == ["carers_empty.csv"]
        held = later.held[0]
        assert held.reason == first.quarantined[0].reason
        assert held.since == first.quarantined[0].since and held.since[:4].isdigit()
        assert held.moved_to is not None and held.moved_to.exists()
    # re-sent (corrected): read, and no longer reported, then or on any later run
    (feeds / "carers_empty.csv").write_text(_csv_text(), encoding="utf-8")
    resent = _read(feeds, quarantine)
    assert "carers_empty.csv" in resent.processed and resent.held == []
    (feeds / "carers_empty.csv").unlink()
    assert _read(feeds, quarantine).held == []
