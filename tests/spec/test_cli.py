"""The `cld spec` commands, through the real CLI."""

from __future__ import annotations

import openpyxl
from typer.testing import CliRunner

from pipelines.cli import app

runner = CliRunner(env={"COLUMNS": "250"})  # rich tables unwrapped


def test_fields_lists_and_diff():
    out = runner.invoke(app, ["spec", "fields", "--release", "R1"])
    assert out.exit_code == 0, out.output
    assert "Request_Route_of_Access" in out.output and "GP_Practice_Name" in out.output
    out = runner.invoke(app, ["spec", "lists", "Event_Outcome", "--release", "R2"])
    assert out.exit_code == 0 and "Continuation of support or services" in out.output
    out = runner.invoke(app, ["spec", "diff", "R1", "R2"])
    assert out.exit_code == 0
    assert "field removed: GP_Practice_Name" in out.output
    assert "'Tenant' -> 'Tenant: Local authority or other social housing provider'" in out.output


def test_unknown_list_and_release_are_clear_errors():
    from cld_schema.errors import CldError  # cld's main() prints it on one line, exit 2

    out = runner.invoke(app, ["spec", "lists", "Shoe_Size"])
    assert isinstance(out.exception, CldError) and "no list 'Shoe_Size'" in str(out.exception)
    out = runner.invoke(app, ["spec", "fields", "--release", "R7"])
    assert isinstance(out.exception, CldError) and "unknown release 'R7'" in str(out.exception)


def test_export_md_and_xlsx(tmp_path):
    md = tmp_path / "spec.md"
    out = runner.invoke(app, ["spec", "export", "--format", "md", "--release", "R1", "--out", str(md)])
    assert out.exit_code == 0, out.output
    text = md.read_text(encoding="utf-8")
    assert "`Request_Route_of_Access` | Request: Route of Access |" in text
    assert "Employment_Status" in text and "age at Reporting_Period_End_Date is 18-64" in text
    xlsx = tmp_path / "spec.xlsx"
    out = runner.invoke(app, ["spec", "export", "--format", "xlsx", "--out", str(xlsx)])
    assert out.exit_code == 0, out.output
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Fields", "Lists", "Derived (not submitted)"]
    fields = [r[1] for r in wb["Fields"].iter_rows(min_row=2, values_only=True)]
    assert "Provider_CQC_Location_Name" not in fields and "Provider_CQC_Location_ID" in fields
    assert all(c.data_type != "f" for row in wb["Lists"].iter_rows() for c in row)


def test_export_defaults_to_the_output_folder(tmp_path, monkeypatch):
    """usertest P10: without --out it wrote cld-spec-R2.md into the current folder."""
    cfg = tmp_path / "cld.toml"
    cfg.write_text(f'[council]\nla_code = "999"\n[paths]\noutput_dir = "{tmp_path / "out"}"\n')
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out = runner.invoke(app, ["--config", str(cfg), "spec", "export"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "out" / "cld-spec-R2.md").is_file()
    assert list(work.iterdir()) == [] and str(tmp_path / "out" / "cld-spec-R2.md") in out.output
