"""`cld spec checklist`: the recording checklist for staff, from the spec per release, with a
team's most frequent mistakes once a run is recorded (read back as a manager would)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
from typer.testing import CliRunner

from cld_schema import load_spec
from pipelines.cli import app
from pipelines.history import History
from pipelines.outputs.checklist import checklist, given

runner = CliRunner()


def test_conditions_settled_by_the_event_type():
    ev = {"Event_Type": "ASSESSMENT"}
    assert given({"field": "Event_Type", "in": ["ASSESSMENT"]}, ev) is True
    assert given({"not": {"field": "Event_Type", "in": ["REQUEST"]}}, ev) is True
    fin = {"field": "Assessment_Type", "in": ["FINANCIAL"]}
    assert given({"all": [{"field": "Event_Type", "in": ["ASSESSMENT"]}, {"not": fin}]},
                 ev) == {"not": fin}
    assert given({"any": [{"field": "Event_Type", "in": ["SERVICE"]}, fin]}, ev) == fin
    assert given({"all": [{"field": "Event_Type", "in": ["SERVICE"]}, fin]}, ev) is False


def test_per_event_type_fields_when_and_values_by_release():
    r2, r1 = checklist(load_spec("R2")), checklist(load_spec("R1"))
    assert list(r2) == ["Request", "Assessment", "Service", "Review"]
    request = {ln.label: ln for ln in r2["Request"]}
    assert request["Request: Route of Access"].when == "Mandatory"
    assert "Service Type" not in request  # a service field is not on a request
    service = {ln.label: ln for ln in r2["Service"]}
    assert service["Service Type"].when == "Mandatory" and "Request: Route of Access" not in service
    assert r2["Request"][0].when == "Mandatory"  # mandatory fields first
    assert service["Gender"].values == ["Male", "Female", "Other", "Unknown"]
    acc2 = {ln.label: ln for ln in r2["Request"]}["Accommodation Status"].values
    acc1 = {ln.label: ln for ln in r1["Request"]}["Accommodation Status"].values
    assert "Tenant: Private landlord" in acc2 and "Tenant - private landlord" in acc1
    assessment = {ln.label: ln for ln in r2["Assessment"]}
    assert any(ln.when.startswith("Mandatory when") for ln in assessment.values())


def test_cli_xlsx_with_the_teams_mistakes_from_history(tmp_path: Path):
    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\nname = "Test Council"\n'
                   '[paths]\noutput_dir = "out"\nhistory_db = "out/history.duckdb"\n')
    # before any run: the checklist from the spec alone
    res = runner.invoke(app, ["-c", str(cfg), "spec", "checklist", "--release", "R1"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "checklist_R1.xlsx")
    assert wb.sheetnames == ["Summary", "Request", "Assessment", "Service", "Review"]
    assert [c.value for c in wb["Request"][1]] == ["Field", "When to record it",
                                                  "Values to choose"]
    rows = [dict(Ethnicity=None, person=f"P{i}", team=t, event=e)
            for i, (t, e) in enumerate([("T01", "Service")] * 3 + [("T02", "Request")])]
    findings = pl.DataFrame({
        "rule_id": ["FLD_Ethnicity_mandatory"] * 4, "severity": ["error"] * 4,
        "module": ["Person details"] * 4, "category": ["field"] * 4, "row": [1, 2, 3, 4],
        "person_id": [r["person"] for r in rows], "field": ["Ethnicity"] * 4,
        "event_type": [r["event"] for r in rows],
        "message": ["Ethnicity is blank but mandatory for this row"] * 4,
        "team_id": [r["team"] for r in rows],
        "team_name": ["North Locality" if r["team"] == "T01" else "South" for r in rows]})
    (tmp_path / "out").mkdir(exist_ok=True)
    with (History.open(tmp_path / "out" / "history.duckdb") as h,
          h.run("nightly", "2025-26Q4", "R2", "test") as run):
        run.add_findings(findings)
    res = runner.invoke(app, ["-c", str(cfg), "spec", "checklist", "--team", "North Locality"])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(tmp_path / "out" / "checklist_R2_North_Locality.xlsx")
    sheet = list(wb["Review"].iter_rows(values_only=True))
    assert sheet[0][-1] == "Most frequent mistakes"
    eth = next(r for r in sheet if r[0] == "Ethnicity")
    assert eth[1] == "Mandatory" and eth[3] == "Ethnicity is blank but mandatory for this row (3)"
    res = runner.invoke(app, ["-c", str(cfg), "spec", "checklist", "--team", "T02",
                              "--format", "html"])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "out" / "checklist_R2_T02.html").read_text()
    assert "Ethnicity is blank but mandatory for this row (1)" in html
    assert "<script" not in html and "P0" not in html
    res = runner.invoke(app, ["-c", str(cfg), "spec", "checklist", "--format", "pdf"])
    assert res.exit_code != 0 and "use xlsx or html" in str(res.exception)
