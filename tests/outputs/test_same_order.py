"""The same findings give the same outputs, whatever order their rows come in (a parquet
file, history, the engine's threads): the team lists byte for byte (the workbook's creation
time aside) and the DQ report's tables in the same order. The findings are built with ties
everywhere a sort could leave them: rules with equal counts, teams with equal totals, people
with the same oldest event, several fixes of one person on one day."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl
import pytest

from pipelines.outputs.exceptions import write_exception_lists
from pipelines.outputs.report import ReportInputs, render_report
from tests.outputs.conftest import TEAMS, _finding

RULES = [("LOG020", "Unit_Cost", "warning"), ("LOG021", "Event_End_Date", "warning"),
         ("LOG022", "Event_Outcome", "warning"), ("LOG023", "Service_Type", "warning"),
         ("FLD_Gender_list", "Gender", "error"), ("FLD_Ethnicity_list", "Ethnicity", "error")]


def tied_findings() -> pl.DataFrame:
    rows, n = [], 0
    for team in TEAMS:  # every team the same number of fixes of every rule
        for p in range(3):
            person = f"P{team}{p}"
            for rule, field, severity in RULES:
                n += 1
                rows.append(_finding("RUN2", n, team, person, rule_id=rule, field=field,
                                     severity=severity, event_start="2026-01-15",
                                     event_ref="E1", message=f"{field} problem ({rule})",
                                     step_id=f"S{n}"))
    for i in range(3):  # dataset-level findings: no person, no row
        rows.append(_finding("RUN2", 900 + i, None, None, rule_id=f"QNT_x{i}", row=None,
                             field=None, event_ref=None, step_id=None,
                             category="quantitative", message="a dataset check"))
    return pl.DataFrame(rows, schema_overrides={"row": pl.Int64})


def shuffled(frame: pl.DataFrame, seed: int) -> pl.DataFrame:
    return frame.sample(fraction=1.0, shuffle=True, seed=seed)


def _members(path: Path) -> dict[str, bytes]:
    """A workbook's parts; the core properties without their creation/modified time."""
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    core = "docProps/core.xml"
    if core in parts:
        parts[core] = re.sub(rb"<dcterms:(created|modified)[^<]*</dcterms:\1>", b"",
                             parts[core])
    return parts


def _folder(path: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in sorted(path.rglob("*")):
        if f.is_file():
            name = str(f.relative_to(path))
            out[name] = _members(f) if f.suffix == ".xlsx" else f.read_bytes()
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_team_lists_do_not_depend_on_row_order(tmp_path, trend, seed):
    findings = tied_findings()
    previous = tied_findings().head(20).with_columns(pl.lit("RUN1").alias("run_id"))
    kw = {"run_id": "RUN2", "teams": list(TEAMS.items()), "trend": trend,
          "period": "2025-26Q4", "council": "Sample"}
    write_exception_lists(findings, tmp_path / "a", previous=previous, **kw)
    write_exception_lists(shuffled(findings, seed), tmp_path / "b",
                          previous=shuffled(previous, seed + 10), **kw)
    a, b = _folder(tmp_path / "a"), _folder(tmp_path / "b")
    assert a.keys() == b.keys() and len(a) > len(TEAMS)
    for name in a:
        assert a[name] == b[name], name


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_report_tables_do_not_depend_on_row_order(trend, tmp_path, seed):
    findings = tied_findings()
    trend = trend.rename({"open_issues": "findings"}).with_columns(
        pl.col("team_id").replace(TEAMS).alias("team_name"))

    def html(f: pl.DataFrame, t: pl.DataFrame) -> str:
        return render_report(ReportInputs(findings=f, run_id="RUN2", trend=t,
                                          period_label="2025-26Q4"), tmp_path / "r.html")

    first = html(findings, trend)
    again = html(shuffled(findings, seed), shuffled(trend, seed))
    assert first == again
    # the tie-breakers themselves: errors first, then more findings first, equal counts by
    # rule id (the dataset-level errors, QNT_*, are one finding each)
    rules = re.findall(r"<code>(LOG02\d|FLD_\w+?_list|QNT_x\d)</code><br>", first)
    assert rules[:9] == ["FLD_Ethnicity_list", "FLD_Gender_list", "QNT_x0", "QNT_x1",
                         "QNT_x2", "LOG020", "LOG021", "LOG022", "LOG023"]
