"""``cld check`` and ``cld rules`` end to end through the CLI."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cld_schema.errors import CldError
from pipelines.cli import app
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
    # cld's main() prints a CldError as "error: ..." and exits 2 (no traceback)
    assert isinstance(res.exception, CldError)
    assert "unknown columns: a, b" in str(res.exception)
    assert "missing columns: Reporting Period Start Date" in str(res.exception)
    # a first line with no CLD header at all is data (header missing): not echoed
    f.write_text("999,9434765919\n", encoding="cp1252")
    res = runner.invoke(app, ["check", str(f), "--no-docs"])
    assert isinstance(res.exception, CldError)
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


R1_ONLY = ("GP_Practice_Name", "Provider_CQC_Location_Name", "First_Name", "Last_Name")
FY2425 = {
    "Reporting_Period_Start_Date": "2024-04-01",
    "Reporting_Period_End_Date": "2025-03-31",
    "Event_Start_Date": "2024-06-01",
    "Event_End_Date": "2024-06-02",
}


def _write_columns(spec, path, rows, columns: list[str]):
    """A file of these spec fields (label headers), in this order (names may repeat)."""
    import csv
    import io

    frame = frame_of(spec, rows).drop("_row")
    label = {f.name: f.label for f in spec.fields}
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")
    out.writerow([label[c] for c in columns])
    for r in frame.iter_rows(named=True):
        out.writerow(["" if r[c] is None else r[c] for c in columns])
    path.write_bytes(buf.getvalue().encode("cp1252"))


def test_release_comes_from_the_period_not_the_header(tmp_path, spec_r1):
    """A 2024-25 file whose header lacks the four optional Release 1 columns (so it matches
    Release 2's header) is checked as Release 1: one header finding naming them, no
    'Release 1 value in a Release 2 file', and the Release 1 rules fire."""
    rows = [
        {**FY2425},
        {**FY2425, "LA_Person_Unique_Identifier": "P2", "Event_Reference": "E2",
         "NHS_Number": "9434765870", "Date_of_Birth": "2010-01-31"},  # under 18
        {**FY2425, "LA_Person_Unique_Identifier": "P3", "Event_Reference": "E3",
         "NHS_Number": "9434765862", "Client_Type": "key:CARER_KNOWN_BY_ASSOCIATION"},
        {**FY2425, "LA_Person_Unique_Identifier": "P4", "Event_Reference": "E4",
         "NHS_Number": "9434765854", "Event_Type": "key:SERVICE",
         "Request_Route_of_Access": None, "Event_End_Date": None,
         "Event_Outcome": "key:PROVISION_OF_SERVICE",
         "Service_Type": "key:LONG_TERM_PRISON", "Delivery_Mechanism": "key:DIRECT_PAYMENT",
         "Service_Component": spec_r1.values("Service_Component")[0]},
    ]  # fmt: skip
    columns = [n for n in spec_r1.field_names if n not in R1_ONLY]
    f = tmp_path / "fy2425.csv"
    _write_columns(spec_r1, f, rows, columns)
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(f), "--out", str(out), "--no-docs"])
    assert res.exit_code == 1, res.output
    assert "(R1," in res.output
    findings = pl.read_parquet(out / "findings.parquet")
    header = findings.filter(pl.col("rule_id") == "FILE_header")
    assert header.height == 1
    message = header["message"].item()
    assert "R1 specification for a file of period 2024-25Q4" in message
    labels = [f.label for f in spec_r1.fields if f.name in R1_ONLY]  # spec order
    assert "missing columns: " + ", ".join(labels) in message
    ids = set(findings["rule_id"])
    assert "LOG093" not in ids  # no 'Release 1 value in a Release 2 file'
    assert {"LOG006", "LOG050", "LOG078"} <= ids  # the Release 1 rules that must fire
    # the missing columns are the header finding's, not one finding per row
    assert findings.filter(pl.col("field").is_in(list(R1_ONLY))).height == 0


def test_header_faults_are_one_finding_and_the_rows_are_still_checked(tmp_path, spec_r1):
    rows = [{}, {"NHS_Number": "9434765918", "LA_Person_Unique_Identifier": "P2",
                 "Event_Reference": "E2"}]  # fmt: skip
    names = list(spec_r1.field_names)
    g, e = names.index("Gender"), names.index("Ethnicity")
    names[g], names[e] = names[e], names[g]  # two columns swapped
    columns = [*names, "Gender"]  # and Gender named twice
    f = tmp_path / "faults.csv"
    _write_columns(spec_r1, f, rows, columns)
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(f), "--out", str(out), "--no-docs"])
    assert res.exit_code == 1, res.output
    findings = pl.read_parquet(out / "findings.parquet")
    header = findings.filter(pl.col("rule_id").str.starts_with("FILE_header"))
    assert header["rule_id"].to_list() == ["FILE_header"]
    message = header["message"].item()
    assert "duplicated columns: Gender" in message
    assert "columns out of order: Ethnicity" in message or "out of order: Gender" in message
    assert "missing columns" not in message
    assert "FLD_NHS_Number_mod11" in set(findings["rule_id"])  # rows checked all the same
    assert "FLD_Gender_mandatory" not in set(findings["rule_id"])  # first Gender column read


def test_release_option_does_not_override_the_period(tmp_path, spec_r2):
    period = {"Reporting_Period_Start_Date": "2025-01-01",
              "Reporting_Period_End_Date": "2025-12-31",
              "Event_Start_Date": "2025-06-01", "Event_End_Date": "2025-06-02"}  # fmt: skip
    f = tmp_path / "q3.csv"
    _write(spec_r2, f, [period])
    out = tmp_path / "out"
    res = runner.invoke(app, ["check", str(f), "--release", "R1", "--out", str(out), "--no-docs"])
    assert "(R2," in res.output, res.output
    findings = pl.read_parquet(out / "findings.parquet")
    warn = findings.filter(pl.col("rule_id") == "FILE_release_period")
    assert warn["severity"].to_list() == ["warning"]
    assert "period 2025-26Q3" in warn["message"].item()


def test_record_keeps_the_check_as_a_history_run(tmp_path, spec_r1):
    """--record: the findings written are the findings history holds, under a run of kind
    check (its period the file's own, ready or not in its counts); without it, no history."""
    from pathlib import Path

    from pipelines.history import History

    cfg = tmp_path / "cld.toml"
    cfg.write_text(
        '[council]\nla_code = "999"\n[paths]\nhistory_db = "h.duckdb"\noutput_dir = "out"\n'
        f'[checks]\nthresholds = "{Path("data/sample/thresholds.yaml").resolve()}"\n'
    )
    f = tmp_path / "sub.csv"
    _write(spec_r1, f, [{}, {"NHS_Number": "9434765918", "LA_Person_Unique_Identifier": "P2"}])
    res = runner.invoke(app, ["-c", str(cfg), "check", str(f), "--no-docs"])
    assert res.exit_code == 1, res.output
    assert not (tmp_path / "h.duckdb").exists() and "history run" not in res.output
    res = runner.invoke(app, ["-c", str(cfg), "check", str(f), "--no-docs", "--record"])
    assert res.exit_code == 1, res.output
    findings = pl.read_parquet(tmp_path / "out" / "checks" / "sub" / "findings.parquet")
    with History.open(tmp_path / "h.duckdb") as h:
        runs = h.runs()
        assert runs["kind"].to_list() == ["check"] and runs["status"].to_list() == ["ok"]
        run = runs.row(0, named=True)
        assert f"history run: {run['id']}" in res.output
        assert run["findings"] == findings.height > 0
        assert run["period"] == "2024-25Q3" and run["release"] == "R1"
        kept = h.query("findings_of_run.sql", {"run": run["id"]})
    assert sorted(kept["rule_id"].to_list()) == sorted(findings["rule_id"].to_list())
    assert "FLD_NHS_Number_mod11" in kept["rule_id"].to_list()
