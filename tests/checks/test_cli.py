"""``cld check`` and ``cld rules`` end to end through the CLI."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.cli.common import UserError
from tests.checks.conftest import frame_of

runner = CliRunner()


def _write(spec, path, rows):
    frame = frame_of(spec, rows).drop("_row")
    frame = frame.rename(dict(zip(spec.field_names, spec.headers("label"), strict=True)))
    path.write_bytes(frame.write_csv().encode("cp1252"))


def test_check_reports_errors_and_writes_findings(tmp_path, spec_r1):
    f = tmp_path / "sub.csv"
    _write(
        spec_r1,
        f,
        [
            {},
            {
                "NHS_Number": "9434765918",
                "LA_Person_Unique_Identifier": "P2",
                "Event_Description": "=1+2",
                "Event_Reference": "E2",
            },
        ],
    )
    prev = tmp_path / "prev.csv"
    _write(spec_r1, prev, [{}])  # one request last time, two now: +100%
    out = tmp_path / "out"
    res = runner.invoke(
        app, ["check", str(f), "--out", str(out), "--no-docs", "--previous", str(prev)]
    )
    assert res.exit_code == 1, res.output
    assert "NOT ready to submit" in res.output
    assert "by national DQ module" in res.output and "Person details" in res.output
    assert "FLD_NHS_Number_mod11" in res.output and "LOG091" in res.output
    assert "9434765918" not in res.output  # personal data never printed
    findings = pl.read_parquet(out / "findings.parquet")
    tax = pl.read_csv(out / "dq_taxonomy.csv")
    nhs = tax.filter((pl.col("field") == "NHS_Number") & (pl.col("validity") == -2))
    assert nhs["rows"].to_list() == [1] and nhs["module"].to_list() == ["Person details"]
    assert {"FLD_NHS_Number_mod11", "LOG091", "QNT_change_previous"} <= set(findings["rule_id"])
    csv = (out / "findings.csv").read_text(encoding="utf-8")
    assert "'=1+2" in csv and ",=1+2" not in csv  # Excel-safe
    assert "9434765918" not in csv


def test_check_bad_header_is_a_clear_error(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("LA Code,a,b\n999,1,2\n", encoding="cp1252")
    res = runner.invoke(app, ["check", str(f), "--no-docs"])
    # cld's main() prints a UserError as "error: ..." and exits 2 (no traceback)
    assert isinstance(res.exception, UserError)
    assert "unknown columns: a, b" in str(res.exception)
    assert "missing columns: Reporting Period Start Date" in str(res.exception)
    # a first line with no CLD header at all is data (header missing): not echoed
    f.write_text("999,9434765919\n", encoding="cp1252")
    res = runner.invoke(app, ["check", str(f), "--no-docs"])
    assert isinstance(res.exception, UserError)
    assert "header row missing" in str(res.exception)
    assert "9434765919" not in str(res.exception)


def test_rules_lists_and_exports(tmp_path):
    res = runner.invoke(app, ["rules"])
    assert res.exit_code == 0 and "LOG078" in res.output and "QNT_complete_months" in res.output
    md = tmp_path / "rules.md"
    assert runner.invoke(app, ["rules", "--format", "md", "--out", str(md)]).exit_code == 0
    assert md.read_text().startswith("| rule_id |")
    xlsx = tmp_path / "rules.xlsx"
    assert runner.invoke(app, ["rules", "--format", "xlsx", "--out", str(xlsx)]).exit_code == 0
    ws = openpyxl.load_workbook(xlsx).active
    ids = [row[0] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(ids) > 100 and "LOG001" in ids


def test_unwritable_out_paths_are_one_line_errors(tmp_path, spec_r1, monkeypatch, capsys):
    """--out that is a file, or in a folder that does not exist: exit 2, no traceback."""
    from pipelines.cli import main

    sub = tmp_path / "sub.csv"
    _write(spec_r1, sub, [{}])
    taken = tmp_path / "taken"
    taken.write_text("x")
    cases = [
        (["rules", "--format", "md", "--out", str(tmp_path / "no" / "r.md")], "r.md"),
        (["rules", "--format", "xlsx", "--out", str(tmp_path / "no" / "r.xlsx")], "r.xlsx"),
        (["check", str(sub), "--no-docs", "--out", str(taken)], "taken"),
    ]
    for args, name in cases:
        monkeypatch.setattr("sys.argv", ["cld", *args])
        with pytest.raises(SystemExit) as exit_:
            main()
        err = capsys.readouterr().err
        assert exit_.value.code == 2, (args, err)
        assert err.startswith("error: ") and name in err and "Traceback" not in err
    assert taken.read_text() == "x"


def test_check_prints_and_writes_the_national_picture(tmp_path, spec_r1):
    """A blank NHS number is a warning here but a failed cell nationally: both are said, and
    national_dq.csv holds the cells per module and field."""
    f = tmp_path / "sub.csv"
    _write(spec_r1, f, [{"NHS_Number": None}])
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(f), "--out", str(out), "--no-docs"])
    assert res.exit_code == 1, res.output  # (the one-row file fails the volume checks)
    assert "the national DQ report will count as failed" in res.output
    assert "NHS_Number" in res.output and "1 blank (mandatory)" in res.output
    table = pl.read_csv(out / "national_dq.csv")
    nhs = table.filter(pl.col("field") == "NHS_Number").row(0, named=True)
    assert (nhs["module"], nhs["failed"], nhs["not_errors_here"]) == ("Person details", 1, 1)
    assert table["failed"].sum() == 1


def test_check_relative_out_folder(tmp_path, spec_r1, monkeypatch):
    """A relative --out (with the Data Docs on) works: no Great Expectations traceback."""
    f = tmp_path / "sub.csv"
    _write(spec_r1, f, [{}])
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["check", "sub.csv", "--out", "rel/out"])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert res.exit_code in (0, 1), res.output
    assert (tmp_path / "rel" / "out" / "findings.parquet").exists()
    assert (tmp_path / "rel" / "out" / "data_docs").is_dir()


def test_header_only_file_is_not_ready(tmp_path, spec_r1):
    f = tmp_path / "empty.csv"
    f.write_bytes((",".join(spec_r1.headers("label")) + "\r\n").encode("cp1252"))
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(f), "--out", str(out), "--no-docs"])
    assert res.exit_code == 1, res.output
    assert "NOT ready to submit" in res.output and "FILE_no_rows" in res.output
    findings = pl.read_parquet(out / "findings.parquet")
    assert findings.filter(pl.col("rule_id") == "FILE_no_rows")["severity"].to_list() == ["error"]
