"""Remake the screenshots in docs/img/ from the sample council:

    .venv/bin/python -m tests.outputs.make_doc_images

The report is captured in headless Chromium; the busiest team's workbook is printed to PDF by
LibreOffice (Debian ``libreoffice-calc-nogui``) and its first two pages cut out by
``pdftoppm`` (``poppler-utils``), so the picture is the real xlsx as a manager would print it.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import yaml

from checks import run_checks
from cld_schema import load_spec
from pipelines.build import build
from pipelines.config import load_config
from pipelines.outputs.delivery import load_directory
from pipelines.outputs.exceptions import write_exception_lists
from pipelines.outputs.report import ReportInputs, save_report
from pipelines.sample import generate
from tests.build.test_sample_build import _config
from tests.outputs import chromium

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
RUN = "2025-26Q3-sample"


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="cld-doc-images-"))
    info = generate(base / "sample" / "council.db", people=300, seed=5, defects=True)
    cfg = load_config(_config(base, info.db, info.feeds_dir))
    built = build(cfg, "2025-26Q3")
    spec = load_spec(built.summary["release"])
    checked = run_checks(built.frame, spec, run_id=RUN, quantitative=False)
    directory = load_directory(ROOT / "data" / "sample" / "team_directory.csv")
    lists = write_exception_lists(checked.findings, base / "lists", run_id=RUN,
                                  teams=[(c.team_id, c.team_name) for c in directory.values()])
    thresholds = yaml.safe_load((ROOT / "data" / "sample" / "thresholds.yaml").read_text())
    report = save_report(ReportInputs(findings=checked.findings, frame=built.frame, spec=spec,
                                      run_id=RUN, council="Sample Council (synthetic)",
                                      thresholds=thresholds), base / "dq_report.html")
    IMG.mkdir(parents=True, exist_ok=True)
    visit = chromium.visit(report.as_uri(), screenshot=IMG / "dq_report.png", max_height=1500)
    assert not visit.problems, visit.problems

    team = max(lists.teams, key=lambda t: t.total)
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{base}/lo",
                    "--convert-to", "pdf", "--outdir", str(base), str(team.path)],
                   check=True, capture_output=True)
    pdf = base / team.path.with_suffix(".pdf").name
    for page, name, height in ((1, "team_workbook_summary", 280),
                               (2, "team_workbook_people", 640)):
        subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", str(page), "-l", str(page),
                        "-x", "50", "-y", "60", "-W", "1060", "-H", str(height), "-singlefile",
                        str(pdf), str(IMG / name)], check=True)
    print(f"written to {IMG}: dq_report.png, team_workbook_summary.png, "
          f"team_workbook_people.png ({team.team_name})")


if __name__ == "__main__":
    main()
