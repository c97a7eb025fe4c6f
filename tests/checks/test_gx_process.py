"""The quantitative checks' GX process (checks.gx_import.start_gx_process): the expectations
validated in a child process give the findings and Data Docs that validating in this process
gives; the child gets counts only, never personal data; a child that dies is replaced by
validating here, with one warning; a finished `cld check` leaves no child behind."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import uuid
from pathlib import Path

import polars as pl
import psutil

from checks.quantitative import quantitative_findings, quantitative_plans
from tests.checks.test_quantitative import THRESHOLDS, _year

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter (this test process may have imported GX already, and a process
# that holds GX validates in-process): validate with the GX process, then kill the child and
# validate again. Prints what it saw as JSON on its last line.
SCRIPT = r"""
import json, logging, os, signal, sys
from pathlib import Path
import polars as pl
from checks import gx_import
from checks.quantitative import quantitative_findings
from cld_schema import load_spec
from tests.checks.test_quantitative import THRESHOLDS, _year

logging.basicConfig(level=logging.WARNING, format="%(message)s")
spec = load_spec("R1")
frame = _year(spec)
previous = frame.filter(pl.col("Event_Type") == "Request")
out = Path(sys.argv[1])
gx_import.start_gx_process()
child = gx_import._PROCESS[0].proc
cmdline = " ".join(open(f"/proc/{child.pid}/cmdline").read().split("\0"))
a, docs_a = quantitative_findings(frame, spec, thresholds=THRESHOLDS, previous=previous,
                                  data_docs_dir=out / "a")
seen = {"cmdline": cmdline, "running": gx_import.gx_process_running(),
        "gx_here_after_child": "great_expectations" in sys.modules}
os.kill(child.pid, signal.SIGKILL)
child.wait()
b, _ = quantitative_findings(frame, spec, thresholds=THRESHOLDS, previous=previous)
seen["gx_here_after_kill"] = "great_expectations" in sys.modules
seen["running_after_kill"] = gx_import.gx_process_running()
a.write_parquet(out / "a.parquet")
b.write_parquet(out / "b.parquet")
seen["docs"] = str(docs_a)
print(json.dumps(seen))
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def test_child_gives_the_findings_of_this_process_and_a_dead_one_is_replaced(
    spec_r1, tmp_path
):
    p = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    seen = json.loads(p.stdout.strip().splitlines()[-1])
    said = f"{seen}\n{p.stderr[-2000:]}"  # what the script saw and logged, if one fails
    assert "checks.gx_server" in seen["cmdline"] and seen["running"], said
    assert not seen["gx_here_after_child"], said  # the child validated: no GX here
    assert seen["gx_here_after_kill"] and not seen["running_after_kill"], said  # then here
    warnings = [ln for ln in p.stderr.splitlines() if "the GX process failed" in ln]
    assert len(warnings) == 1, said

    # the same findings as validating in this (the test) process, both times
    frame = _year(spec_r1)
    previous = frame.filter(pl.col("Event_Type") == "Request")
    here, _ = quantitative_findings(
        frame, spec_r1, thresholds=THRESHOLDS, previous=previous,
        data_docs_dir=tmp_path / "here",
    )  # fmt: skip
    assert here.height >= 4  # months, completeness, volume and change findings
    assert pl.read_parquet(tmp_path / "a.parquet").equals(here)
    assert pl.read_parquet(tmp_path / "b.parquet").equals(here)
    # and Data Docs with the same pages, written by the child
    assert Path(seen["docs"]).is_file()

    def pages(root: Path) -> list[str]:
        return sorted(p.parts[0] for p in (q.relative_to(root) for q in root.rglob("*.html")))

    assert pages(tmp_path / "a") == pages(tmp_path / "here")


def test_the_child_gets_counts_not_personal_data(spec_r1):
    frame = _year(spec_r1)
    plans = quantitative_plans(
        frame, spec_r1, thresholds=THRESHOLDS, previous=frame.head(3), docs=True
    )
    sent = pickle.dumps((plans, None))
    assert {p.name for p in plans} == {"completeness", "months", "previous"}
    for f in ("NHS_Number", "Date_of_Birth", "Postcode", "LA_Person_Unique_Identifier"):
        value = frame[f][0]
        assert value and value.encode() not in sent, f
        assert all(f not in p.pdf.columns for p in plans)
    assert max(len(p.pdf) for p in plans) <= 12  # a row per month at most: counts


def _marked_children(mark: str) -> list[int]:
    left = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if "checks.gx_server" in " ".join(proc.info["cmdline"] or ()) and (
                proc.environ().get("CLD_TEST_MARK") == mark
            ):
                left.append(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return left


def _cld_check(tmp_path: Path, file: Path) -> tuple[subprocess.CompletedProcess, str]:
    mark = uuid.uuid4().hex
    env = {**_env(), "CLD_TEST_MARK": mark}
    cld = Path(sys.executable).with_name("cld")
    p = subprocess.run(
        [str(cld), "check", str(file), "--out", str(tmp_path / "out")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    return p, mark


def test_cld_check_leaves_no_gx_process_behind(tmp_path, spec_r1):
    file = tmp_path / "cld.csv"
    _year(spec_r1).drop("_row").write_csv(file)
    p, mark = _cld_check(tmp_path, file)
    assert p.returncode in (0, 1), p.stderr[-2000:]
    assert "QNT_complete_months" in p.stdout  # the quantitative checks ran (July)
    assert (tmp_path / "out" / "data_docs" / "index.html").is_file()
    assert _marked_children(mark) == []


def test_a_file_refused_at_once_ends_the_gx_process_too(tmp_path):
    """A file that is not CLD ends the command at once (exit 2), while the child is still
    importing GX: it is stopped, not left to finish."""
    file = tmp_path / "notes.csv"
    file.write_text("a,b\n1,2\n", encoding="utf-8")
    p, mark = _cld_check(tmp_path, file)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    assert _marked_children(mark) == []
