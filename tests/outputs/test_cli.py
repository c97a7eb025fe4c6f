"""``cld exceptions`` and ``cld report`` end to end: from a findings file, and from runs kept
in a real history database (findings, submission, previous run, trend, comparison)."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from cld_schema import load_spec
from pipelines.cli import app
from pipelines.history import History
from tests.outputs.conftest import TEAMS, make_findings
from tests.outputs.test_report import cld_frame

runner = CliRunner()


@pytest.fixture
def council(tmp_path: Path) -> Path:
    """A config in tmp_path with a team directory for T01..T04 and folder delivery."""
    with (tmp_path / "teams.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["team_id", "team_name", "email"])
        for tid, name in [*TEAMS.items(), ("T04", "Learning Disability")]:
            w.writerow([tid, name, f"{tid.lower()}@council.example"])
    cfg = tmp_path / "cld.toml"
    cfg.write_text(
        '[council]\nla_code = "999"\nname = "Test Council"\n'
        '[paths]\noutput_dir = "out"\nhistory_db = "out/history.duckdb"\n'
        '[checks]\nthresholds = "thresholds.yaml"\n'
        '[delivery]\nmode = "folder"\ndirectory = "teams.csv"\nfolder = "drop"\n'
    )
    (tmp_path / "thresholds.yaml").write_text("completeness:\n  Ethnicity: 0.95\n")
    return cfg


def _invoke(cfg: Path, *args: str):
    res = runner.invoke(app, ["--config", str(cfg), *args])
    return res


def test_exceptions_from_findings_file_and_deliver_to_folders(council, tmp_path):
    checks = tmp_path / "out" / "checks" / "sub"
    checks.mkdir(parents=True)
    make_findings().write_parquet(checks / "findings.parquet")
    make_findings("RUN1").write_parquet(tmp_path / "prev.parquet")
    res = _invoke(council, "exceptions", "--findings", str(checks / "findings.parquet"),
                  "--previous", str(tmp_path / "prev.parquet"), "--deliver")
    assert res.exit_code == 0, res.output
    assert "4 team workbooks" in res.output and "(1 all clear)" in res.output
    assert "2 findings without a team" in res.output
    for name in (*TEAMS.values(), "Learning Disability"):  # folders by team name
        folder = tmp_path / "drop" / name.replace(" ", "_")
        assert sorted(p.name for p in folder.glob("*.xlsx"))[0] == "CLD_exception_list.xlsx"
        assert len(list(folder.glob("*.xlsx"))) == 2  # the latest, and this run's kept
    assert "delivery report" in res.output
    # usertest P11: the last column was headed "to fix" and blank; it counts clients now
    lines = res.output.splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.split()[:1] == ["team"])
    assert lines[head].split()[1:] == ["errors", "warnings", "clients", "to", "fix"]
    rows = [ln.split()[-3:] for ln in lines[head + 1 : head + 5]]
    assert all(len(r) == 3 and all(c.isdigit() for c in r) for r in rows), rows
    for errors, warnings, clients in ((int(c) for c in r) for r in rows):
        assert (clients == 0) == (errors + warnings == 0)  # all clear: no client to fix
        assert 0 < clients <= errors + warnings or clients == 0
    assert all(len(line) <= 80 for line in res.output.splitlines()
               if not line.startswith(("delivery report", "4 team workbooks", "2 findings")))


def test_unreachable_smtp_named_once_lists_kept(council, tmp_path):
    """`cld exceptions --deliver` with nothing listening: one line naming host:port, ended
    within seconds, the lists kept in their folder to deliver later."""
    import time

    from tests.outputs.smtp_server import free_port

    port = free_port()
    text = council.read_text().replace('mode = "folder"', 'mode = "email"')
    council.write_text(text + f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n')
    make_findings().write_parquet(tmp_path / "f.parquet")
    started = time.monotonic()
    res = runner.invoke(app, ["--config", str(council), "exceptions", "--findings",
                              str(tmp_path / "f.parquet"), "--deliver"])
    assert time.monotonic() - started < 10
    assert res.exit_code == 1
    named = [line for line in res.output.splitlines() if f"127.0.0.1:{port}" in line]
    assert len(named) == 1, res.output
    assert named[0].startswith(f"cannot reach the SMTP server 127.0.0.1:{port} ([smtp] host, "
                               "port): Connection refused: nothing sent; the lists stay in ")
    assert named[0].endswith("(deliver them later with `cld exceptions --deliver`)")
    assert len(list((tmp_path / "out" / "exceptions").rglob("T0*.xlsx"))) == 4


def test_report_from_findings_file(council, tmp_path):
    checks = tmp_path / "out" / "checks" / "sub"
    (checks / "data_docs").mkdir(parents=True)
    make_findings().write_parquet(checks / "findings.parquet")
    spec = load_spec("R2")
    cld = tmp_path / "sub.csv"
    cld_frame(spec).rename(dict(zip(spec.field_names, spec.headers("label"), strict=True))
                           ).write_csv(cld)
    out = tmp_path / "report.html"
    res = _invoke(council, "report", "--findings", str(checks / "findings.parquet"),
                  "--cld", str(cld), "--out", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text()
    assert "NOT ready to submit: 14 errors left" in html and "Test Council" in html
    assert "below threshold" in html and 'href="out/checks/sub/data_docs/offline_index.html"' in html


def test_bad_options_are_user_errors(council, tmp_path):
    from cld_schema.errors import CldError

    res = _invoke(council, "exceptions", "--findings", str(tmp_path / "none.parquet"))
    assert isinstance(res.exception, CldError) and "not found" in str(res.exception)
    res = _invoke(council, "report")  # no history yet
    assert isinstance(res.exception, CldError) and "no history" in str(res.exception)


def test_a_broken_thresholds_file_is_a_user_error(council, tmp_path):
    from cld_schema.errors import CldError

    make_findings().write_parquet(tmp_path / "f.parquet")
    (tmp_path / "thresholds.yaml").write_text("completeness: [unclosed\n")
    res = _invoke(council, "report", "--findings", str(tmp_path / "f.parquet"))
    assert isinstance(res.exception, CldError) and "not valid YAML" in str(res.exception)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("notes.csv", b"garbage\nmore\n", "not a findings file (no rule_id, severity"),
        ("f.csv", b"rule_id,severity,row\nLOG001,error,abc\n", "not a readable findings file"),
        ("f.parquet", b"PAR1 not parquet", "not a readable findings file"),
    ],
)
def test_a_file_that_is_not_findings_is_a_user_error(council, tmp_path, name, content, says):
    """A wrong --findings file is one clear error (exit 2 through cld's main), no traceback."""
    from cld_schema.errors import CldError

    (tmp_path / name).write_bytes(content)
    for command in ("exceptions", "report"):
        res = _invoke(council, command, "--findings", str(tmp_path / name))
        assert isinstance(res.exception, CldError), (command, res.exception)
        assert says in str(res.exception)


def test_from_history_latest_run_against_previous(council, tmp_path):
    spec = load_spec("R2")
    frame = cld_frame(spec)
    with History.open(tmp_path / "out" / "history.duckdb") as h:
        with h.run("build", "2025-26Q4", "R2", "test") as run:
            run.add_submission(None, frame.head(200))
            prev = make_findings("x")
            run.add_findings(pl.concat([prev, prev.filter(pl.col("team_id") == "T01")]))
        with h.run("build", "2025-26Q4", "R2", "test") as run:
            run.add_submission(None, frame)
            run.add_findings(make_findings("x"))
            latest = run.id
    res = _invoke(council, "exceptions")
    assert res.exit_code == 0, res.output
    folder = tmp_path / "out" / "exceptions" / f"run{latest}"
    t01 = next(folder.glob("T01_*.xlsx"))
    ws = openpyxl.load_workbook(t01)["Counts"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    # this run, previous run, change: last run's extra T01 rows were the same 3 people and
    # field again, so the same 3 fixes
    assert rows["FLD_Gender_list"][4:] == (3, 3, 0)
    summary = [r for r in openpyxl.load_workbook(t01)["Summary"].iter_rows(values_only=True)]
    assert ("Open issues over recent runs", "6 → 6") in summary  # fixes, not rows (12 → 6)

    res = _invoke(council, "report")
    assert res.exit_code == 0, res.output
    # The file name and the header say which quarter and run kind it covers.
    report = tmp_path / "out" / "reports" / f"dq_report_2025-26Q4_quarterly_run{latest}.html"
    html = report.read_text()
    assert "Changes against the previous submission" in html
    assert "200 rows) → submission" in html and "40 events added" in html
    assert "North Locality" in html and f"quarterly submission run {latest}" in html
    assert "Data up to: <b>2026-03-31</b>" in html and "Period: <b>2025-26Q4</b>" in html


def test_report_again_keeps_data_docs_and_build_facts(council, tmp_path):
    """`cld report` run again still links the run's Data Docs (through a page that works
    offline) and shows the unmapped codes and quarantined files the build kept."""
    from pipelines.outputs.facts import save_run_facts

    with (History.open(tmp_path / "out" / "history.duckdb") as h,
          h.run("build", "2025-26Q4", "R2", "test") as run):
        run.add_submission(None, cld_frame(load_spec("R2")))
        run.add_findings(make_findings("x"))
        rid = run.id
    reports = tmp_path / "out" / "reports"
    docs = reports / "data_docs_2025-26Q4_abc"
    page = docs / "validations" / "completeness" / "__none__" / "2026" / "completeness.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html>result</html>")
    save_run_facts(reports, rid, build={
        "unmapped": [{"mapping": "gender.csv", "field": "Gender", "code": "NS", "rows": 21}],
        "feeds": {"folder_found": True, "quarantined": [
            {"file": "carers_2025-03.csv", "reason": "missing column(s): 'Carer NHS Number'",
             "moved_to": None}]}}, data_docs=docs)
    for _ in range(2):  # the second time without being told where the Data Docs are
        res = _invoke(council, "report")
        assert res.exit_code == 0, res.output
        html = (reports / f"dq_report_2025-26Q4_quarterly_run{rid}.html").read_text()
        assert 'href="data_docs_2025-26Q4_abc/offline_index.html"' in html
        assert "<td>gender.csv</td><td>Gender</td><td>NS</td>" in html
        assert "carers_2025-03.csv" in html and "Carer NHS Number" in html
    index = (docs / "offline_index.html").read_text()
    assert 'href="validations/completeness/__none__/2026/completeness.html"' in index
    assert "<script" not in index


def test_teamless_findings_file_not_delivered(council, tmp_path):
    teamless = make_findings().with_columns(pl.lit(None, pl.String).alias("team_id"))
    teamless.write_parquet(tmp_path / "f.parquet")
    res = _invoke(council, "exceptions", "--findings", str(tmp_path / "f.parquet"), "--deliver")
    assert res.exit_code != 0
    assert "nothing to deliver" in str(res.exception) or "nothing to deliver" in res.output
    assert not (tmp_path / "drop").exists()


def test_period_reports_and_lists_from_a_build_checked_now(tmp_path):
    """--period: the DQ report and the team lists of the period built and checked now
    (runs.report / runs.exception_lists, through runs.check_now): the built rows keep each
    event's owning team, so the teams get lists; nothing is recorded in history."""
    from pipelines.config import load_config
    from pipelines.outputs.delivery import load_directory
    from pipelines.sample import small_council
    from tests.build.test_sample_build import _config

    info = small_council(tmp_path / "sample")
    cfg = _config(tmp_path, Path(info.db), info.feeds_dir)
    period = info.defect_periods[-1]
    res = _invoke(cfg, "report", "--period", period)
    assert res.exit_code == 0, res.output
    report = tmp_path / "out" / "reports" / f"dq_report_{period}-now.html"
    assert res.output == f"DQ report: {report}\n"
    assert period in report.read_text(encoding="utf-8")
    res = _invoke(cfg, "exceptions", "--period", period)
    assert res.exit_code == 0, res.output
    folder = tmp_path / "out" / "exceptions" / f"{period}-now"
    directory = load_directory(load_config(cfg).path(load_config(cfg).delivery.directory))
    assert f"{len(directory)} team workbooks" in res.output and str(folder) in res.output
    names = {c.team_name for c in directory.values()}
    listed = [ln.strip() for ln in res.output.splitlines()[2:2 + len(directory)]]
    assert {n for n in names if any(ln.startswith(n[:40]) for ln in listed)} == names
    assert not (tmp_path / "out" / "history.duckdb").exists()
