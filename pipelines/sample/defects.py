"""Known defects injected into the sample council, and their manifest (docs/contracts.md s.7).

Every defect is put on a record that is *in scope* for the defect window (the financial
quarter 12 months before the reference date; January-March 2025 by default): a completed
request/assessment/review finished in it, or a service active in it. That quarter lies inside
the rolling 12-month files of four consecutive periods (2024-25Q4 to 2025-26Q3 by default), so
each defect can surface in each of them; the manifest's ``periods`` column lists them.

Each person carries at most one defect, so a finding can be traced to exactly one manifest
row; carers' cared-for people, transition clients and people who die are left alone. The kinds
and which stage must detect them are data: ``data/sample/defect_kinds.csv``.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.sample.journeys import ADULT_DAYS, OUT_OF_SCOPE, ChunkBuilder, Ids
from pipelines.sample.nhs import invalid_numbers, spare_valid_numbers

MANIFEST_COLUMNS = [
    "defect_id",
    "kind",
    "source",
    "record_key",
    "person_id",
    "cld_field",
    "event_type",
    "detected_by",
    "detail",
    "periods",
]
IN_SCOPE_TYPES = {
    "CONTACT": "Request",
    "ASSESS_CA": "Assessment",
    "ASSESS_OT": "Assessment",
    "ASSESS_REAB": "Assessment",
    "ASSESS_FIN": "Assessment",
    "ASSESS_CARER": "Assessment",
    "REVIEW_PLAN": "Review",
    "REVIEW_UNPL": "Review",
    "REVIEW_CARER": "Review",
}
COST_MANDATORY_CODES = ["HOMECARE", "DPCASH", "SUPPLIV", "XCARE", "SHLIVES", "RESI", "NURSING"]
PLACEHOLDERS = ["9999999999", "0000000000", "1111111111"]
BAD_POSTCODES = ["SX 1AB", "NOT KNOWN", "S1X 11AB", "12345"]
EPOCH = date(1970, 1, 1)


def _d(n: int) -> date:
    return date.fromordinal(EPOCH.toordinal() + int(n))


class _Picker:
    """Draws records for each kind so that no person carries two defects."""

    def __init__(self, rng: np.random.Generator, excluded: set[int]):
        self.rng = rng
        self.used: set[int] = set(excluded)

    def take(self, frame: pl.DataFrame, k: int, person_col: str = "person_id") -> pl.DataFrame:
        if frame.height == 0 or k == 0:
            return frame.head(0)
        frame = frame.filter(~pl.col(person_col).is_in(list(self.used)))
        frame = frame.unique(person_col, keep="first", maintain_order=True)
        if frame.height == 0:
            return frame
        idx = np.sort(self.rng.choice(frame.height, min(k, frame.height), replace=False))
        got = frame[idx.tolist()]
        self.used.update(got[person_col].to_list())
        return got


def inject_db(
    tables: dict[str, pl.DataFrame],
    b: ChunkBuilder,
    rng: np.random.Generator,
    per_kind: int,
    window: tuple[int, int],
    ids: Ids,
) -> list[dict[str, object]]:
    """Edit the chunk's tables in place (dict entries replaced); return manifest rows."""
    w0, w1 = _d(window[0]), _d(window[1])
    t = tables
    steps = t["workflow_steps"]
    svc = t["service_agreements"]
    persons = t["persons"]
    lists = b.d.lists
    rel = t["carer_relationships"]
    contact = t["step_contact_details"]
    trans = steps.join(contact, on="step_id").filter(pl.col("route_code") == "TRANS")
    excluded = set(rel["cared_for_person_id"].to_list())
    excluded |= set(trans["person_id"].to_list())
    excluded |= set(persons.filter(pl.col("date_of_death").is_not_null())["person_id"].to_list())
    pick = _Picker(rng, excluded)
    rows: list[dict[str, object]] = []

    def add(kind, source, key, person, field, event_type="", detail=""):
        rows.append(
            dict(
                kind=kind,
                source=source,
                record_key=str(key),
                person_id=str(person),
                cld_field=field,
                event_type=event_type,
                detail=detail,
            )
        )

    done_steps = steps.filter(
        (pl.col("status_code") == "COMP")
        & pl.col("completed_on").is_between(w0, w1)
        & pl.col("step_type_code").is_in(list(IN_SCOPE_TYPES))
    )
    active = svc.filter(
        pl.col("status_code").is_in(["ACT", "END", "SUSP"])
        & (pl.col("start_date") <= w1)
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= w0))
    )
    user_steps = done_steps.filter(~pl.col("is_carer_step"))
    user_svc = active.filter(~pl.col("for_carer"))
    in_window = (
        pl.concat([user_steps.select("person_id"), user_svc.select("person_id")])
        .unique(maintain_order=True)
        .sort("person_id")
    )
    non_request = (
        pl.concat(
            [
                user_steps.filter(pl.col("step_type_code") != "CONTACT").select("person_id"),
                user_svc.select("person_id"),
            ]
        )
        .unique(maintain_order=True)
        .sort("person_id")
    )

    # person-level -------------------------------------------------------------------
    def person_kind(kind, field, frame=in_window):
        got = pick.take(frame, per_kind)["person_id"].to_list()
        for p in got:
            add(kind, "persons", p, p, field)
        return got

    for kind, col, field in [
        ("missing_gender", "gender_code", "Gender"),
        ("missing_ethnicity", "ethnicity_code", "Ethnicity"),
        ("missing_dob", "date_of_birth", "Date_of_Birth"),
        ("missing_nhs_number", "nhs_number", "NHS_Number"),
    ]:
        got = person_kind(kind, field)
        persons = persons.with_columns(
            pl.when(pl.col("person_id").is_in(got)).then(None).otherwise(pl.col(col)).alias(col)
        )

    got = person_kind("invalid_nhs_number", "NHS_Number")
    bad = dict(
        zip(
            got,
            invalid_numbers(
                persons.filter(pl.col("person_id").is_in(got))
                .sort("person_id")["nhs_number"]
                .to_numpy()
            ),
            strict=True,
        )
    )
    persons = _replace(persons, "nhs_number", bad)
    got = person_kind("placeholder_nhs_number", "NHS_Number")
    persons = _replace(
        persons, "nhs_number", {p: PLACEHOLDERS[i % len(PLACEHOLDERS)] for i, p in enumerate(got)}
    )

    addresses = t["person_addresses"]
    for kind, col, field in [
        ("missing_postcode", "postcode", "Postcode"),
        ("missing_accommodation", "accommodation_code", "Accommodation_Status"),
    ]:
        got = pick.take(in_window, per_kind)["person_id"].to_list()
        for p in got:
            add(kind, "person_addresses", p, p, field)
        addresses = addresses.with_columns(
            pl.when(pl.col("person_id").is_in(got)).then(None).otherwise(pl.col(col)).alias(col)
        )
    got = pick.take(in_window, per_kind)["person_id"].to_list()
    codes = {p: BAD_POSTCODES[i % len(BAD_POSTCODES)] for i, p in enumerate(got)}
    for p in got:
        add("invalid_postcode", "person_addresses", p, p, "Postcode")
    addresses = addresses.with_columns(
        pl.col("person_id")
        .replace_strict(codes, default=None, return_dtype=pl.String)
        .fill_null(pl.col("postcode"))
        .alias("postcode")
    )
    t["person_addresses"] = addresses

    got = pick.take(non_request, per_kind)["person_id"].to_list()
    for p in got:
        add("missing_psr", "person_support_reasons", p, p, "Primary_Support_Reason")
    t["person_support_reasons"] = t["person_support_reasons"].filter(
        ~pl.col("person_id").is_in(got)
    )

    got = person_kind("death_before_birth", "Date_of_Death")
    persons = persons.with_columns(
        pl.when(pl.col("person_id").is_in(got))
        .then(pl.col("date_of_birth") - pl.duration(days=400))
        .otherwise(pl.col("date_of_death"))
        .alias("date_of_death")
    )

    # first and last event of each person (for age and death edits)
    spans = (
        pl.concat(
            [
                steps.select("person_id", pl.col("started_on").alias("d")),
                svc.select("person_id", pl.col("start_date").alias("d")),
            ]
        )
        .group_by("person_id")
        .agg(pl.col("d").min().alias("first"), pl.col("d").max().alias("last"))
    )

    # under 18 at a request that starts in the window, for people new to the council
    young = (
        user_steps.filter(pl.col("started_on").is_between(w0, w1))
        .join(spans, on="person_id")
        .filter(pl.col("first") >= pl.lit(w0) - pl.duration(days=30))
        .sort("step_id")
    )
    got = pick.take(young, per_kind)
    for r in got.iter_rows(named=True):
        add(
            "under_18_at_event",
            "workflow_steps",
            r["step_id"],
            r["person_id"],
            "Date_of_Birth",
            IN_SCOPE_TYPES[r["step_type_code"]],
        )
    dob = {
        r["person_id"]: date.fromordinal(r["first"].toordinal() - (ADULT_DAYS - 400))
        for r in got.iter_rows(named=True)
    }
    persons = _replace(persons, "date_of_birth", dob, dtype=pl.Date)

    # event after death: the latest event of the person starts in the window, after death
    last = (
        user_steps.join(spans, on="person_id")
        .filter(
            (pl.col("started_on") == pl.col("last"))
            & pl.col("started_on").is_between(w0, w1)
            & (pl.col("first") < pl.col("started_on") - pl.duration(days=10))
        )
        .sort("step_id")
    )
    got = pick.take(last, per_kind)
    for r in got.iter_rows(named=True):
        add(
            "event_after_death",
            "workflow_steps",
            r["step_id"],
            r["person_id"],
            "Event_Start_Date",
            IN_SCOPE_TYPES[r["step_type_code"]],
        )
    death = {
        r["person_id"]: date.fromordinal(r["started_on"].toordinal() - 2)
        for r in got.iter_rows(named=True)
    }
    persons = _replace(persons, "date_of_death", death, dtype=pl.Date)

    # step-level -----------------------------------------------------------------------
    no_end = pick.take(
        user_steps.filter(
            pl.col("started_on").is_between(w0, w1)
            & pl.col("step_type_code").is_in(["CONTACT", "ASSESS_CA", "ASSESS_OT", "REVIEW_PLAN"])
        ).sort("step_id"),
        per_kind,
    )
    for r in no_end.iter_rows(named=True):
        add(
            "completed_without_end_date",
            "workflow_steps",
            r["step_id"],
            r["person_id"],
            "Event_End_Date",
            IN_SCOPE_TYPES[r["step_type_code"]],
        )
    steps = steps.with_columns(
        pl.when(pl.col("step_id").is_in(no_end["step_id"].to_list()))
        .then(None)
        .otherwise(pl.col("completed_on"))
        .alias("completed_on")
    )

    planned = pick.take(
        user_steps.filter(pl.col("step_type_code") == "REVIEW_PLAN").sort("step_id"), per_kind
    )
    for r in planned.iter_rows(named=True):
        add(
            "review_without_outcomes",
            "step_review_details",
            r["step_id"],
            r["person_id"],
            "Review_Outcomes_Achieved",
            "Review",
        )
    t["step_review_details"] = t["step_review_details"].with_columns(
        pl.when(pl.col("step_id").is_in(planned["step_id"].to_list()))
        .then(None)
        .otherwise(pl.col("outcomes_code"))
        .alias("outcomes_code")
    )

    # service-level --------------------------------------------------------------------------
    svc_edits: dict[str, dict[int, object]] = {}

    def service_kind(kind, frame, field, detail=""):
        got = pick.take(frame.sort("agreement_id"), per_kind)
        for r in got.iter_rows(named=True):
            add(
                kind,
                "service_agreements",
                r["agreement_id"],
                r["person_id"],
                field,
                "Service",
                detail,
            )
        return got

    late = user_svc.filter(pl.col("start_date") >= pl.lit(w0) + pl.duration(days=25))
    got = service_kind("end_before_start", late, "Event_End_Date")
    for r in got.iter_rows(named=True):
        svc_edits.setdefault("end_date", {})[r["agreement_id"]] = date.fromordinal(
            r["start_date"].toordinal() - 20
        )
        svc_edits.setdefault("status_code", {})[r["agreement_id"]] = "END"
        svc_edits.setdefault("end_reason_code", {})[r["agreement_id"]] = "ENDPLAN"
    costed = user_svc.filter(
        pl.col("service_code").is_in(COST_MANDATORY_CODES)
        & pl.col("delivery_code").is_in(["DP", "MPB", "ISF"])
    )
    got = service_kind("missing_cost", costed, "Unit_Cost")
    for r in got.iter_rows(named=True):
        svc_edits.setdefault("unit_cost", {})[r["agreement_id"]] = None
    got = service_kind("negative_cost", costed, "Unit_Cost")
    for r in got.iter_rows(named=True):
        svc_edits.setdefault("unit_cost", {})[r["agreement_id"]] = -abs(r["unit_cost"])
    hourly = user_svc.filter(pl.col("cost_frequency_code") == "HR")
    got = service_kind("planned_units_over_168", hourly, "Planned_units_per_week")
    for i, r in enumerate(got.iter_rows(named=True)):
        svc_edits.setdefault("planned_units_per_week", {})[r["agreement_id"]] = 170.0 + 37 * i
    homecare = user_svc.filter(pl.col("service_code") == "HOMECARE")
    got = service_kind("direct_payment_in_prison", homecare, "Delivery_Mechanism")
    for r in got.iter_rows(named=True):
        svc_edits.setdefault("service_code", {})[r["agreement_id"]] = "PRISCARE"
        svc_edits.setdefault("delivery_code", {})[r["agreement_id"]] = "DP"
        svc_edits.setdefault("provider_id", {})[r["agreement_id"]] = None

    # unmapped local codes: case-system codes with no mapping row (defect_only in the data)
    unmapped = {
        ct: lists[ct].defect_only
        for ct in ("ETHNICITY", "GENDER", "SERVICE", "ROUTE")
        if lists[ct].defect_only
    }
    targets = [k for k in ("ETHNICITY", "GENDER", "SERVICE", "ROUTE") if k in unmapped]
    for i in range(per_kind if targets else 0):
        which = targets[i % len(targets)]
        code = unmapped[which][0]
        if which in ("ETHNICITY", "GENDER"):
            got = pick.take(in_window, 1)["person_id"].to_list()
            col = which.lower() + "_code"
            field = "Ethnicity" if which == "ETHNICITY" else "Gender"
            for p in got:
                add("unmapped_local_code", "persons", p, p, field, "", f"{col}={code}")
            persons = _replace(persons, col, dict.fromkeys(got, code))
        elif which == "SERVICE":
            got = pick.take(user_svc.sort("agreement_id"), 1)
            for r in got.iter_rows(named=True):
                add(
                    "unmapped_local_code",
                    "service_agreements",
                    r["agreement_id"],
                    r["person_id"],
                    "Service_Type",
                    "Service",
                    f"service_code={code}",
                )
                svc_edits.setdefault("service_code", {})[r["agreement_id"]] = code
        else:
            got = pick.take(
                user_steps.filter(pl.col("step_type_code") == "CONTACT").sort("step_id"), 1
            )
            for r in got.iter_rows(named=True):
                add(
                    "unmapped_local_code",
                    "step_contact_details",
                    r["step_id"],
                    r["person_id"],
                    "Request_Route_of_Access",
                    "Request",
                    f"route_code={code}",
                )
            t["step_contact_details"] = _replace(
                t["step_contact_details"],
                "route_code",
                dict.fromkeys(got["step_id"].to_list(), code),
                key="step_id",
            )

    for col, edits in svc_edits.items():
        dtype = svc.schema[col]
        svc = _replace(svc, col, edits, key="agreement_id", dtype=dtype)

    # duplicates: the same agreement keyed twice (after the edits above)
    dup = pick.take(user_svc.filter(pl.col("status_code") != "SUSP").sort("agreement_id"), per_kind)
    copies = svc.filter(pl.col("agreement_id").is_in(dup["agreement_id"].to_list())).sort(
        "agreement_id"
    )
    new_ids = ids.agreement + np.arange(copies.height)
    ids.agreement += copies.height
    for old, new in zip(copies["agreement_id"].to_list(), new_ids.tolist(), strict=True):
        person = copies.filter(pl.col("agreement_id") == old)["person_id"][0]
        add(
            "duplicate_service",
            "service_agreements",
            new,
            person,
            "Service_Type",
            "Service",
            f"copy of agreement {old}",
        )
    svc = pl.concat([svc, copies.with_columns(pl.Series("agreement_id", new_ids))])

    # carer linked to somebody who is no service user in any file
    nobody = np.flatnonzero(b.ptype == OUT_OF_SCOPE)
    carers = (
        done_steps.filter(pl.col("is_carer_step"))
        .join(
            rel.select("relationship_id", pl.col("carer_person_id").alias("person_id")),
            on="person_id",
        )
        .sort("relationship_id")
    )
    got = pick.take(carers, min(per_kind, len(nobody)))
    link = {}
    for i, r in enumerate(got.iter_rows(named=True)):
        target = int(b.pid[nobody[i]])
        link[r["relationship_id"]] = target
        add(
            "carer_link_to_nobody",
            "carer_relationships",
            r["relationship_id"],
            r["person_id"],
            "Adult_1_Linked_Person_ID",
            "",
            f"linked to person {target}",
        )
    t["carer_relationships"] = _replace(
        rel,
        "cared_for_person_id",
        link,
        key="relationship_id",
        dtype=rel.schema["cared_for_person_id"],
    )
    by_carer = {r["person_id"]: link[r["relationship_id"]] for r in got.iter_rows(named=True)}
    svc = svc.with_columns(
        pl.when(pl.col("cared_for_person_id").is_not_null())
        .then(
            pl.col("person_id")
            .replace_strict(by_carer, default=None, return_dtype=svc.schema["cared_for_person_id"])
            .fill_null(pl.col("cared_for_person_id"))
        )
        .otherwise(None)
        .alias("cared_for_person_id")
    )

    t["persons"] = persons
    t["workflow_steps"] = steps
    t["service_agreements"] = svc
    b.defect_persons = np.asarray(sorted(pick.used - excluded), dtype=np.int64)
    return rows


def _replace(
    frame: pl.DataFrame,
    col: str,
    values: dict,
    key: str = "person_id",
    dtype: pl.DataType | None = None,
) -> pl.DataFrame:
    """Set ``col`` for the keys in ``values`` (None allowed), leave other rows alone."""
    if not values:
        return frame
    dtype = dtype or frame.schema[col]
    keys = list(values)
    lut = pl.DataFrame(
        {key: keys, "__v": list(values.values())}, schema={key: frame.schema[key], "__v": dtype}
    )
    return (
        frame.join(lut, on=key, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col(key).is_in(keys)).then(pl.col("__v")).otherwise(pl.col(col)).alias(col)
        )
        .drop("__v")
    )


# ---------------------------------------------------------------------------- feeds
def inject_feeds(
    carers: pl.DataFrame,
    equipment: pl.DataFrame,
    rng: np.random.Generator,
    per_kind: int,
    window: tuple[int, int],
    known: np.ndarray,
):
    """Wrong or missing identifiers and conflicting attributes on feed rows in the window."""
    w0, w1 = _d(window[0]), _d(window[1])
    rows: list[dict[str, object]] = []
    spare = iter(spare_valid_numbers(rng, 4 * per_kind + 4))
    feeds = {"carers": carers, "equipment": equipment}
    cols = {
        "carers": (
            "Record ID",
            "Carer NHS Number",
            "Carer Council ID",
            "Carer Date of Birth",
            "Carer Gender",
            "Activity Start Date",
        ),
        "equipment": (
            "Order Number",
            "NHS Number",
            "Client ID",
            "Date of Birth",
            "Gender",
            "Delivery Date",
        ),
    }
    used: set[str] = set()
    used_people: set[int] = set()

    base: dict[str, pl.DataFrame] = {}

    def candidates(name: str, extra: pl.Expr | None = None) -> pl.DataFrame:
        if name not in base:  # rows in the window that name a council id (filtered once)
            f = feeds[name]
            if f.height == 0:
                return f
            _, _, la, _, _, day = cols[name]
            base[name] = f.filter(pl.col(day).is_between(w0, w1) & pl.col(la).is_not_null())
        key = cols[name][0]
        c = base[name].filter(
            ~pl.col(key).is_in(list(used)) & ~pl.col("_person_id").is_in(list(used_people))
        )
        return c.filter(extra) if extra is not None else c

    def take(name: str, frame: pl.DataFrame, k: int) -> list[dict]:
        if frame.height == 0 or k == 0:
            return []
        idx = np.sort(rng.choice(frame.height, min(k, frame.height), replace=False))
        got = frame[idx.tolist()].to_dicts()
        used.update(r[cols[name][0]] for r in got)
        used_people.update(r["_person_id"] for r in got)
        return got

    def edit(name: str, key: str, **values) -> None:
        f = feeds[name]
        keycol = cols[name][0]
        feeds[name] = f.with_columns(
            [
                pl.when(pl.col(keycol) == key)
                .then(pl.lit(v, dtype=f.schema[c]))
                .otherwise(pl.col(c))
                .alias(c)
                for c, v in values.items()
            ]
        )

    def add(kind, name, r, field, event_type="", detail="", person=True):
        rows.append(
            dict(
                kind=kind,
                source=f"feeds/{name}",
                record_key="",
                person_id=str(r["_person_id"]) if person else "",
                cld_field=field,
                event_type=event_type,
                detail=detail,
                _feed_key=r[cols[name][0]],
            )
        )

    # first pick: open support rows are the scarcest candidates
    support = candidates("carers", pl.col("Activity Type") == "SUPPORT")
    for r in take("carers", support, per_kind):
        edit("carers", r["Record ID"], **{"Activity End Date": None, "Outcome": "COMPLETED"})
        add(
            "open_service_wrong_outcome",
            "carers",
            r,
            "Event_Outcome",
            "Service",
            f"Record ID {r['Record ID']}",
        )
    names = ["carers", "equipment"]
    for i in range(per_kind):
        name = names[i % 2]
        key, nhs, la, dob, gender, _ = cols[name]
        for r in take(name, candidates(name), 1):
            # an NHS number that belongs to nobody, or (every other time) no identifier at all
            neither = (i // 2) % 2 == 1
            edit(name, r[key], **{la: None, nhs: None if neither else next(spare)})
            what = "no NHS number, no council id" if neither else "unknown NHS number, no id"
            add(
                "feed_unmatched_person", name, r, "", detail=f"{key} {r[key]}: {what}", person=False
            )
        for r in take(name, candidates(name), 1):
            edit(name, r[key], **{nhs: next(spare)})
            add("feed_nhs_conflict", name, r, "NHS_Number", detail=f"{key} {r[key]}")
        for r in take(name, candidates(name, pl.col(dob).is_not_null()), 1):
            edit(name, r[key], **{dob: date(r[dob].year - 1 - i % 3, r[dob].month, 1)})
            add("feed_dob_conflict", name, r, "Date_of_Birth", detail=f"{key} {r[key]}")
        if gender in feeds[name].columns:
            for r in take(name, candidates(name, pl.col(gender).is_in(["M", "F"])), 1):
                edit(name, r[key], **{gender: "F" if r[gender] == "M" else "M"})
                add("feed_gender_conflict", name, r, "Gender", detail=f"{key} {r[key]}")
    return feeds["carers"], feeds["equipment"], rows


def malformed_files(
    feeds_dir: Path,
    carers: pl.DataFrame,
    equipment: pl.DataFrame,
    rng: np.random.Generator,
    per_kind: int,
    month: str = "2025-02",
):
    """Up to three whole files that break their contract (extra files: the monthly ones stay)."""
    from pipelines.sample.data import _write_csv

    out: list[Path] = []
    rows: list[dict[str, object]] = []
    specs = [
        ("carers", "renamed column 'Carer NHS Number' -> 'Carer NHS No'"),
        ("equipment", "impossible dates (31/02/2025, 2025-13-01)"),
        ("equipment", "text in the integer column Quantity"),
    ]
    for i, (stem, what) in enumerate(specs[: min(per_kind, 3)]):
        src = carers if stem == "carers" else equipment
        if src.height == 0:
            continue
        part = src.head(5).select([c for c in src.columns if not c.startswith("_")])
        key = part.columns[0]
        part = part.with_columns((pl.lit(f"X{i}-") + pl.col(key)).alias(key))
        if i == 0:
            part = part.rename({"Carer NHS Number": "Carer NHS No"})
        elif i == 1:
            part = part.with_columns(pl.col("Delivery Date").dt.strftime("%d/%m/%Y"))
            bad = ["31/02/2025", "2025-13-01"] + ["31/02/2025"] * (part.height - 2)
            part = part.with_columns(pl.Series("Delivery Date", bad[: part.height]))
        else:
            part = part.with_columns(pl.Series("Quantity", ["two"] * part.height))
        path = feeds_dir / f"{stem}_{month}_resend{i + 1}.csv"
        _write_csv(path, part, "cp1252")
        out.append(path)
        rows.append(
            dict(
                kind="malformed_feed_file",
                source=f"feeds/{path.name}",
                record_key=path.name,
                person_id="",
                cld_field="",
                event_type="",
                detail=what,
            )
        )
    return out, rows


def write_manifest(path: Path, rows: list[dict[str, object]], data, periods: list[str]) -> None:
    """``defects.csv``: one row per injected defect, ``detected_by`` from defect_kinds.csv."""
    by_kind = {k["kind"]: k["detected_by"] for k in data.defect_kinds}
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, MANIFEST_COLUMNS, lineterminator="\n", extrasaction="ignore")
        w.writeheader()
        for i, r in enumerate(rows, start=1):
            w.writerow(
                {
                    **r,
                    "defect_id": f"D{i:05d}",
                    "detected_by": by_kind.get(r["kind"], ""),
                    "periods": ";".join(periods),
                }
            )
