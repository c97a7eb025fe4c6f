"""What every measure reads: the submission(s) as typed events, in the two national shapes.

The national code runs on NHS England's store of every file each council has sent
(``DHSC_ASC.CLD_Raw``). Here the council's own file is that store's newest edition, and the
earlier submissions recorded in history (``cld run quarterly``) are the older editions, in the
order they were built. Two national preparations are reproduced, one per publisher:

* **DHSC main table** (ASCOF 2A, 2B/2C, 2E, 3D), ``DataS-DHSC/ASC-CLD-LA-Dashboard`` at
  commit 9bee728f40102c4f6cee25a5511c5144c2209b4c: submission selection
  (``Stored_procedures/create_GetSubmissions_procedure.sql``), the joined-submissions table
  (``Main_tables/create_main_table_for_period.sql``), event filtering
  (``create_FilterToEventsInPeriod_procedure.sql``), derived fields and cropping
  (``create_GetDerivedFields_procedure.sql``), de-duplication
  (``create_GetUniqueEvents_procedure.sql``, joined partitioning) and the latest person details
  (``ASCOF_measures/Create_personal_details_table.sql``). Values are Release 2 ("cleaned"):
  Release 1 values are mapped to Release 2 by the specification's shared keys.
* **NHS England SALT** (STS, LTS), ``NHSDigital/ASC-Client-Level-Data-SALT-ASCOF-transformations``
  at commit d6ff762ff88ed53227ab153a644d2af87077b17e: the amalgamated NHS/LA identifier, age from
  the 1st of the birth month, the latest submission (LTS) or the latest edition of each event by
  its concatenated key (STS). Those scripts are frozen at 2023/24 and written for Release 1
  texts: Release 2 values are compared by their Release 1 text (the spec's shared key), as DHSC
  mapped R2 back to R1 before October 2025.

Values are held as the specification's stable keys (``cld_schema``), so R1 and R2 files and
both header styles read the same. A text that is in neither release's list is ``INVALID``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import polars as pl

from cld_schema import load_spec
from pipelines.period import Period

FAR = date(9999, 1, 1)  # the national scripts' stand-in for an open end date
INVALID = "INVALID"
R1_NOT_MAPPED = "R1_NOT_MAPPED"  # DHSC 'Release 1 specification only: Not mapped'

CODED = (
    "Event_Type",
    "Client_Type",
    "Service_Type",
    "Service_Component",
    "Delivery_Mechanism",
    "Event_Outcome",
    "Request_Route_of_Access",
    "Primary_Support_Reason",
    "Accommodation_Status",
    "Employment_Status",
    "Gender",
)
LTS = ("LONG_TERM_NURSING", "LONG_TERM_RESIDENTIAL", "LONG_TERM_COMMUNITY", "LONG_TERM_PRISON")
CARER_TYPES = ("CARER", "CARER_KNOWN_BY_ASSOCIATION")


@dataclass
class Edition:
    """One submission: its CLD frame (all text, as ``read_cld`` gives), the quarter it is for,
    and where it came from (a file path, or ``history submission N``)."""

    frame: pl.DataFrame
    period: Period
    label: str
    release: str = "R2"


@dataclass
class Inputs:
    """Everything a measure may read, prepared once."""

    period: Period
    events: pl.DataFrame  # every edition, typed (see ``typed_events``)
    main: pl.DataFrame  # DHSC joined-submissions main table (de-duplicated)
    persons: pl.DataFrame  # DHSC latest person details, one row per person
    editions: list[Edition]
    today: date
    population: dict[str, int] | None = None
    notes: list[str] = field(default_factory=list)

    @cached_property
    def latest(self) -> pl.DataFrame:
        """Rows of the newest edition (the file being previewed), selected once."""
        if len(self.editions) == 1:
            return self.events  # every row is the newest edition's
        return self.events.filter(pl.col("edition") == len(self.editions) - 1)

    @property
    def salt_start(self) -> date:
        """SALT counts the financial year to date: 1 April to the quarter's end."""
        return date(self.period.fy_start, 4, 1)


# -- values as keys --------------------------------------------------------------------------
def _key_maps() -> dict[str, dict[str, str]]:
    """Field -> {text in R1 or R2 -> key}."""
    spec = load_spec("R2")
    out: dict[str, dict[str, str]] = {}
    for name in CODED:
        dl = spec.list_of(name)
        m: dict[str, str] = {}
        for v in dl.values:
            for t in v.texts.values():
                m.setdefault(t, v.key)
        out[name] = m
    return out


def _r2_keys(name: str) -> dict[str, str]:
    """Key -> its Release 2 key (itself, its ``R2_maps_to``, or R1_NOT_MAPPED)."""
    spec = load_spec("R2")
    dl = spec.list_of(name)
    out = {}
    for v in dl.values:
        if v.text(spec.release) is not None:
            out[v.key] = v.key
        elif v.maps_to_in(spec.release):
            out[v.key] = v.maps_to_in(spec.release)
        else:
            out[v.key] = R1_NOT_MAPPED
    out[INVALID] = INVALID
    return out


def _r1_texts(name: str) -> dict[str, str]:
    """Key -> Release 1 text (R2-only keys keep their R2 text)."""
    dl = load_spec("R2").list_of(name)
    return {v.key: (v.text("R1") if v.text("R1") is not None else v.text("R2")) for v in dl.values}


def _date(col: str, fmt: str) -> pl.Expr:
    return pl.col(col).str.strip_chars().str.to_date(fmt, strict=False)


def _keyed(frame: pl.DataFrame, name: str, mapping: dict[str, str]) -> pl.Expr:
    """A coded field's keys: blank (null or only white space) is null, a text in neither
    release's list is ``INVALID``. Worked out once per distinct text (a coded field holds a few),
    then looked up per row."""
    texts = frame.select(pl.col(name).drop_nulls().unique()).to_series()
    if texts.is_empty():
        return pl.lit(None, pl.String).alias(name)
    keys = texts.to_frame().select(
        pl.when(pl.col(name).str.strip_chars() == "")
        .then(None)
        .otherwise(pl.col(name).replace_strict(mapping, default=INVALID, return_dtype=pl.String))
    ).to_series()
    keyed = pl.col(name).replace_strict(texts, keys, default=None, return_dtype=pl.String)
    return keyed.alias(name)


def typed_events(editions: list[Edition]) -> pl.DataFrame:
    """Every edition's rows with keys for coded fields, dates, person ids and the record id.

    ``person``: DHSC's combined id (NHS number, else ``LA_Code_LA person id``; rows with neither
    dropped). ``salt_id``: NHS England's amalgamated id is derived per script (see
    :func:`salt_ids`), so the parts are kept: ``nhs`` and ``la_pid``."""
    maps = _key_maps()
    fmt = load_spec("R2").date_format
    parts = []
    for i, ed in enumerate(editions):
        f = ed.frame
        for c in (
            "Assessment_Type",
            "Unit_Cost",
            "Cost_Frequency_Unit_Type",
            "Planned_units_per_week",
            "Event_Reference",
            "Ethnicity",
        ):
            if c not in f.columns:
                f = f.with_columns(pl.lit(None, pl.String).alias(c))
        keyed = [_keyed(f, n, maps[n]) for n in CODED]
        dob = _date("Date_of_Birth", fmt)
        nhs = pl.col("NHS_Number").str.replace_all(r"\s", "")
        nhs = pl.when(nhs == "").then(None).otherwise(nhs)
        la_pid = pl.col("LA_Person_Unique_Identifier").str.strip_chars()
        la_pid = pl.when(la_pid == "").then(None).otherwise(la_pid)
        typed = f.select(
            pl.lit(i, pl.Int32).alias("edition"),
            pl.col("_row").cast(pl.Int64).alias("row"),
            (pl.lit(i, pl.Int64) * 100_000_000 + pl.col("_row").cast(pl.Int64)).alias("rid"),
            pl.col("LA_Code").alias("la"),
            nhs.alias("nhs"),
            la_pid.alias("la_pid"),
            *keyed,
            pl.col("Event_Type").alias("Event_Type_Raw"),
            pl.col("Client_Type").alias("Client_Type_Raw"),
            pl.col("Service_Type").alias("Service_Type_Raw"),
            pl.col("Service_Component").alias("Service_Component_Raw"),
            pl.col("Request_Route_of_Access").alias("Route_Raw"),
            pl.col("Delivery_Mechanism").alias("Delivery_Mechanism_Raw"),
            pl.col("Event_Outcome").alias("Event_Outcome_Raw"),
            pl.col("Assessment_Type"),
            pl.col("Ethnicity"),
            pl.col("Event_Reference"),
            dob.dt.year().alias("birth_year"),
            dob.dt.month().alias("birth_month"),
            dob.dt.truncate("1mo").alias("birth_date"),
            _date("Date_of_Death", fmt).alias("dod"),
            _date("Event_Start_Date", fmt).alias("start"),
            _date("Event_End_Date", fmt).alias("end"),
        )
        parts.append(typed)
    ev = pl.concat(parts, how="vertical_relaxed") if parts else pl.DataFrame()
    return ev.with_columns(
        pl.when(pl.col("nhs").is_not_null())
        .then(pl.col("nhs"))
        .when(pl.col("la_pid").is_not_null())
        .then(pl.concat_str(pl.col("la"), pl.lit("_"), pl.col("la_pid")))
        .alias("person")
    )


def age(birth: pl.Expr, at: pl.Expr | date) -> pl.Expr:
    """``FLOOR(DATEDIFF(day, birth, at) / 365.25)``: the national age, from the 1st of the
    birth month (``Der_Birth_Year``-``Der_Birth_Month``-01)."""
    at_e = pl.lit(at, pl.Date) if isinstance(at, date) else at
    return ((at_e - birth).dt.total_days() / 365.25).floor().cast(pl.Int64)


def band(age_col: pl.Expr) -> pl.Expr:
    """'18-64' / '65+' / 'Under 18' / 'Unknown' (DHSC working-age bands, named for output)."""
    return (
        pl.when(age_col.is_null())
        .then(pl.lit("Unknown"))
        .when(age_col < 18)
        .then(pl.lit("Under 18"))
        .when(age_col <= 64)
        .then(pl.lit("18-64"))
        .otherwise(pl.lit("65+"))
    )


def like(col: str, text: str) -> pl.Expr:
    """SQL Server's case-insensitive ``=`` on a text column (null stays null)."""
    return pl.col(col).str.to_lowercase() == text.lower()


# -- DHSC main table ---------------------------------------------------------------------------
DHSC_OUTCOME_HIERARCHY = {
    # Main_tables/docs/methodology/6-deduplication.md (Event_Outcome_Hierarchy, R2)
    "PROGRESS_TO_REABLEMENT": 1,
    "PROGRESS_TO_ASSESSMENT_REVIEW_OR_REASSESSMENT": 2,
    R1_NOT_MAPPED: 3,
    "PROGRESS_TO_SUPPORT_PLANNING": 4,
    "CONTINUATION_OF_SUPPORT": 5,
    "ADMITTED_TO_HOSPITAL": 6,
    "NFA_MOVED_TO_ANOTHER_LA": 7,
    "NFA_NHS_FUNDED": 8,
    "NFA_SELF_FUNDED": 9,
    "NFA_INFORMATION_ADVICE": 10,
    "NFA_REFERRAL_WITHIN_LA": 11,
    "NFA_SUPPORT_DECLINED": 12,
    "NFA_DECEASED": 13,
    "SERVICE_ENDED_AS_PLANNED": 14,
    "NFA_SUPPORT_ENDED_OTHER": 15,
    "NFA_NO_SERVICES_OTHER": 16,
    "NFA_OTHER": 17,
}


def reference_periods(editions: list[Edition]) -> list[tuple[int, date, date]]:
    """(edition, ref start, ref end) per reference period of the joined-submissions table.

    The newest edition covers its own rolling 12 months (one reference period: splitting it
    into quarters as DHSC does gives the same rows, since all four quarters come from the same
    file). Each earlier quarter comes from the newest earlier edition whose 12 months cover it
    (``GetSubmissions``: latest submission covering the reference period)."""
    if not editions:
        return []
    last = len(editions) - 1
    out = [(last, editions[last].period.start, editions[last].period.end)]
    covered_from = editions[last].period.start
    quarters: dict[date, tuple[int, date, date]] = {}
    for i, ed in enumerate(editions[:-1]):
        p = ed.period
        q = p
        for _ in range(4):
            qs, qe = q.quarter_start, q.end
            if qe < covered_from:
                quarters[qs] = (i, qs, qe)  # later editions overwrite: the newest covering
            q = Period(q.fy_start - 1, 4) if q.quarter == 1 else Period(q.fy_start, q.quarter - 1)
    return sorted(quarters.values(), key=lambda t: t[1]) + out


def dhsc_main(events: pl.DataFrame, editions: list[Edition]) -> pl.DataFrame:
    """The DHSC joined-submissions main table: filter, derive, crop, de-duplicate."""
    r2 = {n: _r2_keys(n) for n in CODED}
    parts = []
    for ed, rs, re_ in reference_periods(editions):
        parts.append(
            events.filter(pl.col("edition") == ed).with_columns(
                pl.lit(rs, pl.Date).alias("ref_start"), pl.lit(re_, pl.Date).alias("ref_end")
            )
        )
    if not parts:
        return events.clear()
    ev = pl.concat(parts)
    is_service = pl.col("Event_Type") == "SERVICE"
    dod, s, e = pl.col("dod"), pl.col("start"), pl.col("end")
    # FilterToEventsInPeriod: the end date becomes the date of death when it falls inside
    ev = ev.with_columns(
        pl.when((dod >= s) & (dod <= e) | (dod > s) & e.is_null())
        .then(dod)
        .otherwise(e)
        .alias("der_end")
    )
    de = pl.col("der_end")
    keep = (
        (~is_service & (de >= pl.col("ref_start")) & (de <= pl.col("ref_end")))
        & (s <= pl.col("ref_end"))
        | (is_service & ((de >= pl.col("ref_start")) | de.is_null()) & (s <= pl.col("ref_end")))
    ) & (dod.is_null() | (dod >= pl.col("ref_start")) & (dod >= s))
    # Event_Type LIKE '%service%' is false for a blank event type: those rows are kept as
    # non-services (and need an end in the period), as in the SQL.
    ev = ev.filter(keep.fill_null(False) & pl.col("person").is_not_null())
    # cleaned (R2) values
    ev = ev.with_columns(
        pl.col(n).replace_strict(r2[n], default=None, return_dtype=pl.String).alias(n)
        for n in CODED
    )
    ev = ev.with_columns(
        pl.col("Event_Outcome")
        .replace_strict(DHSC_OUTCOME_HIERARCHY, default=None, return_dtype=pl.Int32)
        .alias("eo_hier"),
        # Der_Unique_Event_Ref over raw values, derived end and the combined person id
        pl.struct(
            pl.col("la"),
            s,
            pl.when(~is_service).then(de),
            pl.col("Client_Type_Raw"),
            pl.col("person"),
            pl.col("Event_Type_Raw"),
            pl.when(pl.col("Event_Type") == "REQUEST").then(pl.col("Route_Raw")),
            pl.when(pl.col("Event_Type") == "ASSESSMENT").then(pl.col("Assessment_Type")),
            pl.when(is_service).then(pl.col("Service_Type_Raw")),
            pl.when(is_service).then(pl.col("Service_Component_Raw")),
        )
        .hash()
        .alias("event_ref"),
    )
    # Cropping: a service open at the end of an earlier reference period and not found in the
    # next one ends on that period's end.
    ends = sorted({r[2] for r in reference_periods(editions)})
    if len(ends) > 1:
        last_end = ends[-1]
        nxt = ev.select(
            (pl.col("ref_start") - pl.duration(days=1)).alias("ref_end"), "event_ref"
        ).unique()
        open_prior = (
            is_service & (pl.col("ref_end") < last_end) & (de.is_null() | (de > pl.col("ref_end")))
        )
        ev = ev.join(
            nxt.with_columns(pl.lit(True).alias("_found")), on=["ref_end", "event_ref"], how="left"
        )
        ev = ev.with_columns(
            pl.when(open_prior & pl.col("_found").is_null())
            .then(pl.col("ref_end"))
            .otherwise(de)
            .alias("der_end")
        ).drop("_found")
    # GetUniqueEvents (joined): one record per unique event
    # ranking: latest reference period; open (NULL) end first, then latest end; outcome
    # hierarchy (NULL as 999, last); [Der_Conversation: not published, not reproduced]; record id
    ev = ev.with_columns(
        pl.col("der_end").is_null().alias("_open"), pl.col("eo_hier").fill_null(999).alias("_h")
    )
    ev = top_rows(
        ev,
        "event_ref",
        ["ref_end", "_open", "der_end", "_h", "rid"],
        [True, True, True, False, True],
        mostly_single=True,
    )
    ev = ev.unique("event_ref", keep="first", maintain_order=True).drop("_open", "_h")
    # an integer person key: windows over people hash it much faster than the text id
    return ev.with_columns(pl.col("person").cast(pl.Categorical).to_physical().alias("pk"))


# -- DHSC latest person details ---------------------------------------------------------------
ACCOM_SETTLED = {
    # Create_personal_details_table.sql #REF_Accommodation_Status (group 1 = settled)
    "OWNER_OCCUPIER_OR_SHARED_OWNERSHIP_SCHEME",
    "TENANT_SOCIAL_HOUSING",
    "TENANT_PRIVATE_LANDLORD",
    "SETTLED_MAINSTREAM_HOUSING_WITH_FAMILY_FRIENDS",
    "SUPPORTED_ACCOMMODATION_SUPPORTED_LODGINGS_SUPPORTED_GROUP_HOME",
    "SHARED_LIVES_SCHEME",
    "APPROVED_PREMISES_FOR_OFFENDERS_RELEASED_FROM_PRISON_OR_UNDER_PROBATION_SUPERVISION",
    "SHELTERED_HOUSING_EXTRA_CARE_HOUSING_OTHER_SHELTERED_HOUSING",
    "MOBILE_ACCOMMODATION_FOR_GYPSY_ROMA_AND_TRAVELLER_COMMUNITIES",
    "PRESUMED_AT_HOME",
}
_SERVICE_HIER = {
    "LONG_TERM_NURSING": 1,
    "LONG_TERM_RESIDENTIAL": 2,
    "LONG_TERM_COMMUNITY": 3,
    "LONG_TERM_PRISON": 4,
    "SHORT_TERM_ST_MAX": 5,
    "SHORT_TERM_ONGOING_LOW_LEVEL": 6,
    "SHORT_TERM_OTHER": 7,
}
_MAPPABLE_COMPONENTS = (
    "SHARED_LIVES",
    "COMMUNITY_SUPPORTED_LIVING",
    "EXTRA_CARE_HOUSING",
    "HOME_SUPPORT",
)


def top_rows(
    df: pl.DataFrame,
    group: str,
    keys: list[str],
    descending: list[bool],
    *,
    mostly_single: bool = False,
) -> pl.DataFrame:
    """Rows tied first per ``group`` when sorted by ``keys`` (``DENSE_RANK() ... = 1``), nulls
    last: narrowed one key at a time to the rows holding the group's best value.

    ``mostly_single``: most groups have one row (an event seen once), which is always its
    group's first: only the groups with more rows are narrowed (rows keep their order)."""
    if mostly_single and df.height:
        multi = df.select(pl.len().over(group) > 1).to_series()
        if not multi.any():
            return df
        df = df.with_row_index("_top_i")
        best = top_rows(df.filter(multi), group, keys, descending)["_top_i"]
        return df.filter(~multi | pl.col("_top_i").is_in(best.implode())).drop("_top_i")
    for key, desc in zip(keys, descending, strict=True):
        best = pl.col(key).max() if desc else pl.col(key).min()
        df = df.filter(pl.col(key).eq_missing(best.over(group)))
    return df


def first_by(df: pl.DataFrame, group: str, keys: list[str], descending: list[bool]) -> pl.DataFrame:
    """One row per ``group``: the first when sorted by ``keys`` (``ROW_NUMBER() ... = 1``)."""
    return df.sort([group, *keys], descending=[False, *descending], nulls_last=True).unique(
        group, keep="first", maintain_order=True
    )


def _latest_known(
    main: pl.DataFrame, col: str, known: pl.Expr, unknown: str, out: str
) -> pl.DataFrame:
    """The person-details pattern: DENSE_RANK by known DESC, Ref_Period_End_Date DESC,
    Der_Event_End_Date DESC (open first), Event_Start_Date DESC; rank-1 rows that disagree
    become ``unknown`` ("known beats Unknown", conflicts are Unknown)."""
    t = main.select(
        "pk",
        "person",
        pl.col(col).fill_null(unknown).alias("v"),
        known.fill_null(False).cast(pl.Int8).alias("k"),
        "ref_end",
        pl.col("der_end").fill_null(FAR).alias("de"),
        "start",
    )
    top = top_rows(t, "pk", ["k", "ref_end", "de", "start"], [True, True, True, True])
    return top.group_by("pk").agg(
        pl.col("person").first(),
        pl.when(pl.col("v").n_unique() > 1)
        .then(pl.lit(unknown))
        .otherwise(pl.col("v").first())
        .alias(out)
    )


def person_details(main: pl.DataFrame, period: Period) -> pl.DataFrame:
    """``Create_personal_details_table.sql`` for the fields the ASCOF measures read: latest
    known accommodation (with the service-based inference for Unknown), PSR, gender,
    employment, birth date and date of death, one row per person."""
    unknown_vals = ("UNKNOWN", INVALID, R1_NOT_MAPPED)
    a = main.with_columns(
        pl.when(pl.col("Accommodation_Status").is_in([INVALID, R1_NOT_MAPPED]))
        .then(pl.lit("UNKNOWN"))
        .otherwise(pl.col("Accommodation_Status"))
        .alias("Accommodation_Status")
    )
    accom = _latest_known(
        a,
        "Accommodation_Status",
        pl.col("Accommodation_Status").is_not_null()
        & (pl.col("Accommodation_Status") != "UNKNOWN"),
        "UNKNOWN",
        "accom",
    )
    # Unknown accommodation: deduce from the latest services
    unk = accom.filter(pl.col("accom") == "UNKNOWN").select("pk")
    svc = main.filter(pl.col("Event_Type") == "SERVICE").join(unk, on="pk", how="semi")
    svc = svc.select(
        "pk",
        "person",
        pl.col("der_end").fill_null(FAR).alias("de"),
        pl.col("Service_Type")
        .replace_strict(_SERVICE_HIER, default=99, return_dtype=pl.Int32)
        .alias("h"),
        pl.col("Service_Component")
        .is_in(_MAPPABLE_COMPONENTS)
        .fill_null(False)
        .cast(pl.Int8)
        .alias("m"),
        "start",
        pl.col("Service_Type").alias("st"),
        pl.col("Service_Component").alias("sc"),
    )
    svc = top_rows(svc, "pk", ["de", "h", "m", "start"], [True, False, True, True]).with_columns(
        pl.when(pl.col("h") == 99).then(None).otherwise(pl.col("st")).alias("st"),
        pl.when(pl.col("m") == 1).then(pl.col("sc")).alias("sc"),
    )
    svc = svc.group_by("pk").agg(
        pl.when(pl.col("st").drop_nulls().n_unique() == 1)
        .then(pl.col("st").drop_nulls().first())
        .alias("st"),
        pl.when(pl.col("sc").drop_nulls().n_unique() == 1)
        .then(pl.col("sc").drop_nulls().first())
        .alias("sc"),
    )
    st, sc = pl.col("st"), pl.col("sc")
    inferred = svc.select(
        "pk",
        pl.when(st == "LONG_TERM_NURSING")
        .then(pl.lit("REGISTERED_NURSING_HOME"))
        .when(st == "LONG_TERM_RESIDENTIAL")
        .then(pl.lit("REGISTERED_CARE_HOME"))
        .when(sc == "SHARED_LIVES")
        .then(pl.lit("SHARED_LIVES_SCHEME"))
        .when(sc == "EXTRA_CARE_HOUSING")
        .then(pl.lit("SHELTERED_HOUSING_EXTRA_CARE_HOUSING_OTHER_SHELTERED_HOUSING"))
        .when(sc == "COMMUNITY_SUPPORTED_LIVING")
        .then(pl.lit("SUPPORTED_ACCOMMODATION_SUPPORTED_LODGINGS_SUPPORTED_GROUP_HOME"))
        .when((st == "LONG_TERM_COMMUNITY") & (sc == "HOME_SUPPORT"))
        .then(pl.lit("PRESUMED_AT_HOME"))
        .when((st == "LONG_TERM_COMMUNITY") & sc.is_null())
        .then(pl.lit("PRESUMED_IN_COMMUNITY"))
        .when(st == "LONG_TERM_PRISON")
        .then(pl.lit("PRISON_YOUNG_OFFENDERS_INSTITUTION_DETENTION_CENTRE"))
        .otherwise(pl.lit("UNKNOWN"))
        .alias("inferred"),
    )
    accom = (
        accom.join(inferred, on="pk", how="left")
        .with_columns(
            pl.when(pl.col("accom") == "UNKNOWN")
            .then(pl.col("inferred").fill_null("UNKNOWN"))
            .otherwise(pl.col("accom"))
            .alias("accom")
        )
        .drop("inferred")
    )
    accom = accom.with_columns(pl.col("accom").is_in(ACCOM_SETTLED).alias("settled"))
    psr = _latest_known(
        main.with_columns(
            pl.when(pl.col("Primary_Support_Reason").is_in(unknown_vals))
            .then(pl.lit("UNKNOWN"))
            .otherwise(pl.col("Primary_Support_Reason"))
            .alias("Primary_Support_Reason")
        ),
        "Primary_Support_Reason",
        ~pl.col("Primary_Support_Reason")
        .fill_null("UNKNOWN")
        .is_in(["UNKNOWN", "SUPPORT_TO_CARER"]),
        "UNKNOWN",
        "psr",
    )
    gender = _latest_known(
        main.with_columns(
            pl.when(pl.col("Gender").is_in(unknown_vals))
            .then(pl.lit("UNKNOWN"))
            .otherwise(pl.col("Gender"))
            .alias("Gender")
        ),
        "Gender",
        pl.col("Gender").fill_null("UNKNOWN") != "UNKNOWN",
        "UNKNOWN",
        "gender",
    )
    employ = _latest_known(
        main,
        "Employment_Status",
        ~pl.col("Employment_Status").fill_null("UNKNOWN").is_in(["UNKNOWN", INVALID]),
        "UNKNOWN",
        "employ",
    )
    # birth: valid first, later submissions, earliest birth date
    birth = (
        top_rows(
            main.select(
                "pk", "person", "ref_end", "birth_date", pl.col("birth_date").is_null().alias("_n")
            ),
            "pk",
            ["_n", "ref_end", "birth_date"],
            [False, True, False],
        )
        .unique("pk")
        .select("pk", "birth_date")
    )
    death = (
        top_rows(
            main.select("pk", "person", "ref_end", "dod", pl.col("dod").is_null().alias("_n")),
            "pk",
            ["_n", "ref_end", "dod"],
            [False, True, True],
        )
        .unique("pk")
        .select("pk", "dod")
    )
    # keyed by the integer person key inside (joins and groups on text ids are the slow part)
    out = accom
    for t in (psr.drop("person"), gender.drop("person"), employ.drop("person"), birth, death):
        out = out.join(t, on="pk", how="left")
    return out.drop("pk")


def prepare(
    editions: list[Edition], period: Period, *, population=None, today: date | None = None
) -> Inputs:
    """Type every edition, build the DHSC main table and person details."""
    events = typed_events(editions)
    main = dhsc_main(events, editions)
    persons = person_details(main, period)
    return Inputs(period, events, main, persons, editions, today or date.today(), population)


def salt_ids(frame: pl.DataFrame) -> pl.DataFrame:
    """NHS England's amalgamated identifier over a script's filtered rows: the NHS number;
    else the LA person id, unless that LA id appears with an NHS number in the same rows (the
    row is then dropped: it "can not be assigned to an individual with 100% accuracy")."""
    with_nhs = frame.filter(pl.col("nhs").is_not_null())["la_pid"].drop_nulls().unique()
    return (
        frame.with_columns(
            pl.when(pl.col("nhs").is_not_null())
            .then(pl.col("nhs"))
            .when(pl.col("la_pid").is_not_null() & ~pl.col("la_pid").is_in(with_nhs.implode()))
            .then(pl.col("la_pid"))
            .alias("id")
        )
        .filter(pl.col("id").is_not_null())
        # an integer twin of the id for windows (hashing text per window is the slow part)
        .with_columns(pl.col("id").hash().alias("ik"))
    )


def r1_text(col: str, raw: str | None = None) -> pl.Expr:
    """The Release 1 text of a keyed value (what the NHS England scripts compare), lowercase
    (SQL Server's default collation compares case-insensitively). Invalid values keep the raw
    text; R2-only values keep their R2 text."""
    texts = {k: v.lower() for k, v in _r1_texts(col).items()}
    mapped = pl.col(col).replace_strict(texts, default=None, return_dtype=pl.String)
    if raw is None:
        return mapped
    return pl.when(pl.col(col) == INVALID).then(pl.col(raw).str.to_lowercase()).otherwise(mapped)
