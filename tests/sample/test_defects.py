"""The manifest matches what was injected; a clean council really is clean."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from datetime import date
from pathlib import Path

import numpy as np
import openpyxl

from pipelines.period import Period
from pipelines.sample.data import DATA_DIR, load_contract
from pipelines.sample.defects import IN_SCOPE_TYPES
from pipelines.sample.nhs import is_valid

POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}$")


def _q(db, sql, *args):
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def _manifest(info) -> list[dict[str, str]]:
    with info.manifest.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _kinds() -> list[dict[str, str]]:
    with (DATA_DIR / "defect_kinds.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _mapped(table: str) -> set[str]:
    with (DATA_DIR / "mappings" / f"{table}.csv").open(encoding="utf-8") as f:
        return {r["local_code"] for r in csv.DictReader(f)}


def _feed_row(info, file: str, line: int) -> dict[str, str]:
    path = info.feeds_dir / file
    if path.suffix == ".xlsx":
        ws = openpyxl.load_workbook(path, read_only=True).active
        rows = list(ws.iter_rows(values_only=True))
        out = {}
        for k, v in zip(rows[0], rows[line - 1], strict=True):
            out[k] = (
                v.strftime("%d/%m/%Y") if hasattr(v, "strftime") else ("" if v is None else str(v))
            )
        return out
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp1252")
    rows = list(csv.reader(io.StringIO(text)))
    return dict(zip(rows[0], rows[line - 1], strict=True))


def _uk(d: str) -> str:
    return date.fromisoformat(d).strftime("%d/%m/%Y")


def test_manifest_has_every_kind_of_record(council):
    kinds = {k["kind"] for k in _kinds()}
    got = {r["kind"] for r in _manifest(council)}
    assert got == kinds
    rows = _manifest(council)
    assert len({r["defect_id"] for r in rows}) == len(rows)
    by_kind = {k["kind"]: k["detected_by"] for k in _kinds()}
    assert all(r["detected_by"] == by_kind[r["kind"]] for r in rows)
    assert all(r["periods"] == ";".join(council.defect_periods) for r in rows)
    # the reference date's own quarter (the sample's default period) holds every defect, and
    # so does a Release 1 file
    assert str(Period.containing(council.reference_date)) in council.defect_periods
    assert {Period.parse(p).default_release for p in council.defect_periods} == {"R1", "R2"}


def test_one_defect_per_person_in_the_database(council):
    people = [
        r["person_id"]
        for r in _manifest(council)
        if r["person_id"] and not r["source"].startswith("feeds/")
    ]
    assert len(people) == len(set(people))


def _check(info, r) -> bool:  # one branch per defect kind, read as a table
    db, kind, key, pid = info.db, r["kind"], r["record_key"], r["person_id"]
    person = _q(
        db,
        "SELECT nhs_number, date_of_birth, date_of_death, gender_code, "
        "ethnicity_code FROM persons WHERE person_id = ?",
        pid,
    )
    if kind in ("missing_gender", "missing_ethnicity", "missing_dob", "missing_nhs_number"):
        col = {
            "missing_gender": 3,
            "missing_ethnicity": 4,
            "missing_dob": 1,
            "missing_nhs_number": 0,
        }[kind]
        return person[0][col] is None
    if kind == "invalid_nhs_number":
        return person[0][0] is not None and not is_valid(np.array([person[0][0]]))[0]
    if kind == "placeholder_nhs_number":
        return len(set(person[0][0])) == 1
    if kind == "death_before_birth":
        return person[0][2] < person[0][1]
    if kind in ("missing_postcode", "missing_accommodation", "invalid_postcode"):
        col = "accommodation_code" if kind == "missing_accommodation" else "postcode"
        vals = [
            v for (v,) in _q(db, f"SELECT {col} FROM person_addresses WHERE person_id = ?", pid)
        ]
        if kind == "invalid_postcode":
            return bool(vals) and all(v and not POSTCODE.match(v) for v in vals)
        return bool(vals) and all(v is None for v in vals)
    if kind == "missing_psr":
        return not _q(db, "SELECT 1 FROM person_support_reasons WHERE person_id = ?", pid)
    step = _q(
        db,
        "SELECT started_on, completed_on, status_code, step_type_code FROM "
        "workflow_steps WHERE step_id = ?",
        key,
    )
    if kind == "under_18_at_event":
        start, dob = date.fromisoformat(step[0][0]), date.fromisoformat(person[0][1])
        return (start.year - dob.year - ((start.month, start.day) < (dob.month, dob.day))) < 18
    if kind == "event_after_death":
        return step[0][0] > person[0][2]
    if kind == "completed_without_end_date":
        return step[0][2] == "COMP" and step[0][1] is None
    if kind == "review_without_outcomes":
        det = _q(
            db,
            "SELECT review_reason_code, outcomes_code FROM step_review_details WHERE step_id = ?",
            key,
        )
        return step[0][3] == "REVIEW_PLAN" and det[0][1] is None
    svc = _q(
        db,
        "SELECT start_date, end_date, unit_cost, planned_units_per_week, service_code, "
        "delivery_code, person_id, cost_frequency_code FROM service_agreements "
        "WHERE agreement_id = ?",
        key,
    )
    if kind == "end_before_start":
        return svc[0][1] < svc[0][0]
    if kind == "missing_cost":
        return svc[0][2] is None and svc[0][5] != "COMM"
    if kind == "negative_cost":
        return svc[0][2] < 0
    if kind == "planned_units_over_168":
        return svc[0][3] > 168
    if kind == "direct_payment_in_prison":
        return svc[0][4] == "PRISCARE" and svc[0][5] == "DP"
    if kind == "duplicate_service":
        twins = _q(
            db,
            "SELECT COUNT(*) FROM service_agreements WHERE person_id = ? AND "
            "start_date = ? AND service_code = ? AND delivery_code IS ? AND "
            "agreement_id <> ?",
            svc[0][6],
            svc[0][0],
            svc[0][4],
            svc[0][5],
            key,
        )
        return twins[0][0] >= 1
    if kind == "unmapped_local_code":
        col, code = r["detail"].split("=")
        table = {
            "ethnicity_code": "ethnicity",
            "gender_code": "gender",
            "service_code": "service",
            "route_code": "route",
        }[col]
        return code not in _mapped(table)
    if kind == "carer_link_to_nobody":
        target = _q(
            db, "SELECT cared_for_person_id FROM carer_relationships WHERE relationship_id = ?", key
        )[0][0]
        types = ",".join(f"'{t}'" for t in IN_SCOPE_TYPES)
        return not _q(
            db,
            f"SELECT 1 FROM workflow_steps WHERE person_id = ? AND step_type_code IN ({types})",
            target,
        ) and not _q(db, "SELECT 1 FROM service_agreements WHERE person_id = ?", target)
    if kind == "malformed_feed_file":
        return (info.feeds_dir / key).exists()
    file, line = key.rsplit(":", 1)
    row = _feed_row(info, file, int(line))
    contract = load_contract("carers_feed" if file.startswith("carers") else "equipment_feed")
    m = contract["match"]
    la, nhs = row.get(m["person_id"], ""), row.get(m["nhs_number"], "")
    if kind == "feed_unmatched_person":
        return la == "" and not _q(db, "SELECT 1 FROM persons WHERE nhs_number = ?", nhs)
    case = _q(
        db, "SELECT nhs_number, date_of_birth, gender_code FROM persons WHERE person_id = ?", la
    )
    if kind == "feed_nhs_conflict":
        return nhs != "" and nhs != case[0][0]
    if kind == "feed_dob_conflict":
        return row[m["date_of_birth"]] != _uk(case[0][1])
    if kind == "feed_gender_conflict":
        return row[m["gender"]] != case[0][2]
    if kind == "open_service_wrong_outcome":
        return row["Activity End Date"] == "" and row["Outcome"] == "COMPLETED"
    raise AssertionError(f"no check for kind {kind}")


def test_each_manifest_row_really_carries_its_defect(council):
    rows = _manifest(council)
    wrong = [(r["defect_id"], r["kind"]) for r in rows if not _check(council, r)]
    assert wrong == []


def test_defects_sit_in_the_defect_window(council):
    hi = council.defect_window[1].isoformat()
    for r in _manifest(council):
        if r["source"] == "workflow_steps" and r["kind"] != "completed_without_end_date":
            (start,) = _q(
                council.db,
                "SELECT started_on FROM workflow_steps WHERE step_id = ?",
                r["record_key"],
            )[0]
            assert start <= hi
        if r["source"] == "service_agreements":
            (start,) = _q(
                council.db,
                "SELECT start_date FROM service_agreements WHERE agreement_id = ?",
                r["record_key"],
            )[0]
            assert start <= hi


def test_clean_council_has_no_defects(clean_council):
    db = clean_council.db
    assert _manifest(clean_council) == []
    nhs = np.array([n for (n,) in _q(db, "SELECT nhs_number FROM persons")], dtype=object)
    assert is_valid(nhs).all()
    for col in ("gender_code", "ethnicity_code", "date_of_birth"):
        assert _q(db, f"SELECT COUNT(*) FROM persons WHERE {col} IS NULL")[0][0] == 0
    assert (
        _q(
            db,
            "SELECT COUNT(*) FROM person_addresses WHERE postcode IS NULL OR "
            "accommodation_code IS NULL",
        )[0][0]
        == 0
    )
    assert all(POSTCODE.match(p) for (p,) in _q(db, "SELECT postcode FROM person_addresses"))
    assert _q(db, "SELECT COUNT(*) FROM persons WHERE date_of_death < date_of_birth")[0][0] == 0
    for table, col in [("gender", "gender_code"), ("ethnicity", "ethnicity_code")]:
        codes = {c for (c,) in _q(db, f"SELECT DISTINCT {col} FROM persons")}
        assert codes <= _mapped(table)
    for table, sql in [
        ("service", "SELECT DISTINCT service_code FROM service_agreements"),
        ("route", "SELECT DISTINCT route_code FROM step_contact_details"),
        ("step_type", "SELECT DISTINCT step_type_code FROM workflow_steps"),
        (
            "outcome",
            "SELECT DISTINCT outcome_code FROM workflow_steps WHERE outcome_code "
            "IS NOT NULL UNION SELECT DISTINCT end_reason_code FROM service_agreements "
            "WHERE end_reason_code IS NOT NULL",
        ),
        ("psr", "SELECT DISTINCT psr_code FROM person_support_reasons"),
        ("accommodation", "SELECT DISTINCT accommodation_code FROM person_addresses"),
    ]:
        assert {c for (c,) in _q(db, sql)} <= _mapped(table), table
    # every event of a person is on or after their 18th birthday, and not after death
    young = _q(
        db,
        "SELECT COUNT(*) FROM workflow_steps s JOIN persons p USING (person_id) "
        "WHERE date(s.started_on, '-18 years') < p.date_of_birth",
    )[0][0]
    assert young == 0
    late = _q(
        db,
        "SELECT COUNT(*) FROM workflow_steps s JOIN persons p USING (person_id) "
        "WHERE s.started_on > p.date_of_death",
    )[0][0]
    assert late == 0
    svc = _q(
        db,
        "SELECT COUNT(*) FROM service_agreements WHERE end_date < start_date OR "
        "unit_cost < 0 OR planned_units_per_week > 168",
    )[0][0]
    assert svc == 0
    undated = _q(
        db,
        "SELECT COUNT(*) FROM workflow_steps WHERE status_code = 'COMP' AND completed_on IS NULL",
    )[0][0]
    assert undated == 0
    no_outcomes = _q(
        db,
        "SELECT COUNT(*) FROM step_review_details d JOIN workflow_steps s "
        "USING (step_id) WHERE s.step_type_code = 'REVIEW_PLAN' AND "
        "s.status_code = 'COMP' AND d.outcomes_code IS NULL",
    )[0][0]
    assert no_outcomes == 0


def test_clean_feeds_name_the_right_people(clean_council):
    db = clean_council.db
    case = {
        str(p): (n, _uk(d), g)
        for p, n, d, g in _q(
            db, "SELECT person_id, nhs_number, date_of_birth, gender_code FROM persons"
        )
    }
    by_nhs = {v[0]: k for k, v in case.items()}
    files = sorted(Path(clean_council.feeds_dir).iterdir())
    assert files and not any("resend" in f.name for f in files)
    checked = 0
    for f in files:
        contract = load_contract("carers_feed" if f.name.startswith("carers") else "equipment_feed")
        m = contract["match"]
        n_rows = (
            sum(1 for _ in openpyxl.load_workbook(f, read_only=True).active.iter_rows())
            if f.suffix == ".xlsx"
            else len(f.read_bytes().splitlines())
        )
        for line in range(2, n_rows + 1):
            row = _feed_row(clean_council, f.name, line)
            pid = row[m["person_id"]] or by_nhs.get(row[m["nhs_number"]])
            assert pid in case, (f.name, line)
            if row[m["nhs_number"]]:
                assert row[m["nhs_number"]] == case[pid][0]
            assert row[m["date_of_birth"]] == case[pid][1]
            checked += 1
    assert checked > 0


def test_carers_link_to_service_users_throughout(clean_council):
    # the cared-for person of every relationship has support active across the whole window
    db = clean_council.db
    start = clean_council.reference_date.replace(year=clean_council.reference_date.year - 2)
    bad = _q(
        db,
        "SELECT COUNT(*) FROM carer_relationships r WHERE NOT EXISTS (SELECT 1 FROM "
        "service_agreements a WHERE a.person_id = r.cared_for_person_id AND "
        "a.start_date <= ? AND a.end_date IS NULL AND a.status_code IN ('ACT','SUSP'))",
        start.isoformat(),
    )[0][0]
    assert bad == 0
