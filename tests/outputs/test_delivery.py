"""Delivery through a real SMTP server on loopback (aiosmtpd): what arrives is read back,
attachments are opened with openpyxl, retries and failures are exercised for real."""

from __future__ import annotations

import csv
import datetime as dt
import io
import ssl
import time
from pathlib import Path

import openpyxl
import pytest

from pipelines.config import load_config
from pipelines.outputs.delivery import (
    DeliveryOutcome,
    DirectoryError,
    deliver,
    load_directory,
    write_report,
)
from pipelines.outputs.exceptions import write_exception_lists
from tests.outputs.smtp_server import RecordingHandler, free_port, start_server

ADDRESSES = {
    "T01": "north.manager@council.example",
    "T02": "south.manager@council.example;south.deputy@council.example",
    "T03": "hospital.manager@council.example",
    "T04": "ld.manager@council.example",
}


def _config(tmp_path: Path, port: int, *, mode: str = "email", starttls: bool = False,
            username: str | None = None, retries: int = 2):
    directory = tmp_path / "team_directory.csv"
    with directory.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["team_id", "team_name", "email"])
        for tid, addr in ADDRESSES.items():
            w.writerow([tid, f"Team {tid}", addr])
    user = f'username = "{username}"\n' if username else ""
    (tmp_path / "cld.toml").write_text(
        f'[council]\nla_code = "999"\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = {str(starttls).lower()}\n'
        f'sender = "cld@council.example"\n{user}'
        f'[delivery]\nmode = "{mode}"\ndirectory = "team_directory.csv"\nfolder = "drop"\n'
        f"retries = {retries}\n"
    )
    return load_config(tmp_path / "cld.toml")


@pytest.fixture
def lists(tmp_path, findings, previous, feedback, trend, directory_teams):
    return write_exception_lists(findings, tmp_path / "lists", run_id="RUN2",
                                 teams=directory_teams, previous=previous, feedback=feedback,
                                 trend=trend, period="2025-26Q4", council="Test Council")


def _attachment_people(msg) -> set[str]:
    parts = list(msg.iter_attachments())
    assert [p.get_filename().rsplit(".", 1)[1] for p in parts] == ["xlsx", "html"]
    page = parts[1].get_content()
    assert "Counts only" in page and "<script" not in page
    wb = openpyxl.load_workbook(io.BytesIO(parts[0].get_content()))
    found = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            found |= {v for v in row if isinstance(v, str) and v.startswith("P") and v[1:].isdigit()}
    return found


def test_email_each_team_its_own_workbook(tmp_path, lists, findings):
    handler = RecordingHandler()
    server = start_server(handler)
    try:
        cfg = _config(tmp_path, server.port)
        report = deliver(lists, cfg, backoff=0.01)
    finally:
        server.stop()
    assert report.ok, report.outcomes
    assert len(handler.received) == 4
    by_rcpt = {tuple(r.rcpt_tos): r for r in handler.received}
    south = by_rcpt[("south.manager@council.example", "south.deputy@council.example")]
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()  # [delivery] deadline_days
    assert south.message["Subject"] == (
        f"CLD data quality - Test Council - South Locality - 2025-26Q4: 8 fixes due by {due}")
    assert "(RUN2)" not in south.message["Subject"]
    assert south.mail_from == "cld@council.example"
    body = south.message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "for South Locality, Test Council (period 2025-26Q4, run RUN2)" in body
    assert f"Due by {due}:" in body and "Errors to fix (they block the submission): 4" in body
    assert "Top fixes:\n  1. Gender is blank but mandatory (4)\n  2. Unit Cost: " in body
    assert "Open issues over recent runs: 9 -> 8 -> 8" in body
    # Team scoping of the attachment, and no client identifier in any body.
    owner = dict(findings.select("person_id", "team_id").drop_nulls().unique().iter_rows())
    for received in handler.received:
        team = next(t for t, a in ADDRESSES.items() if a.split(";")[0] == received.rcpt_tos[0])
        people = _attachment_people(received.message)
        assert people == {p for p, t in owner.items() if t == team}
        text = received.message.get_body(("plain",)).get_content()
        assert not any(p in text for p in owner) and "P9999" not in text
    clear = by_rcpt[("ld.manager@council.example",)]
    assert clear.message["Subject"] == (
        "CLD data quality - Test Council - Learning Disability - 2025-26Q4: all clear")
    clear_body = clear.message.get_body(("plain",)).get_content()
    assert "errors first" not in clear_body and "All clear" in clear_body
    rows = list(csv.DictReader(report.path.open()))
    assert {r["team_id"]: r["status"] for r in rows} == dict.fromkeys(ADDRESSES, "sent")


def test_temporary_failure_is_retried_then_delivered(tmp_path, lists):
    handler = RecordingHandler(fail_data=2)  # the first two DATA commands get 451
    server = start_server(handler)
    waits: list[float] = []
    try:
        report = deliver(lists, _config(tmp_path, server.port, retries=3), backoff=0.01,
                         sleep=waits.append)
    finally:
        server.stop()
    assert report.ok
    first = report.outcomes[0]
    assert first.status == "sent" and first.attempts == 3
    assert waits == [0.01, 0.02]  # doubling backoff
    assert len(handler.received) == 4 and handler.data_attempts == 6


def test_one_team_keeps_failing_others_still_get_theirs(tmp_path, lists):
    handler = RecordingHandler(busy={"south.manager@council.example",
                                     "south.deputy@council.example"})
    server = start_server(handler)
    try:
        report = deliver(lists, _config(tmp_path, server.port, retries=2), backoff=0.001)
    finally:
        server.stop()
    status = {o.team_id: o for o in report.outcomes}
    assert status["T02"].status == "failed" and status["T02"].attempts == 3
    assert "451" in status["T02"].detail
    assert [status[t].status for t in ("T01", "T03", "T04")] == ["sent"] * 3
    assert len(handler.received) == 3
    assert not report.ok and [o.team_id for o in report.failed] == ["T02"]
    rows = {r["team_id"]: r for r in csv.DictReader(report.path.open())}
    assert rows["T02"]["status"] == "failed"


def test_starttls_and_login_from_environment(tmp_path, lists, monkeypatch):
    handler = RecordingHandler()
    server = start_server(handler, tls_folder=tmp_path, login=("cld", "s3cret"))
    monkeypatch.setenv("CLD_SMTP_PASSWORD", "s3cret")
    try:
        cfg = _config(tmp_path, server.port, starttls=True, username="cld")
        ctx = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
        report = deliver(lists, cfg, ssl_context=ctx, backoff=0.01)
        # A wrong password is a permanent failure for every team: no retries, all reported.
        monkeypatch.setenv("CLD_SMTP_PASSWORD", "wrong")
        bad = deliver(lists, cfg, ssl_context=ctx, backoff=0.01)
    finally:
        server.stop()
    assert report.ok
    assert len(handler.received) == 4
    assert all(r.tls and r.login == "cld" for r in handler.received)
    assert {o.status for o in bad.outcomes} == {"failed"}
    assert all(o.attempts == 1 and "535" in o.detail for o in bad.outcomes)


def test_folder_drop_per_team(tmp_path, lists, findings, directory_teams):
    """Folders by team name; the latest list under a stable name, each run's kept beside."""
    cfg = _config(tmp_path, 25, mode="folder")
    report = deliver(lists, cfg)
    assert report.ok
    later = write_exception_lists(findings.head(3), tmp_path / "lists3", run_id="RUN3",
                                  teams=directory_teams, period="2026-27Q1")
    assert deliver(later, cfg).ok
    folders = sorted(p.name for p in (tmp_path / "drop").iterdir())
    assert folders == ["Hospital_Discharge", "Learning_Disability", "North_Locality",
                       "South_Locality"]
    north = tmp_path / "drop" / "North_Locality"
    assert sorted(p.name for p in north.iterdir()) == [
        "CLD_exception_list.html", "CLD_exception_list.xlsx",
        "T01_North_Locality_2025_26Q4_RUN2.xlsx", "T01_North_Locality_2026_27Q1_RUN3.xlsx"]
    newest = next(t for t in later.teams if t.team_id == "T01")
    assert (north / "CLD_exception_list.xlsx").read_bytes() == newest.path.read_bytes()
    assert not list((tmp_path / "drop").rglob("*.partial"))


def test_team_without_address_is_reported_not_sent(tmp_path, lists):
    handler = RecordingHandler()
    server = start_server(handler)
    try:
        cfg = _config(tmp_path, server.port)
        (tmp_path / "team_directory.csv").write_text(
            "team_id,team_name,email\nT01,North,north.manager@council.example\n")
        report = deliver(lists, cfg, backoff=0.01)
    finally:
        server.stop()
    assert {o.team_id: o.status for o in report.outcomes} == {
        "T01": "sent", "T02": "no_address", "T03": "no_address", "T04": "no_address"}
    assert len(handler.received) == 1


def test_directory_errors_name_the_file(tmp_path):
    bad = tmp_path / "dir.csv"
    bad.write_text("team,email\nT01,x@y\n")
    with pytest.raises(DirectoryError, match=r"dir\.csv: missing column"):
        load_directory(bad)
    bad.write_text("team_id,team_name,email\nT01,North,not-an-address\n")
    with pytest.raises(DirectoryError, match="line 2"):
        load_directory(bad)


def test_sample_directory_loads():
    root = Path(__file__).resolve().parents[2]
    teams = load_directory(root / "data" / "sample" / "team_directory.csv")
    assert list(teams)[:3] == ["1", "2", "3"] and len(teams) == 15
    assert len(teams["1"].emails) == 2
    assert all(c.emails and c.team_name for c in teams.values())


def test_one_manager_busy_only_that_one_is_retried(tmp_path, lists):
    """South's deputy is busy once: the manager gets it at once, the deputy on the retry, and
    nobody gets it twice. North's only address does not exist (550): failed, not retried."""
    handler = RecordingHandler(busy_once={"south.deputy@council.example"},
                               gone={"north.manager@council.example"})
    server = start_server(handler)
    try:
        report = deliver(lists, _config(tmp_path, server.port, retries=2), backoff=0.001)
    finally:
        server.stop()
    status = {o.team_id: o for o in report.outcomes}
    assert status["T02"].status == "sent" and status["T02"].attempts == 2
    south = [r.rcpt_tos for r in handler.received if r.rcpt_tos[0].startswith("south")]
    assert south == [["south.manager@council.example"], ["south.deputy@council.example"]]
    assert status["T01"].status == "failed" and status["T01"].attempts == 1
    assert "550" in status["T01"].detail
    assert [o.team_id for o in report.failed] == ["T01"]


def test_partial_when_one_manager_stays_unreachable(tmp_path, lists):
    handler = RecordingHandler(busy={"south.deputy@council.example"})
    server = start_server(handler)
    try:
        report = deliver(lists, _config(tmp_path, server.port, retries=1), backoff=0.001)
    finally:
        server.stop()
    t02 = next(o for o in report.outcomes if o.team_id == "T02")
    assert t02.status == "partial" and t02.recipients == 1 and t02.attempts == 2
    assert "451" in t02.detail
    assert sum(r.rcpt_tos == ["south.manager@council.example"] for r in handler.received) == 1
    assert [o.team_id for o in report.failed] == ["T02"]
    msg = handler.received[0].message
    assert msg["Date"] and msg["Message-ID"].endswith("@council.example>")


def test_the_delivery_report_is_excel_safe(tmp_path: Path) -> None:
    """Team names and error texts come from outside: none may run as a formula in Excel."""
    outcome = DeliveryOutcome("T9", "=HYPERLINK(\"http://x\")", "email", "failed", attempts=2,
                              detail="@SUM(1)")
    path = write_report([outcome], tmp_path / "delivery_report.csv")
    row = next(csv.DictReader(path.open()))
    assert row["team_name"] == "'=HYPERLINK(\"http://x\")" and row["detail"] == "'@SUM(1)"
    assert row["team_id"] == "T9" and row["attempts"] == "2"


def test_unreachable_server_named_once_and_stops_at_once(tmp_path, lists, caplog):
    """Nothing listening on the port (a real closed port on loopback): the server is named
    once (host:port), nothing is retried team by team, and the lists stay in the folder."""
    port = free_port()  # bound and released: nothing listens there
    cfg = _config(tmp_path, port, retries=3)
    started = time.monotonic()
    with caplog.at_level("INFO"):
        report = deliver(lists, cfg, backoff=2.0)
    assert time.monotonic() - started < 5
    assert report.unreachable == (f"cannot reach the SMTP server 127.0.0.1:{port} "
                                  "([smtp] host, port): Connection refused")
    assert {o.status for o in report.outcomes} == {"not_sent"}
    assert all(o.attempts == 0 for o in report.outcomes)
    assert len([r for r in caplog.records if f"127.0.0.1:{port}" in r.getMessage()]) <= 1
    assert not [r for r in caplog.records if r.levelno >= 30]  # nothing on a terminal
    assert all(t.path.exists() for t in lists.teams)
    rows = list(csv.DictReader(report.path.open()))
    assert {r["status"] for r in rows} == {"not_sent"}
