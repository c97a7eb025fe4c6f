"""Team workbooks: scoping, sorting, sheets, formula neutralisation (read back with openpyxl)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.excel_safe import excel_safe, excel_safe_frame
from pipelines.outputs.exceptions import write_exception_lists
from tests.outputs.conftest import TEAMS, make_findings


@pytest.fixture
def lists(tmp_path, findings, previous, feedback, trend, directory_teams):
    return write_exception_lists(
        findings, tmp_path / "lists", run_id="RUN2", teams=directory_teams,
        previous=previous, feedback=feedback, trend=trend,
    )


def _all_values(path: Path) -> list[tuple[str, object]]:
    wb = openpyxl.load_workbook(path)
    return [(ws.title, c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _sheet(path: Path, name: str) -> list[dict[str, object]]:
    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def test_excel_safe_neutralises_formula_starts():
    for bad in ("=1+1", "+CMD", "-2+3", "@SUM(A1)", "\t=x", "\r=x"):
        assert excel_safe(bad).startswith("'")
    assert excel_safe("-12.50") == "-12.50"  # a plain number cannot run: left readable
    assert excel_safe("Gender") == "Gender"
    assert excel_safe("a\x00b") == "ab"
    assert excel_safe(5) == 5


def test_the_frame_guard_agrees_with_the_cell_guard():
    """CSV writers (findings, comparisons, feedback) use the vectorised guard: same rule."""
    texts = ["=1+1", "+CMD", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "-12.50", "+44", "Gender", None]
    out = excel_safe_frame(pl.DataFrame({"t": texts, "n": list(range(len(texts)))}))
    assert out["t"].to_list() == [None if t is None else excel_safe(t) for t in texts]
    assert out["t"].to_list()[:6] == ["'" + t for t in texts[:6]]
    assert out["n"].to_list() == list(range(len(texts)))  # numbers untouched


def test_every_team_in_one_run_and_all_clear(lists):
    by_id = {t.team_id: t for t in lists.teams}
    assert set(by_id) == {"T01", "T02", "T03", "T04"}
    assert all(t.path.exists() for t in lists.teams)
    clear = by_id["T04"]
    assert clear.all_clear and clear.total == 0
    wb = openpyxl.load_workbook(clear.path)
    assert "People" not in wb.sheetnames and "Fixes" not in wb.sheetnames
    assert any("All clear" in str(v) for _, v in _all_values(clear.path))
    # T04 fixed last run's one issue: its counts show the drop.
    counts = _sheet(clear.path, "Counts")
    assert counts == [{"Rule": "FLD_Gender_list", "Severity": "error", "Field": "Gender",
                       "Problem": "Gender is blank but mandatory", "This run": 0,
                       "Previous run": 1, "Change": -1}]


def test_team_scoping_no_other_teams_client(lists, findings):
    owner = dict(findings.filter(pl.col("team_id").is_not_null())
                 .select("person_id", "team_id").unique().iter_rows())
    all_people = set(findings.get_column("person_id").drop_nulls())
    for team in lists.teams:
        values = {str(v) for _, v in _all_values(team.path) if v is not None}
        text = "\n".join(values)
        for person in all_people:
            if owner.get(person) == team.team_id:
                assert person in text, (team.team_id, person)
            else:
                assert person not in text, (team.team_id, person)
        if not team.all_clear:
            people = {r["Person ID"] for r in _sheet(team.path, "People")}
            assert people == {p for p, t in owner.items() if t == team.team_id}
    # The client with no team and the dataset-level finding went to the analyst only.
    assert lists.unallocated is not None and lists.unallocated_count == 2
    unalloc = "\n".join(str(v) for _, v in _all_values(lists.unallocated))
    assert "P9999" in unalloc and "QNT_complete_months" in unalloc


def test_no_cell_is_a_formula(lists):
    paths = [t.path for t in lists.teams] + [lists.unallocated]
    seen_neutralised = 0
    for path in paths:
        wb = openpyxl.load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, ws.title, cell.coordinate)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(("=", "+", "@", "\t", "\r"))
                        if cell.value.startswith("'=HYPERLINK"):
                            seen_neutralised += 1
    assert seen_neutralised >= 12  # one per warning fix in the teams' Fixes sheets


def test_people_sheet_one_row_per_client_sorted_with_locators(lists):
    t02 = next(t for t in lists.teams if t.team_id == "T02")
    people = _sheet(t02.path, "People")
    assert len(people) == 4 == t02.people
    assert [r["Person ID"] for r in people] == sorted(
        (r["Person ID"] for r in people), key=lambda p: next(
            x["Oldest event"] for x in people if x["Person ID"] == p))
    first = people[0]
    assert first["Errors to fix"] == 1 and first["Warnings to fix"] == 1
    assert first["Allocated worker"] == "Worker T02"
    assert "[ERROR] Gender" in first["To fix"] and "[WARNING] Unit Cost" in first["To fix"]
    assert "Assessment E" in first["Events affected"]


def test_issues_sheet_errors_first_oldest_first_with_fix(lists):
    t03 = next(t for t in lists.teams if t.team_id == "T03")
    issues = _sheet(t03.path, "Fixes")
    assert len(issues) == 10 == t03.total
    sev = [r["Severity"] for r in issues]
    assert sev == sorted(sev)  # "error" < "warning": all errors before any warning
    errors = [r["Which events (type, reference, date)"].rsplit(" ", 1)[1] for r in issues
              if r["Severity"] == "error"]
    assert errors == sorted(errors)
    assert all(r["What to do"] for r in issues) and all(r["Workflow step ids"] for r in issues)


def test_sheet_layout_frozen_filtered_widths(lists):
    t01 = next(t for t in lists.teams if t.team_id == "T01")
    wb = openpyxl.load_workbook(t01.path)
    assert wb.sheetnames == ["Summary", "People", "Fixes", "NHS feedback", "Counts"]
    for name in ("People", "Fixes", "NHS feedback", "Counts"):
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        assert ws.column_dimensions["A"].width >= 8


def test_feedback_and_counts(lists):
    t02 = next(t for t in lists.teams if t.team_id == "T02")
    fb = _sheet(t02.path, "NHS feedback")
    assert [r["Person ID"] for r in fb] == ["P2002", "P2001"]  # oldest first
    assert fb[0]["Age (days)"] == 178
    t01 = next(t for t in lists.teams if t.team_id == "T01")
    counts = {r["Rule"]: r for r in _sheet(t01.path, "Counts")}
    assert counts["FLD_Gender_list"]["This run"] == 3
    # last run: 7 rows but 4 fixes (P1000..P1002 twice, P1003 once)
    assert counts["FLD_Gender_list"]["Previous run"] == 4
    assert counts["FLD_Gender_list"]["Change"] == -1
    assert t01.trend == [14, 10, 6]
    summary = "\n".join(str(v) for _, v in _all_values(t01.path))
    assert "14 → 10 → 6" in summary


def test_names_of_teams_come_from_findings_when_not_in_directory(tmp_path, findings):
    lists = write_exception_lists(findings, tmp_path)
    assert {t.team_id: t.team_name for t in lists.teams} == TEAMS
    assert lists.run_id == "RUN2"


def test_same_problem_on_several_events_listed_once_with_count(tmp_path, findings):
    extra = findings.filter(pl.col("person_id") == "P1000").head(1).with_columns(
        pl.lit("E9999").alias("event_ref"), pl.lit("S99999").alias("step_id"),
        pl.lit("2025-01-01").alias("event_start"))
    lists = write_exception_lists(pl.concat([findings, extra]), tmp_path)
    t01 = next(t for t in lists.teams if t.team_id == "T01")
    person = next(r for r in _sheet(t01.path, "People") if r["Person ID"] == "P1000")
    assert person["Errors to fix"] == 1  # one fix (person × field), on two events
    assert "[ERROR] Gender: Gender is blank but mandatory (2 events)" in person["To fix"]
    assert person["To fix"].count("Gender is blank") == 1 and "×" not in person["To fix"]
    assert "E9999" in person["Events affected"] and person["Oldest event"] == "2025-01-01"


@pytest.mark.parametrize("empty", [pl.DataFrame(), make_findings().clear()])
def test_clean_run_every_team_all_clear(tmp_path, empty, directory_teams):
    from pipelines.outputs.report import ReportInputs, save_report

    lists = write_exception_lists(empty, tmp_path, run_id="R9", teams=directory_teams)
    assert len(lists.teams) == 4 and all(t.all_clear for t in lists.teams)
    assert lists.unallocated is None
    assert openpyxl.load_workbook(lists.teams[0].path).sheetnames == ["Summary"]
    html = save_report(ReportInputs(findings=empty), tmp_path / "r.html").read_text()
    assert "READY to submit: no errors left" in html and "every rule passed" in html


def test_findings_without_any_team_give_no_false_all_clear(tmp_path, findings,
                                                           directory_teams):
    """A submission file read back (cld check) has no owning teams: nobody is told all clear."""
    teamless = findings.with_columns(pl.lit(None, pl.String).alias("team_id"),
                                     pl.lit(None, pl.String).alias("team_name"))
    lists = write_exception_lists(teamless, tmp_path, teams=directory_teams)
    assert lists.teams == [] and not lists.teams_known
    assert lists.unallocated_count == findings.height


def test_numeric_team_ids_in_number_order(tmp_path):
    teams = [("10", "Ten"), ("2", "Two"), ("1", "One"), ("X", "Other")]
    lists = write_exception_lists(make_findings().clear(), tmp_path, teams=teams)
    assert [t.team_id for t in lists.teams] == ["1", "2", "10", "X"]


def _finding(**kw) -> dict:
    base = {"run_id": "R", "rule_id": "FLD_Ethnicity_mandatory", "severity": "error",
            "module": "Person details", "category": "field", "row": 1, "person_id": "P1",
            "event_ref": "E1", "event_type": "Service", "event_start": "2025-06-01",
            "field": "Ethnicity", "message": "Ethnicity is blank but mandatory for this row",
            "how_to_fix": "Record Ethnicity in the case system for this person or event.",
            "team_id": "T01", "team_name": "North Locality", "step_id": "S1"}
    return {**base, **kw}


def test_one_line_per_person_and_field_with_its_events(tmp_path):
    """One missing ethnicity on one person over five events is one fix (not "×5"), listed
    with the five events; the counts and the e-mail's numbers are fixes too."""
    rows = [_finding(row=i, event_ref=f"E{i}", event_start=f"2025-0{i + 1}-01")
            for i in range(5)]
    lists = write_exception_lists(pl.DataFrame(rows), tmp_path)
    t01 = lists.teams[0]
    assert t01.errors == 1 and t01.events == 5
    fixes = _sheet(t01.path, "Fixes")
    assert len(fixes) == 1 and fixes[0]["Events affected"] == 5
    assert fixes[0]["Which events (type, reference, date)"].count("Service E") == 5
    assert _sheet(t01.path, "Counts")[0]["This run"] == 1


def test_messages_not_doubled_and_advice_for_managers(tmp_path):
    """A label already in the message is not repeated ("NHS Number: NHS Number: …"), and the
    advice names the case-system screen, never a mapping table."""
    rows = [_finding(rule_id="FLD_NHS_Number_mod11", field="NHS_Number",
                     message="NHS Number: NHS number fails the Modulus 11 check",
                     how_to_fix="Correct NHS Number in the case system (or the mapping table "
                                "for its local code)."),
            _finding(rule_id="FLD_Unit_Cost_mandatory", field="Unit_Cost",
                     module="Costs (services only)", person_id="P2",
                     message="Unit Cost is blank but mandatory for this row",
                     how_to_fix="Record Unit Cost in the case system for this person or event.")]
    lists = write_exception_lists(pl.DataFrame(rows), tmp_path)
    text = "\n".join(str(v) for _, v in _all_values(lists.teams[0].path))
    assert "NHS Number: NHS Number" not in text
    assert "[ERROR] NHS Number: NHS number fails the Modulus 11 check" in text
    assert "mapping" not in text.lower()
    fixes = {r["Field"]: r for r in _sheet(lists.teams[0].path, "Fixes")}
    assert fixes["NHS Number"]["What to do"] == (
        "Correct NHS Number on the person's details screen in the case system.")
    assert fixes["Unit Cost"]["What to do"] == (
        "Record Unit Cost on the service agreement's costs in the case system.")


def test_traced_nhs_number_in_full_in_its_teams_list_only(tmp_path, findings):
    """The owning team's list shows the number found whole (to type into the case system);
    no other list does; items the council's record already holds are not counted."""
    feedback = pl.DataFrame({
        "id": [1, 2, 3], "person_id": ["P1000", "P2001", "P1001"],
        "nhs_number": ["*******912", "*******345", "*******111"],
        "team_id": ["T01", "T02", "T01"], "received_on": ["2026-09-01"] * 3,
        "age_days": [30, 20, 10], "status": ["open", "conflict", "resolved"],
        "action_needed": [True, True, False]})
    numbers = pl.DataFrame({"id": [1, 2, 3],
                            "nhs_number_found": ["9434765912", "9434765345", "9434765111"]})
    lists = write_exception_lists(findings, tmp_path, feedback=feedback,
                                  feedback_numbers=numbers)
    by = {t.team_id: t for t in lists.teams}
    assert by["T01"].feedback == 1 and by["T02"].feedback == 1
    t01 = _sheet(by["T01"].path, "NHS feedback")
    assert t01 == [{"Person ID": "P1000", "NHS Number found (record it)": "9434765912",
                    "Received": "2026-09-01", "Age (days)": 30, "Status": "to record"}]
    for team in lists.teams:
        text = "\n".join(str(v) for _, v in _all_values(team.path))
        assert ("9434765912" in text) == (team.team_id == "T01")
        assert "9434765111" not in text  # already held: nothing to do
        if team.page:
            assert "9434765" not in team.page.read_text()
    assert "9434765" not in "\n".join(str(v) for _, v in _all_values(lists.unallocated))


def test_unmapped_codes_go_to_the_analysts_list(tmp_path, findings):
    unmapped = [{"mapping": "gender.csv", "field": "Gender", "code": "NS", "rows": 21}]
    lists = write_exception_lists(findings, tmp_path, unmapped=unmapped)
    assert _sheet(lists.unallocated, "Unmapped codes") == [
        {"Mapping table": "gender.csv", "Field": "Gender", "Local code": "NS", "Rows": 21}]
    for team in lists.teams:
        assert "gender.csv" not in "\n".join(str(v) for _, v in _all_values(team.path))


def test_counts_are_centred_under_their_headers(lists):
    """A count right-aligned in a narrow column sits beside the next column's header and a
    manager reads it as that column's value: counts are centred, text stays left."""
    t02 = next(t for t in lists.teams if t.team_id == "T02")
    ws = openpyxl.load_workbook(t02.path)["People"]
    header = {c.value: c.column_letter for c in ws[1]}
    for name in ("Errors to fix", "Warnings to fix"):
        cell = ws[f"{header[name]}2"]
        assert isinstance(cell.value, int) and cell.alignment.horizontal == "center", name
    assert ws[f"{header['To fix']}2"].alignment.horizontal in (None, "general", "left")
