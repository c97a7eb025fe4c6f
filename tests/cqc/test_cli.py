"""``cld cqc`` on the hand-built council: the workbook it writes (formula-safe, definitions
beside the figures), what it prints, and one clear line for bad options."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from cld_schema.errors import CldError
from pipelines.cli import app
from tests.cqc.journeys import Council, hand_built
from tests.flows.conftest import write_config


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cqccli")
    c: Council = hand_built()
    # a worker's free text that would run as a formula if a sheet let it
    c.team_names = ('=HYPERLINK("http://x")', "South Older People")
    db = base / "council.db"
    c.write(db)
    return write_config(base / "cfg", sample_db=db, feeds=base / "nofeeds")


def test_cli_writes_the_workbook_and_prints_headlines(council: Path, tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    out = tmp_path / "pack"
    r = runner.invoke(app, ["--config", str(council), "cqc", "--period", "2025-26Q4",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "W1 People awaiting a Care Act assessment (not started): 5; median 30 days" \
        in r.output
    assert "R1 Long-term clients with no review in 12 months: 3 of 11 (27.3%)" in r.output
    books = sorted(out.glob("*.xlsx"))
    assert [b.name for b in books] == ["cqc_pack_999_2026-03-31.xlsx",
                                       "cqc_pack_999_2026-03-31_masked.xlsx"]
    shared = list(openpyxl.load_workbook(books[1])["Case list"].iter_rows(values_only=True))
    wb = openpyxl.load_workbook(books[0])
    assert {"Summary", "Definitions", "Waiting now", "Waits for completed journeys",
            "Reviews", "Carers", "By team", "DHSC quarterly medians", "Waiting over time",
            "Case list"} <= set(wb.sheetnames)
    cases = list(wb["Case list"].iter_rows(values_only=True))
    assert cases[0][:3] == ("case", "stratum", "person id") and len(cases) > 1
    # the case list names people by their council id only: no names or dates of birth
    text = " ".join(str(v) for row in cases for v in row)
    births = {str(r["date_of_birth"]) for r in hand_built().rows["persons"]}
    assert "Given" not in text and "Family" not in text
    assert not [b for b in births if b in text]
    # the workbook to share has the same cases with ids, workers, links and journeys withheld
    assert len(shared) == len(cases)
    assert [r[2] for r in shared[1:]] == [f"case {r[0]}" for r in cases[1:]]
    assert {r[-1] for r in shared[1:]} == {"(withheld)"}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
    team_cells = [c.value for row in wb["By team"].iter_rows() for c in row
                  if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert team_cells and all(v.startswith("'=") for v in team_cells)
    # every figure's definition is on its group's sheet, beside it
    ws = wb["Waiting now"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in ws.iter_rows(min_row=2)]
    w1 = [r for r in rows if r["figure"] == "W1" and r["split by"] == "all"]
    assert w1 and w1[0]["count"] == 5 and "progress to assessment" in w1[0]["definition"]


def test_cli_bad_options_are_one_line(council: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for args, text in (
        (["--as-at", "31/03/2026"], "not a date"),
        (["--period", "2025Q9"], "YYYY-YYQn"),
        (["--period", "2025-26Q4", "--as-at", "2025-01-01"], "not inside"),
        (["--points", "daily"], "use week or month"),
    ):
        r = runner.invoke(app, ["--config", str(council), "cqc", *args, "--out",
                                str(tmp_path / "x")])
        assert isinstance(r.exception, CldError), r.output
        assert text in str(r.exception)
