"""The DQ report: built from findings and a CLD frame, opened in real headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from checks.thresholds import CheckThresholds
from cld_schema import load_spec
from pipelines.outputs.report import ReportInputs, save_report
from pipelines.runs import file_measures
from tests.outputs import chromium
from tests.outputs.conftest import TEAMS, make_findings

ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "test-artifacts"
# Skipped on a developer machine without chromium; in CI (scripts/test.sh installs it) never.
needs_chromium = pytest.mark.skipif(
    not chromium.available() and not os.environ.get("CI"), reason="Debian chromium missing")


def cld_frame(spec) -> pl.DataFrame:
    """A small valid-looking CLD frame over 2025-26: events of every type in every month,
    with Ethnicity blank on every fifth row (so completeness is below its threshold)."""
    types = ["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"]
    rows = []
    for i in range(240):
        month = 4 + (i % 12)
        year = 2025 if month <= 12 else 2026
        month = month if month <= 12 else month - 12
        etype = types[i % 4] if i % 7 else "REQUEST"
        start = f"{year}-{month:02d}-05"
        end = f"{year}-{month:02d}-20"
        row = dict.fromkeys(spec.field_names)
        row.update(
            LA_Code="999", Reporting_Period_Start_Date="2025-04-01",
            Reporting_Period_End_Date="2026-03-31", NHS_Number="9434765919",
            LA_Person_Unique_Identifier=f"P{i % 60:04d}", Gender=spec.value("Gender", "MALE"),
            Ethnicity=None if i % 5 == 0 else spec.values("Ethnicity")[0],
            Date_of_Birth="1950-01-31", Client_Type=spec.value("Client_Type", "SERVICE_USER"),
            Primary_Support_Reason=spec.values("Primary_Support_Reason")[0], Postcode="LS1 4AP",
            Event_Type=spec.value("Event_Type", etype), Event_Reference=f"E{i}",
            Event_Start_Date=start, Event_End_Date=end,
        )
        rows.append(row)
    return pl.DataFrame(rows, schema=dict.fromkeys(spec.field_names, pl.String))


@pytest.fixture(scope="module")
def spec():
    return load_spec("R2")


@pytest.fixture
def report_inputs(spec, trend, tmp_path) -> ReportInputs:
    docs = tmp_path / "data_docs" / "local_site"
    docs.mkdir(parents=True)
    (docs / "index.html").write_text("<html><body>GX Data Docs</body></html>")
    frame = cld_frame(spec)
    return ReportInputs(
        findings=make_findings(), frame=frame, spec=spec, run_id="RUN2",
        file_measures=file_measures(frame, spec),
        council="Sample Council (synthetic)",
        thresholds=CheckThresholds.parse({"completeness": {"Ethnicity": 0.95, "Gender": 0.99}}),
        trend=trend.rename({"open_issues": "findings"}).with_columns(
            pl.col("team_id").replace(TEAMS).alias("team_name")),
        data_docs=docs, period_label="2025-26Q4", kind="quarterly",
    )


def test_report_content(report_inputs, tmp_path, findings):
    out = save_report(report_inputs, tmp_path / "report" / "dq_report.html")
    html = out.read_text()
    assert "NOT ready to submit: 14 errors left" in html
    from pipelines.version import code_version  # which code made it, for a later question

    assert f"by cld-pipeline {code_version()}</p>" in html
    for text in ("Findings by national DQ module", "FLD_Gender_list", "LOG020",
                 "Events (services only)", "Record the person&#x27;s gender",
                 "below threshold", "80.0%", "Events per month by event type", "Apr 2025",
                 "Trend of open issues by team", "North Locality", "2025-26Q3 quarterly",
                 'href="../data_docs/local_site/offline_index.html"'):
        assert text in html, text
    # Self-contained and free of personal data: no scripts, no remote references, no ids.
    assert "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in html
    for person in findings.get_column("person_id").drop_nulls().unique():
        assert person not in html
    assert "=HYPERLINK" not in html  # values from the file are never shown


def test_ready_when_only_warnings(spec, tmp_path):
    only_warnings = make_findings().filter(pl.col("severity") == "warning")
    html = save_report(ReportInputs(findings=only_warnings, run_id="R"),
                        tmp_path / "r.html").read_text()
    assert "READY to submit: no errors left" in html
    assert "Not available: no CLD file given" in html


@needs_chromium
def test_report_renders_in_chromium_offline(report_inputs, tmp_path):
    out = save_report(report_inputs, tmp_path / "report" / "dq_report.html")
    shot = tmp_path / "dq_report.png"
    visit = chromium.visit(out.as_uri(), screenshot=shot)
    assert visit.problems == []
    assert visit.requests == [out.as_uri()]  # the page itself and nothing else
    assert "NOT ready to submit: 14 errors left" in visit.text
    assert "Completeness by field against thresholds" in visit.text
    assert "Hospital Discharge" in visit.text  # team name in the trend table
    # What the meeting reads: the period in the header, who must fix what, trends by period.
    head = visit.text[:visit.text.index("Ready to submit?")]
    assert "Period: 2025-26Q4" in head and "Release: R2" in head
    assert "Data up to: 2026-03-31" in head and "quarterly submission run RUN2" in head
    assert "Who must fix what: teams × rules" in visit.text
    assert "North Locality\t3\t\t\t3\t\t6" in visit.text  # 3 Gender + 3 unit-cost fixes
    assert "2025-26Q3 quarterly\t2025-26Q4 quarterly" in visit.text
    assert "run RUN" not in visit.text.replace("quarterly submission run RUN2", "")
    assert shot.stat().st_size > 20_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "dq_report.png")


@needs_chromium
def test_browser_check_catches_network_and_errors(tmp_path):
    """The browser check itself must see a broken page, else a clean result proves nothing."""
    page = tmp_path / "bad.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" "
        "content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>"
        "<img src=\"http://127.0.0.1:9/x.png\"><script>console.error('boom'); nope();</script>"
        "</body></html>")
    visit = chromium.visit(page.as_uri())
    assert any("boom" in e for e in visit.console_errors)
    assert visit.exceptions
    assert any("Content Security Policy" in e or "Refused" in e for e in visit.log_errors
               + visit.console_errors), visit


def test_text_from_the_data_is_escaped(tmp_path):
    nasty = make_findings().with_columns(
        pl.lit("<script>alert(1)</script>").alias("message"),
        pl.lit('<img src="http://x.example/a.png">').alias("how_to_fix"),
        pl.lit("<b>Team</b>").alias("team_name"))
    html = save_report(ReportInputs(findings=nasty), tmp_path / "r.html").read_text()
    assert "<script" not in html and "<img" not in html and "<b>Team" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_charts_carry_exact_numbers():
    from pipelines.outputs.charts import hbar_chart, line_chart

    svg = hbar_chart(["Person details"], {"error": [13], "warning": [2]}, title="t")
    assert "<title>Person details – error: 13</title>" in svg and ">15</text>" in svg
    svg = line_chart(["Apr 2025", "May 2025"], {"Request": [20, 3]}, title="t")
    assert "<title>Request, May 2025: 3</title>" in svg and svg.count("<circle") == 2


def test_this_run_by_team_and_long_history_kept_readable(tmp_path, findings):
    """A year of nightly runs and quarterly runs: one series per run kind on a date axis,
    the table keeps the last four periods and the last four nightly dates, never "run N"."""
    import datetime as dt

    day = dt.datetime(2025, 4, 2, 2)
    rows = []
    for n in range(100):
        when = day + dt.timedelta(days=3 * n)
        for team, name in (("T01", "North Locality"), ("T02", "South Locality")):
            rows.append({"run_id": n + 1, "kind": "nightly", "period": "2025-26Q4",
                         "started_at": when, "team_id": team, "team_name": name,
                         "findings": 100 - n})
    for k, period in enumerate(["2024-25Q4", "2025-26Q1", "2025-26Q2", "2025-26Q3",
                                "2025-26Q4"]):
        rows.append({"run_id": 200 + k, "kind": "build", "period": period,
                     "started_at": day, "team_id": "T01", "team_name": "North Locality",
                     "findings": 339 - k})
    html = save_report(ReportInputs(findings=findings, trend=pl.DataFrame(rows)),
                       tmp_path / "r.html").read_text()
    assert "Open issues per team in this run" in html and "Unallocated" in html
    assert "run 93" not in html and "run 1:" not in html
    assert "Quarterly submissions (by period)" in html and "Nightly runs (by date)" in html
    assert '<th class="n">2025-26Q4 quarterly</th>' in html
    assert '<th class="n">2025-26Q1 quarterly</th>' in html
    assert '<th class="n">2024-25Q4 quarterly</th>' not in html  # the last four periods
    last = (day + dt.timedelta(days=297)).date().isoformat()
    assert f'<th class="n">{last} nightly</th>' in html
    # each quarterly point sits at its period's end and says which period it is
    assert "<title>Quarterly submissions (by period), 2025-26Q3: 336</title>" in html


def test_team_rule_table_counts_fixes_not_rows(tmp_path):
    """One blank ethnicity on one person across five events is one fix, not five."""
    rows = [{"run_id": "R", "rule_id": "FLD_Ethnicity_mandatory", "severity": "error",
             "module": "Person details", "category": "field", "row": i, "person_id": "P1",
             "field": "Ethnicity", "team_id": "T01", "team_name": "North Locality",
             "message": "Ethnicity is blank but mandatory for this row"} for i in range(5)]
    rows.append({**rows[0], "person_id": "P2", "row": 9})
    rows.append({**rows[0], "person_id": "P3", "row": 10, "team_id": "T02",
                 "team_name": "South Locality", "rule_id": "LOG003", "field": "Event_Start_Date",
                 "message": "Event starts after the person's date of death"})
    html = save_report(ReportInputs(findings=pl.DataFrame(rows)), tmp_path / "r.html").read_text()
    section = html[html.index('id="teamrules"'):]
    section = section[:section.index("</section>")]
    assert "Ethnicity blank" in section and "LOG003" in section
    assert "<tr><td>North Locality</td><td class=\"n\">2</td>" in section  # P1 once, P2 once
    assert "<td>South Locality</td><td class=\"n\"></td><td class=\"n\">1</td>" in section


def test_sections_from_the_build_and_the_spec(spec, tmp_path):
    """Unmapped codes with counts, quarantined files with reasons, the national field status
    beside completeness, and volumes as one chart per event type (each its own scale)."""
    build = {"unmapped": [{"mapping": "ethnicity.csv", "field": "Ethnicity", "code": "WEEU",
                           "rows": 10}],
             "feeds": {"folder_found": True, "quarantined": [
                 {"file": "equipment_2025-03.csv", "reason": "column 'Quantity' is not a whole "
                  "number", "moved_to": None}]}}
    frame = cld_frame(spec)
    html = save_report(ReportInputs(findings=make_findings(), frame=frame, spec=spec,
                                    build=build, file_measures=file_measures(frame, spec)),
                       tmp_path / "r.html").read_text()
    assert "<td>ethnicity.csv</td><td>Ethnicity</td><td>WEEU</td><td class=\"n\">10</td>" in html
    assert "equipment_2025-03.csv" in html and "not a whole number" in html
    assert "National field status" in html and "<td>Mandatory</td>" in html
    vol = html[html.index('id="volumes"'):]
    vol = vol[:vol.index("<table>")]
    assert vol.count("<svg") == 4  # small multiples
    assert "Events per month by event type: Request" in vol
    assert "Events per month by event type: Service" in vol


def test_legend_wraps_instead_of_running_off():
    from pipelines.outputs.charts import line_chart

    names = [f"Older People Team number {i}" for i in range(15)]
    svg = line_chart(["a", "b"], {n: [1, 2] for n in names}, title="t")
    ys = {float(part.split('"')[0]) for part in svg.split('<rect x="')[1:]
          for part in [part.split('y="')[1]]}
    assert len(ys) >= 4  # four or more legend rows
    xs = [float(part.split('"')[0]) for part in svg.split("<text x=\"")[1:]]
    assert max(xs) < 760


def test_national_failed_cells_per_module(spec, tmp_path):
    """The national DQ report's view (checks.national.national_dq): a blank Ethnicity on
    every fifth of 240 rows is 48 failed cells in Person details."""
    from pipelines.runs import national_cells

    frame = cld_frame(spec)
    findings = make_findings()
    html = save_report(ReportInputs(findings=findings, frame=frame, spec=spec,
                                    national=national_cells(frame, spec, findings)),
                       tmp_path / "r.html").read_text()
    section = html[html.index('id="national"'):]
    section = section[:section.index("</section>")]
    assert ('<td>Person details</td><td>Ethnicity</td><td class="n">240</td>'
            '<td class="n">48</td><td class="n">0</td><td class="n">0</td>'
            '<td class="n">48</td>') in section
    assert "Not available" not in section


@needs_chromium
def test_team_page_renders_in_chromium_offline(tmp_path, findings, trend, directory_teams):
    """A manager's page: that team's findings only, as counts, with the period in its
    header and the team's trend by period; nothing fetched, no console errors."""
    from pipelines.outputs.exceptions import write_exception_lists

    lists = write_exception_lists(findings, tmp_path / "lists", run_id="RUN2",
                                  teams=directory_teams, trend=trend, period="2025-26Q4",
                                  council="Sample Council (synthetic)")
    north = next(t for t in lists.teams if t.team_id == "T01")
    visit = chromium.visit(north.page.as_uri())
    assert visit.problems == [] and visit.requests == [north.page.as_uri()]
    head = visit.text[:visit.text.index("This team")]
    assert "Team: North Locality" in head and "Period: 2025-26Q4" in head
    assert "3 errors and 3 warnings to fix" in visit.text
    assert "Gender\tGender is blank but mandatory\tRecord the person's gender" in visit.text
    assert "2025-26Q3 quarterly\t2025-26Q4 nightly\t2025-26Q4 quarterly" not in visit.text
    assert "2025-26Q3 quarterly\t2025-26Q4 quarterly\t2026-02-03 nightly" in visit.text
    assert "North Locality\t14\t6\t10" in visit.text  # only this team's row
    assert "South Locality" not in visit.text and "Hospital Discharge" not in visit.text
    for person in findings.get_column("person_id").drop_nulls().unique():
        assert person not in visit.text
    clear = next(t for t in lists.teams if t.all_clear)
    assert "All clear" in chromium.visit(clear.page.as_uri()).text
