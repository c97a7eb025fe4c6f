"""The DQ report: built from findings and a CLD frame, opened in real headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl
import pytest

from cld_schema import load_spec
from pipelines.outputs.report import ReportInputs, save_report
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
    return ReportInputs(
        findings=make_findings(), frame=cld_frame(spec), spec=spec, run_id="RUN2",
        council="Sample Council (synthetic)",
        thresholds={"completeness": {"Ethnicity": 0.95, "Gender": 0.99}},
        trend=trend.rename({"open_issues": "findings"}).with_columns(
            pl.col("team_id").replace(TEAMS).alias("team_name")),
        data_docs=docs,
    )


def test_report_content(report_inputs, tmp_path, findings):
    out = save_report(report_inputs, tmp_path / "report" / "dq_report.html")
    html = out.read_text()
    assert "NOT ready to submit: 14 errors left" in html
    for text in ("Findings by national DQ module", "FLD_Gender_list", "LOG020",
                 "Events (services only)", "Record the person&#x27;s gender",
                 "below threshold", "80.0%", "Events per month by event type", "Apr 2025",
                 "Trend of open issues by team", "North Locality", "run RUN0",
                 'href="../data_docs/local_site/index.html"'):
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
    many = pl.DataFrame({
        "run_id": list(range(1, 101)) * 2, "team_id": ["T01"] * 100 + ["T02"] * 100,
        "team_name": ["North Locality"] * 100 + ["South Locality"] * 100,
        "findings": list(range(100)) * 2})
    html = save_report(ReportInputs(findings=findings, trend=many),
                       tmp_path / "r.html").read_text()
    assert "Open issues per team in this run" in html and "Unallocated" in html
    assert '<th class="n">run 93</th>' in html and '<th class="n">run 92</th>' not in html
    assert "run 41:" in html and "run 40:" not in html  # the chart shows the last 60 runs
