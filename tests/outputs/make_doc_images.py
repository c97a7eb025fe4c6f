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

from pipelines.config import load_config
from pipelines.sample import generate
from tests.build.test_sample_build import _config
from tests.outputs import chromium

ROOT = Path(__file__).resolve().parents[2]
IMG = ROOT / "docs" / "img"
RUN = "2025-26Q3-sample"


def shot_of(page: Path, anchor: str, out: Path, height: int) -> None:
    """A picture of one part of a page (from the element ``anchor`` down ``height`` px)."""
    import base64

    with chromium.Browser() as b:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        b.call("Page.enable", session=sid)
        b.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900,
                                                      "deviceScaleFactor": 1, "mobile": False},
               session=sid)
        b.call("Page.navigate", {"url": page.as_uri()}, session=sid)
        b.wait_event("Page.loadEventFired")
        b.drain(0.3)
        top = b.call("Runtime.evaluate", {
            "expression": f"document.getElementById('{anchor}').getBoundingClientRect().top"
                          " + window.scrollY", "returnByValue": True}, session=sid)
        y = top["result"]["value"]
        data = b.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": y, "width": 1280, "height": height, "scale": 1}},
            session=sid)["data"]
        out.write_bytes(base64.b64decode(data))


def main() -> None:
    """A sample council's history as a council would have it (two quarterly submissions
    and nightly runs between them), then the report and lists of the latest run."""
    import datetime as dt

    from pipelines import runs
    from pipelines.period import Period

    base = Path(tempfile.mkdtemp(prefix="cld-doc-images-"))
    info = generate(base / "sample" / "council.db", people=600, seed=5, defects=True)
    path = _config(base, info.db, info.feeds_dir)
    path.write_text(path.read_text().replace(
        'la_code = "999"', 'la_code = "999"\nname = "Sample Council (synthetic)"', 1))
    cfg = load_config(path)
    runs.quarterly(cfg, Period.parse("2025-26Q3"), build_anyway=True)
    for day in (dt.date(2026, 1, 20), dt.date(2026, 2, 17), dt.date(2026, 3, 17)):
        runs.nightly(cfg, day, deliver=False)
    outcome = runs.quarterly(cfg, Period.parse("2025-26Q4"), build_anyway=True)
    report = Path(outcome.facts["DQ report"])
    IMG.mkdir(parents=True, exist_ok=True)
    visit = chromium.visit(report.as_uri(), screenshot=IMG / "dq_report.png", max_height=1400)
    assert not visit.problems, visit.problems
    shot_of(report, "teamrules", IMG / "dq_report_teams.png", 760)
    shot_of(report, "trend", IMG / "dq_report_trend.png", 1250)

    folder = Path(outcome.facts["exception lists"])
    lists = sorted(folder.glob("*.xlsx"), key=lambda p: p.stat().st_size)
    busiest = next(p for p in reversed(lists) if not p.name.startswith("unallocated"))
    page = busiest.with_suffix(".html")
    visit = chromium.visit(page.as_uri(), screenshot=IMG / "team_page.png", max_height=1100)
    assert not visit.problems, visit.problems
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{base}/lo",
                    "--convert-to", "pdf", "--outdir", str(base), str(busiest)],
                   check=True, capture_output=True)
    pdf = base / busiest.with_suffix(".pdf").name
    for number, name, height in ((1, "team_workbook_summary", 330),
                                 (2, "team_workbook_people", 640)):
        subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", str(number), "-l", str(number),
                        "-x", "50", "-y", "60", "-W", "1060", "-H", str(height), "-singlefile",
                        str(pdf), str(IMG / name)], check=True)
    print(f"written to {IMG}: dq_report.png, dq_report_teams.png, dq_report_trend.png, "
          f"team_page.png, team_workbook_summary.png, team_workbook_people.png "
          f"({busiest.name})")


if __name__ == "__main__":
    main()
