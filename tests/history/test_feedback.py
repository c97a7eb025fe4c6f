"""NHS-number matching feedback: taken in, routed to teams, followed across extracts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from pipelines.config import PROJECT_ROOT
from pipelines.history import History
from pipelines.history.feedback import FeedbackQuarantined, ingest, resolve
from pipelines.source.feedback import FeedbackError, FeedbackLayout
from tests.history.helpers import cld_frame

LAYOUT = FeedbackLayout.load(PROJECT_ROOT / "data" / "sample" / "feedback_layout.yaml")
HEADER = "LA_Person_ID,NHS_Number_Found,Match_Basis,Traced_On\n"


def nhs(stem: int) -> str:
    """A Modulus 11 valid NHS number from a 9-digit stem (skipping stems with no check digit)."""
    while True:
        digits = [int(c) for c in f"{stem:09d}"]
        check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        check = 0 if check == 11 else check
        if check != 10 and len(set(digits)) > 1:
            return f"{stem:09d}{check}"
        stem += 1


def bad_check(number: str) -> str:
    return number[:9] + str((int(number[9]) + 1) % 10)


N1, N2, N3, N4 = nhs(943476591), nhs(401023456), nhs(612345678), nhs(700000017)


def _person(pid: str, team: str, number: str | None = None) -> dict:
    return {"LA_Person_Unique_Identifier": pid, "NHS_Number": number, "Event_Type": "Request",
            "Event_Start_Date": "2024-03-01", "_team_id": team, "_team_name": f"Team {team}"}  # fmt: skip


@pytest.fixture
def h(tmp_path: Path):
    hist = History.open(tmp_path / "h.duckdb")
    people = [_person("P1", "1"), _person("P2", "2"), _person("P3", "1", N3), _person("P4", "2")]
    people += [_person(f"X{i}", "3") for i in range(40)]
    with hist.run("build", "2024-25Q3", "R1") as run:
        run.add_submission(None, cld_frame(people))
    yield hist
    hist.close()


def _write(tmp_path: Path, name: str, body: str, encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(body.encode(encoding))
    return p


def test_feedback_resolved_across_two_extracts(h: History, tmp_path: Path) -> None:
    body = HEADER + (
        f"P1,{N1},NAME_DOB_POSTCODE,01/10/2024\n"
        f"P2,{N2[:3]} {N2[3:6]} {N2[6:]},DOB_POSTCODE,01/10/2024\n"
        f"P3,{N3},NAME_DOB,02/10/2024\n"
        "P4,,NO_MATCH,02/10/2024\n"
    )
    received = dt.date.today() - dt.timedelta(days=10)
    res = ingest(h, _write(tmp_path, "fb.csv", body), LAYOUT, tmp_path / "q",
                 received_on=received)  # fmt: skip
    assert (res.rows, res.items, res.no_match, res.resolved_at_once) == (4, 3, 1, 1)
    # only the items a team must act on: P3's record already holds the number found
    assert res.by_team == {"Team 1": 1, "Team 2": 1} and res.action_needed == 2
    flags = h.feedback_items().select("person_id", "status", "action_needed").rows()
    assert flags == [("P1", "open", True), ("P2", "open", True), ("P3", "resolved", False)]

    outstanding = h.open_feedback()
    assert outstanding.select(
        "person_id", "nhs_number", "team_id", "age_days", "status"
    ).rows() == [
        ("P1", "*******" + N1[-3:], "1", 10, "open"),
        ("P2", "*******" + N2[-3:], "2", 10, "open"),
    ]
    assert h.open_feedback(team_id="2")["person_id"].to_list() == ["P2"]

    # Extract 1: P1's record now holds the number found; P2's still holds none.
    with h.run("nightly") as run1:
        got = resolve(
            h,
            pl.DataFrame({"person_id": [1, 2], "nhs_number": [N1, None]}).with_columns(
                pl.format("P{}", "person_id").alias("person_id")
            ),
            run1.id,
        )
    assert got == {"resolved": 1, "conflict": 0}
    assert h.open_feedback()["person_id"].to_list() == ["P2"]

    # Extract 2 (a CLD frame): P2 now holds a different number -> conflict, still outstanding.
    with h.run("nightly") as run2:
        extract = cld_frame([_person("P1", "1", N1), _person("P2", "2", N4)])
        assert resolve(h, extract, run2.id) == {"resolved": 0, "conflict": 1}
    assert h.open_feedback().select("person_id", "status").rows() == [("P2", "conflict")]

    items = h.con.execute(
        "SELECT person_id, status, resolved_in_run FROM feedback_items ORDER BY person_id"
    ).fetchall()
    assert items == [
        ("P1", "resolved", run1.id),
        ("P2", "conflict", None),
        ("P3", "resolved", res.run_id),
    ]


def test_malformed_file_quarantined_with_reason(h: History, tmp_path: Path) -> None:
    src = _write(tmp_path, "fb.csv", "Person,Number\nP1,123\n")
    sent = src.read_bytes()
    with pytest.raises(FeedbackQuarantined, match="missing column") as err:
        ingest(h, src, LAYOUT, tmp_path / "q")
    # copied (and verified) into the run's folder under the quarantine root; the file the
    # user named is left where it is (it may be a provider's file given by mistake)
    assert err.value.path.read_bytes() == sent and src.read_bytes() == sent
    assert "left where it is" in str(err.value)
    assert err.value.path.parent.parent == tmp_path / "q"
    assert err.value.reason_file == err.value.path.with_name("fb.csv.reason.txt")
    assert "LA_Person_ID" in err.value.reason_file.read_text()
    files = h.con.execute("SELECT status, accepted FROM feedback_files").fetchall()
    assert files == [("quarantined", 0)]
    assert h.open_feedback().height == 0


def test_too_many_bad_rows_quarantined_without_values(h: History, tmp_path: Path) -> None:
    rows = [f"X{i},{nhs(500000000 + i * 7)},NAME_DOB,01/10/2024" for i in range(30)]
    rows[3] = f"X3,{bad_check(N1)},NAME_DOB,01/10/2024"
    rows[5] = f"NOBODY,{N2},NAME_DOB,01/10/2024"
    rows[7] = f"X7,{N2},GUESS,01/10/2024"
    src = _write(tmp_path, "fb.csv", HEADER + "\n".join(rows) + "\n")
    # NOBODY is a person out of scope (set aside), not an invalid row: 2 of 30 are invalid
    with pytest.raises(FeedbackQuarantined, match="2 of 30 rows are invalid") as err:
        ingest(h, src, LAYOUT, tmp_path / "q")
    reason = err.value.reason_file.read_text()
    assert "invalid NHS number (Modulus 11): 1 row(s), lines [5]" in reason
    assert "unknown match basis: 1 row(s), lines [9]" in reason
    assert "unknown person id" not in reason
    assert bad_check(N1) not in reason and "NOBODY" not in reason
    # the attempt is recorded, and as a run that did not take the file in
    status = h.con.execute("SELECT status, error FROM runs WHERE kind = 'feedback'").fetchall()
    assert status == [("failed", "FeedbackQuarantined")]


def test_people_out_of_scope_are_set_aside_and_the_rest_taken_in(h: History, tmp_path: Path):
    """A fifth of the rows name people no longer in the submission: far over the 5% limit
    were they invalid, but they are set aside (counted, kept, recorded) and the rest used."""
    rows = [f"X{i},{nhs(300000000 + i * 11)},NAME_DOB,01/10/2024" for i in range(40)]
    rows += [f"GONE{i},{nhs(600000000 + i * 13)},NAME_DOB,01/10/2024" for i in range(10)]
    src = _write(tmp_path, "fb.csv", HEADER + "\n".join(rows) + "\n")
    res = ingest(h, src, LAYOUT, tmp_path / "q")
    assert (res.rows, res.items, sum(res.rejected.values())) == (50, 40, 0)
    assert sum(res.set_aside.values()) == 10 and "left scope" in next(iter(res.set_aside))
    kept = pl.read_csv(res.set_aside_file, infer_schema=False)
    assert kept["la_person_id"].to_list() == [f"GONE{i}" for i in range(10)]
    assert kept["line"].to_list() == [str(n) for n in range(42, 52)]
    f = h.con.execute("SELECT status, accepted, rejected, reason FROM feedback_files").fetchall()
    assert f[0][:3] == ("accepted", 40, 10) and "10 row(s) set aside" in f[0][3]
    run = h.con.execute("SELECT status, counts FROM runs WHERE kind = 'feedback'").fetchall()[0]
    assert run[0] == "ok" and '"feedback_set_aside": 10' in run[1]
    assert "GONE" not in h.open_feedback()["person_id"].str.join("").item()


def test_a_few_bad_rows_skipped_and_counted(h: History, tmp_path: Path) -> None:
    rows = [f"X{i},{nhs(300000000 + i * 11)},NAME_DOB,01/10/2024" for i in range(40)]
    rows[0] = f"X0,{bad_check(N1)},NAME_DOB,01/10/2024"
    res = ingest(h, _write(tmp_path, "fb.csv", HEADER + "\n".join(rows)), LAYOUT, tmp_path / "q")
    assert res.items == 39
    assert res.rejected == {"invalid NHS number (Modulus 11)": 1}
    assert res.by_team == {"Team 3": 39}
    with pytest.raises(FeedbackError, match="already taken in"):
        ingest(h, tmp_path / "fb.csv", LAYOUT, tmp_path / "q")


def test_layout_is_configurable(h: History, tmp_path: Path) -> None:
    layout_file = tmp_path / "layout.yaml"
    layout_file.write_text(
        "encodings: [cp1252]\ndelimiter: ';'\ndate_format: '%Y%m%d'\n"
        "columns: {la_person_id: Réf client, nhs_number_found: NHS, match_basis: Basis,"
        " traced_on: Date}\nmatch_basis_values: [FULL, NONE]\nno_match_value: NONE\n",
        encoding="utf-8",
    )
    layout = FeedbackLayout.load(layout_file)
    body = f"Réf client;NHS;Basis;Date\nP1;{N1};FULL;20241001\nP2;;NONE;20241001\n"
    allocations = pl.DataFrame(
        {"person_id": ["P1", "P1"], "team_id": [8, 9], "team_name": ["Old", "New"],
         "start_date": [dt.date(2020, 1, 1), dt.date(2024, 1, 1)], "end_date": [None, None]}
    )  # fmt: skip
    res = ingest(h, _write(tmp_path, "fb.txt", body, "cp1252"), layout, tmp_path / "q",
                 allocations=allocations)  # fmt: skip
    assert (res.items, res.no_match, res.by_team) == (1, 1, {"New": 1})
    assert h.open_feedback()["team_id"].to_list() == ["9"]


def test_layout_mistakes_are_named(tmp_path: Path) -> None:
    p = tmp_path / "l.yaml"
    p.write_text("columns: {la_person_id: A}\n")
    with pytest.raises(FeedbackError, match="columns lacks nhs_number_found"):
        FeedbackLayout.load(p)
    p.write_text(
        "colour: red\ncolumns: {la_person_id: A, nhs_number_found: B, match_basis: C,"
        " traced_on: D}\n"
    )
    with pytest.raises(FeedbackError, match=r"unknown key.*colour"):
        FeedbackLayout.load(p)


def test_persons_needed_when_history_is_empty(tmp_path: Path) -> None:
    src = _write(tmp_path, "fb.csv", HEADER + f"P1,{N1},NAME_DOB,01/10/2024\n")
    with History.open(tmp_path / "h.duckdb") as h:
        with pytest.raises(FeedbackError, match="no persons were given"):
            ingest(h, src, LAYOUT, tmp_path / "q")
        res = ingest(h, src, LAYOUT, tmp_path / "q",
                     persons=pl.DataFrame({"person_id": ["P1"], "nhs_number": [None]}))  # fmt: skip
        assert res.items == 1 and res.by_team == {"(no team)": 1}


def test_a_quarantined_feedback_file_is_not_reported_as_a_feed_file(
    h: History, tmp_path: Path
) -> None:
    """Feedback and feeds share one quarantine (pipelines/source/intake.py): a later build's
    list of feed files still held in quarantine leaves the feedback file out."""
    from pipelines.source.feeds import held_in_quarantine

    src = _write(tmp_path, "carers_2025-01.csv", "Person,Number\nP1,123\n")
    with pytest.raises(FeedbackQuarantined):
        ingest(h, src, LAYOUT, tmp_path / "q")
    assert held_in_quarantine(tmp_path / "q", set()) == []
