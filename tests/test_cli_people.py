"""What people read from the command line: help texts keep their config names, tables
stay readable at 80 columns, dates as YYYY-MM-DD, teams by name or id, progress bars on a
terminal only, and the Data Landing Portal (DLP) by its name."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.history import History

ROOT = Path(__file__).resolve().parents[1]
narrow = CliRunner(env={"COLUMNS": "80"})


@pytest.mark.parametrize(("command", "text"), [
    (["run", "quarterly"], "[delivery] mode"),
    (["feedback"], "[feedback] layout"),
    (["exceptions"], "[delivery] mode"),
])
def test_help_keeps_config_names(command, text):
    res = narrow.invoke(app, [*command, "--help"])
    assert res.exit_code == 0 and text in " ".join(res.output.split()), res.output
    assert "( mode)" not in res.output and "`` layout" not in res.output


def test_tables_readable_at_80_columns():
    res = narrow.invoke(app, ["spec", "fields"])
    assert res.exit_code == 0
    assert all(len(line) <= 80 for line in res.output.splitlines())
    assert "Reporting_Period_Start_Date" in res.output  # never cut inside a name
    assert "Reporting_Pe" not in res.output.replace("Reporting_Period", "")


def test_date_format_said_as_yyyy_mm_dd():
    from checks.contract import field_checks
    from cld_schema import load_spec

    spec = load_spec("R2")
    messages = [c.message for c in field_checks(spec) if spec.field(c.field).type == "date"]
    assert messages and all("%" not in m for m in messages)
    assert "not a date as YYYY-MM-DD" in messages


def test_trend_team_by_name_or_id(tmp_path):
    cfg = tmp_path / "cld.toml"
    cfg.write_text('[council]\nla_code = "999"\n[paths]\nhistory_db = "h.duckdb"\n')
    findings = pl.DataFrame({"rule_id": ["LOG003"] * 2, "severity": ["error"] * 2,
                             "row": [1, 2], "person_id": ["P1", "P2"],
                             "team_id": ["7", "8"], "team_name": ["North Locality", "South"]})
    with (History.open(tmp_path / "h.duckdb") as h,
          h.run("build", "2025-26Q4", "R2", "test") as run):
        run.add_findings(findings)
    by_id = narrow.invoke(app, ["-c", str(cfg), "history", "trend", "--team", "7"])
    by_name = narrow.invoke(app, ["-c", str(cfg), "history", "trend", "--team",
                                  "north locality"])
    assert by_id.exit_code == 0 and by_name.exit_code == 0
    assert "LOG003" in by_name.output and "no findings recorded" not in by_name.output
    assert "North Locality (7)" in by_name.output and "2025-26Q4" in by_name.output
    assert by_id.output == by_name.output


def _pty_run(args: list[str], env: dict[str, str]) -> str:
    """Run cld in a pseudo-terminal (as a person at a terminal would) and read its screen."""
    main, child = pty.openpty()
    cld = str(Path(sys.executable).parent / "cld")
    proc = subprocess.Popen([cld, *args], stdin=child,
                            stdout=child, stderr=child, env=env, cwd=ROOT)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=300)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def test_progress_on_a_terminal_quiet_in_ci(tmp_path):
    from pipelines.sample import generate
    from tests.build.test_sample_build import _config

    info = generate(tmp_path / "sample" / "council.db", people=150, seed=3, defects=0)
    cfg = _config(tmp_path, info.db, info.feeds_dir)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PREFECT__FLOW_RUN_ID")}
    env["COLUMNS"] = "80"
    args = ["-c", str(cfg), "build", "--period", "2025-26Q3"]
    screen = _pty_run(args, env)
    assert "extract" in screen and "/20" in screen, screen[-2000:]  # a bar with counts
    quiet = _pty_run(args, {**env, "CI": "1"})
    assert "submission file:" in quiet and "extract " not in quiet


def test_dlp_named_in_messages(tmp_path):
    """The upload target is called by its name where people read it."""
    from cld_schema import load_spec
    from tests.outputs.test_report import cld_frame

    spec = load_spec("R2")
    frame = cld_frame(spec).head(20)
    path = tmp_path / "sub.csv"
    text = frame.rename(dict(zip(spec.field_names, spec.headers("label"), strict=True))
                        ).write_csv()
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # a UTF-8 byte-order mark
    res = narrow.invoke(app, ["check", str(path), "--out", str(tmp_path / "checks")])
    assert "Data Landing Portal (DLP)" in " ".join(res.output.split()), res.output
    res = narrow.invoke(app, ["history", "mark-sent", "--help"])
    assert "Data Landing Portal (DLP)" in " ".join(res.output.split())
