"""SALT STS001, STS002a, STS002b, LTS001a/b/c, LTS003, LTS004 by NHS England's published code.

Each function follows one ``replication code.txt`` of
``NHSDigital/ASC-Client-Level-Data-SALT-ASCOF-transformations`` at commit
d6ff762ff88ed53227ab153a644d2af87077b17e (methods frozen at 2023/24). SALT counts the
financial year to date (1 April to the quarter's end; the scripts' ``@StartDate`` is "always
1st April"); snapshots are at the quarter's end. Reference tables are the scripts' own
strings, compared case-insensitively with each value's Release 1 text, as SQL Server's default
collation does, so the scripts' misspellings of the defined lists are kept
(``NATIONAL CHOICE`` marks these).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from pipelines.measures.base import LTS, Inputs, age, band, first_by, r1_text, salt_ids, top_rows
from pipelines.measures.common import Figure, MeasureResult, people_frame

# -- reference tables (the scripts' strings) --------------------------------------------------
# STS001/STS002a #REF_Event_Outcome_Hierarchy. NATIONAL CHOICE: 'Admitted to Hospital' matches
# case-insensitively, but 'NFA - 100% NHS-funded care', 'NFA - Support ended – other reason' and
# 'NFA - No services offered - other reason' are not the specification's texts, so those
# outcomes rank 99 (as unmatched) in the de-duplication.
EO_HIERARCHY = {
    t.lower(): i
    for i, t in enumerate(
        [
            "Progress to Reablement/ST-Max",
            "Progress to Assessment",
            "Admitted to Hospital",
            "Progress to Re-assessment / Unplanned Review",
            "Progress to Support Planning / Services",
            "Progress to End of Life Care",
            "No change in package",
            "Service ended as planned",
            "Progress to financial assessment",
            "Provision of service",
            "NFA - Deceased",
            "NFA - Moved to another LA",
            "NFA - 100% NHS-funded care",
            "NFA - Information & Advice / Signposting only",
            "NFA - Self-funded client (inc. 12wk disregard)",
            "NFA - Support declined",
            "NFA - Support ended – other reason",
            "NFA - No services offered - other reason",
            "NFA- Other",
        ],
        start=1,
    )
}
# STS001 #REF_SEQUEL_MAPPING: R1 outcome -> (mapping code, SALT description)
SEQUEL_MAPPING = {
    t.lower(): (c, d)
    for t, c, d in [
        ("Progress to Reablement/ST-Max", 2, "Unable_To_Classify"),
        ("Progress to Assessment", 2, "Unable_To_Classify"),
        ("Admitted to hospital", 2, "Unable_To_Classify"),
        ("Progress to Re-assessment / Unplanned Review", 2, "Unable_To_Classify"),
        ("Progress to Support Planning / Services", 2, "Unable_To_Classify"),
        ("Progress to End of Life Care", 1, "End of Life"),
        ("No change in package", 2, "Unable_To_Classify"),
        ("Service ended as planned", 2, "Unable_To_Classify"),
        ("NFA - Moved to another LA", 1, "No Services Provided - other reason"),
        ("NFA - 100% NHS funded care", 1, "100% NHS Funded Care"),
        (
            "NFA - Self-funded client (Inc. 12wk disregard)",
            1,
            "No Services Provided - other reason",
        ),
        ("NFA - Support declined", 1, "No Services Provided - other reason"),
        (
            "NFA - Information & Advice / Signposting only",
            1,
            "Universal Services/ Signposted to other services",
        ),
        ("NFA - Deceased", 1, "No Services Provided - Deceased"),
        ("NFA - No services offered: Other reason", 1, "No Services Provided - other reason"),
        ("NFA - Support ended: Other reason", 1, "No Services Provided - other reason"),
        ("Progress to financial assessment", 2, "Unable_To_Classify"),
        ("Provision of service", 2, "Unable_To_Classify"),
        ("NFA- Other", 1, "No Services Provided - other reason"),
    ]
}
STS001_SERVICE_HIER = {
    "SHORT_TERM_ST_MAX": 1,
    "LONG_TERM_NURSING": 2,
    "LONG_TERM_RESIDENTIAL": 3,
    "LONG_TERM_COMMUNITY": 4,
    "LONG_TERM_PRISON": 5,
    "SHORT_TERM_ONGOING_LOW_LEVEL": 6,
    "SHORT_TERM_OTHER": 7,
}
STS002_SERVICE_HIER = {
    "LONG_TERM_NURSING": 1,
    "LONG_TERM_RESIDENTIAL": 2,
    "LONG_TERM_COMMUNITY": 3,
    "LONG_TERM_PRISON": 4,
    "SHORT_TERM_ONGOING_LOW_LEVEL": 5,
    "SHORT_TERM_OTHER": 6,
}
_OTHER = "No services provided – other"
_EARLY = (
    "Early cessation of service (not leading to long term support) - "
    "100% NHS funded care/End of Life/deceased"
)
STMAX_MAPPING = {
    t.lower(): m
    for t, m in [
        (
            "NFA - 100% NHS funded care",
            _EARLY,
        ),
        (
            "NFA - Deceased",
            _EARLY,
        ),
        (
            "NFA - Self-funded client (Inc. 12wk disregard)",
            "No services provided – needs identified but self-funding",
        ),
        ("NFA - Support declined", "No services provided – needs identified but support declined"),
        (
            "NFA - Information & Advice / Signposting only",
            "No Services Provided – Universal Services / signposted to other services",
        ),
        ("NFA - Moved to another LA", _OTHER),
        ("NFA- Other", _OTHER),
        ("NFA - No services offered: Other reason", _OTHER),
        ("NFA - Support ended: Other reason", _OTHER),
        ("Progress to End of Life Care", _OTHER),
        ("Admitted to hospital", _OTHER),
        ("Long Term Support: Nursing Care", "Long Term Support (any setting)"),
        ("Long Term Support: Residential Care", "Long Term Support (any setting)"),
        ("Long Term Support: Community", "Long Term Support (any setting)"),
        ("Long Term Support: Prison", "Long Term Support (any setting)"),
        ("Short Term Support: Ongoing Low Level", "Ongoing Low Level Support"),
        ("Short Term Support: Other Short Term", "Short Term Support (other)"),
        ("No Service Found", "No Service Found"),
    ]
}
# LTS001 #REF_Service_Type_Delivery_Mech: (service type, mechanism) -> (hierarchy, SALT category)
LTS_SETTING = {
    ("LONG_TERM_NURSING", ""): (1, "Nursing"),
    ("LONG_TERM_RESIDENTIAL", ""): (2, "Residential"),
    ("LONG_TERM_COMMUNITY", "DIRECT_PAYMENT"): (3, "Community: Direct Payment"),
    ("LONG_TERM_COMMUNITY", "CASSR_MANAGED_PERSONAL_BUDGET"): (
        4,
        "Community: CASSR Managed Personal Budget",
    ),
    ("LONG_TERM_COMMUNITY", "CASSR_COMMISSIONED_SUPPORT"): (
        5,
        "Community: CASSR Commissioned Support",
    ),
    ("LONG_TERM_COMMUNITY", ""): (6, "Community"),
    ("LONG_TERM_PRISON", "CASSR_MANAGED_PERSONAL_BUDGET"): (
        7,
        "Prison: CASSR Managed Personal Budget",
    ),
    ("LONG_TERM_PRISON", "CASSR_COMMISSIONED_SUPPORT"): (8, "Prison: CASSR Commissioned Support"),
    ("LONG_TERM_PRISON", ""): (9, "Prison"),
}
PAID = ("PAID_LT16", "PAID_16_PLUS", "PAID_HOURS_UNKNOWN")  # LTS004 #REF_Employment_Status group 1
SETTLED_R1 = (  # LTS004 #REF_Accommodation_Status group 1 (the R1 list's first nine)
    "OWNER_OCCUPIER_OR_SHARED_OWNERSHIP_SCHEME",
    "TENANT_SOCIAL_HOUSING",
    "TENANT_PRIVATE_LANDLORD",
    "SETTLED_MAINSTREAM_HOUSING_WITH_FAMILY_FRIENDS",
    "SUPPORTED_ACCOMMODATION_SUPPORTED_LODGINGS_SUPPORTED_GROUP_HOME",
    "SHARED_LIVES_SCHEME",
    "APPROVED_PREMISES_FOR_OFFENDERS_RELEASED_FROM_PRISON_OR_UNDER_PROBATION_SUPERVISION",
    "SHELTERED_HOUSING_EXTRA_CARE_HOUSING_OTHER_SHELTERED_HOUSING",
    "MOBILE_ACCOMMODATION_FOR_GYPSY_ROMA_AND_TRAVELLER_COMMUNITIES",
)


def _days(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return (b - a).dt.total_days()


def _count(units: pl.DataFrame, unit: str = "unit", extra: str | None = None) -> list[Figure]:
    """18-64, 65+ and Total counts (Total = every counted unit, whatever the age)."""
    figs = []
    for g in ("18-64", "65+", "Total"):
        sub = units if g == "Total" else units.filter(pl.col("band") == g)
        n = sub.select(pl.col(unit).n_unique()).item() if sub.height else 0
        figs.append(Figure(g, n, None, float(n)))
    if extra and units.height:
        for (cat,), sub in sorted(units.group_by(extra), key=lambda t: str(t[0][0])):
            n = sub.select(pl.col(unit).n_unique()).item()
            figs.append(Figure(f"{extra}: {cat}", n, None, float(n)))
    return figs


def _ids(rows: pl.DataFrame) -> pl.DataFrame:
    return salt_ids(rows)


def _today(inp: Inputs) -> date:
    """``CAST(GETDATE() AS Date)``: open end dates become the day the code runs."""
    return inp.today


def _latest_editions(rows: pl.DataFrame) -> pl.DataFrame:
    """STS scripts: the latest submitted edition of each Request and Service by its concatenated
    key (LA, ID, client type, start, route / service type, component, mechanism); Assessments
    and Reviews from every edition (the scripts take them from the raw store unfiltered)."""
    req = pl.concat_str(
        [
            pl.col("la"),
            pl.col("id"),
            pl.col("Client_Type_Raw"),
            pl.col("start").cast(pl.String),
            pl.col("Route_Raw"),
        ],
        separator="|",
        ignore_nulls=True,
    )
    svc = pl.concat_str(
        [
            pl.col("la"),
            pl.col("id"),
            pl.col("Client_Type_Raw"),
            pl.col("start").cast(pl.String),
            pl.col("Service_Type_Raw"),
            pl.col("Service_Component_Raw"),
            pl.col("Delivery_Mechanism_Raw"),
        ],
        separator="|",
        ignore_nulls=True,
    )
    if rows.select(pl.col("edition").n_unique()).item() <= 1:
        return rows  # one edition: every event is its own latest edition
    keyed = rows.with_columns(
        pl.when(pl.col("Event_Type") == "REQUEST")
        .then(req)
        .when(pl.col("Event_Type") == "SERVICE")
        .then(svc)
        .alias("_conc")
    )
    latest = keyed.filter(
        pl.col("_conc").is_null() | (pl.col("edition") == pl.col("edition").max().over("_conc"))
    )
    return latest.drop("_conc")


def _group_starts(keys: list[str]) -> pl.Expr:
    """True on the first row of each run of equal ``keys`` (a frame sorted by them): per-group
    work done over whole columns, without a window (``.over``) per person."""
    same = pl.lit(True)
    for k in keys:
        same = same & (pl.col(k) == pl.col(k).shift(1)).fill_null(False)
    return ~same


def _islands(df: pl.DataFrame, keys: list[str], gap: int, end: str = "e") -> pl.DataFrame:
    """'Islands and gaps' as the scripts write it: rows ordered by (start, end) per person; a
    row continues the island when the *previous row's* end (LAG, not the running maximum) is on
    or after its start minus ``gap`` days. Adds ``island`` and ``island_start``."""
    d = df.select(*keys, "start", end).unique().sort([*keys, "start", end])
    first = _group_starts(keys)
    prev = pl.when(~first).then(pl.col(end).shift(1))  # LAG within the person
    d = d.with_columns(
        first.alias("_first"),
        (~(prev >= (pl.col("start") - pl.duration(days=gap))))
        .fill_null(True)
        .cast(pl.Int32)
        .alias("_new"),
    )
    # island number within the person: running count of island starts, restarted per person
    run = pl.col("_new").cum_sum()
    d = d.with_columns(
        (run - pl.when(pl.col("_first")).then(run - pl.col("_new")).forward_fill())
        .cast(pl.Int32)
        .alias("island"),
        # rows are sorted by start within the person: an island starts on its first row
        pl.when(pl.col("_new") == 1).then(pl.col("start")).forward_fill().alias("island_start"),
    ).drop("_first", "_new")
    return df.join(d, on=[*keys, "start", end], how="left")


def _range_cummin(
    df: pl.DataFrame, part: list[str], order: str, val: str, out: str
) -> pl.DataFrame:
    """``MIN(val) OVER (PARTITION BY part ORDER BY order)``: SQL's default RANGE frame, so rows
    with the same ``order`` value share one result."""
    g = df.group_by([*part, order]).agg(pl.col(val).min().alias("_m")).sort([*part, order])
    m = g["_m"]
    if m.null_count() == 0 and (m.len() == 0 or (m.min() >= 0 and m.max() <= 1)):
        # 0/1 flags: a running minimum over the whole column, each person's values shifted
        # below every earlier person's (value - 2 * person number), then shifted back
        grp = _group_starts(part).cast(pl.Int64).cum_sum()
        g = g.with_columns(
            ((pl.col("_m").cast(pl.Int64) - 2 * grp).cum_min() + 2 * grp)
            .cast(m.dtype)
            .alias(out)
        ).drop("_m")
    else:
        g = g.with_columns(pl.col("_m").cum_min().over(part).alias(out)).drop("_m")
    return df.join(g, on=[*part, order], how="left", nulls_equal=True)


def _sts_rows(inp: Inputs, *, need_birth: bool) -> pl.DataFrame:
    """STS build: service users' Requests/Assessments/Services/Reviews starting by the period
    end, from every edition, with the amalgamated id and the latest edition of each event."""
    cache = inp.__dict__.setdefault("_cache", {})
    if ("sts_rows", need_birth) not in cache:
        cache[("sts_rows", need_birth)] = _sts_rows_uncached(inp, need_birth=need_birth)
    return cache[("sts_rows", need_birth)]


def _sts_rows_uncached(inp: Inputs, *, need_birth: bool) -> pl.DataFrame:
    pe = inp.period.end
    ev = inp.events.filter(
        pl.col("Event_Type").is_in(["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"])
        & (pl.col("start") <= pe)
        & (pl.col("Client_Type") == "SERVICE_USER")
    )
    if need_birth:
        ev = ev.filter(
            pl.col("birth_date").is_not_null()
            & ((pl.col("dod") >= inp.salt_start) | pl.col("dod").is_null())
        )
    ev = _ids(ev)
    ev = _latest_editions(ev)
    return ev.with_columns(
        r1_text("Event_Outcome", "Event_Outcome_Raw").alias("eo1"),
        age(pl.col("birth_date"), pe).alias("age"),
    )


def _open_lts(
    units: pl.DataFrame, rows: pl.DataFrame, start_col: str, key: list[str]
) -> pl.DataFrame:
    """Units whose ``start_col`` falls in an open long-term service (start..end inclusive, or
    on/after the start of one with no end): #ONGOING."""
    svc = (
        rows.filter(pl.col("Service_Type").is_in(LTS))
        .select("id", pl.col("start").alias("s_start"), pl.col("end").alias("s_end"))
        .unique()
    )
    hit = (
        units.select(*dict.fromkeys([*key, start_col]))
        .join(svc, on="id")
        .filter(
            ((pl.col(start_col) >= pl.col("s_start")) & (pl.col(start_col) <= pl.col("s_end")))
            | ((pl.col(start_col) >= pl.col("s_start")) & pl.col("s_end").is_null())
        )
        .select(key)
        .unique()
    )
    return hit


def _join_sequels(units: pl.DataFrame, rows: pl.DataFrame, key: list[str]) -> pl.DataFrame:
    """Each unit (request or ST-Max cluster) joined to the person's events starting on or
    after its end, with ``rn`` = DENSE_RANK by the sequel's start (taken before the scripts
    delete the unit's own reappearance)."""
    seq = units.join(
        rows.select(
            "id",
            pl.col("start").alias("q_start"),
            pl.col("end").alias("q_end"),
            pl.col("Event_Type").alias("q_type"),
            pl.col("Service_Type").alias("q_st"),
            pl.col("eo1").alias("q_eo"),
            pl.col("rid").alias("q_rid"),
        ),
        on="id",
    ).filter(pl.col("q_start") >= pl.col("c_end"))
    # DENSE_RANK by q_start per unit: number each unit's distinct starts in sorted order
    ranks = seq.select(*key, "q_start").unique().sort([*key, "q_start"])
    first = _group_starts(key)
    run = pl.int_range(1, pl.len() + 1, dtype=pl.UInt32)
    ranks = ranks.with_columns(
        (run - pl.when(first).then(run - 1).forward_fill()).cast(pl.UInt32).alias("rn")
    )
    return seq.join(ranks, on=[*key, "q_start"], how="left", maintain_order="left")


def sts001(inp: Inputs) -> tuple[MeasureResult, pl.DataFrame]:
    """STS001: requests for support from new clients, by sequel. Also returns the ST-Max cohort
    (id, ST-Max start) that STS002a reads (``[ASC_Sandbox].[SALT_STS002a_Cohort]``)."""
    ps, pe, today = inp.salt_start, inp.period.end, _today(inp)
    rows = _sts_rows(inp, need_birth=True)
    req = rows.filter(pl.col("Event_Type") == "REQUEST").with_columns(
        pl.col("end").fill_null(today).alias("e")
    )
    req = _islands(req, ["ik"], 4)
    req = req.filter((pl.col("e") >= ps) & (pl.col("e") <= pe))
    req = req.filter(pl.col("e") == pl.col("e").max().over(["ik", "island"]))
    cl = req.select(
        "id",
        "ik",
        "age",
        pl.col("island_start").alias("c_start"),
        pl.col("e").alias("c_end"),
        pl.col("Route_Raw").alias("route"),
        "eo1",
        pl.col("island").alias("count"),
        pl.col("rid"),
    ).unique(["id", "age", "c_start", "c_end", "route", "eo1", "count"])
    # new clients only: no long-term service open when the request cluster started
    key = ["ik", "count"]
    cl = cl.join(
        _open_lts(cl, rows, "c_start", ["id", "c_start", "c_end", "count"]),
        on=["id", "c_start", "c_end", "count"],
        how="anti",
    )
    cl = cl.with_columns(
        pl.col("eo1").replace_strict(EO_HIERARCHY, default=99, return_dtype=pl.Int32).alias("eoh")
    )
    cl = cl.filter(pl.col("eoh") == pl.col("eoh").min().over(key))
    cl = cl.with_columns(pl.int_range(pl.len()).alias("unit"))
    seq = _join_sequels(cl, rows, key)
    # the request itself can reappear when it starts on its cluster's end
    drop = (pl.col("q_type") == "REQUEST") & (
        (pl.col("c_start") == pl.col("q_start")) | (pl.col("c_end") == pl.col("q_end"))
    )
    seq = seq.filter(~drop.fill_null(False))
    seq, chain = _rechain(
        seq, key, first_gap=28, breaker=pl.col("q_type") == "REQUEST", hier=STS001_SERVICE_HIER
    )
    result = _sequels(cl, seq, chain, key, kind="sts001")
    cohort = (
        chain.filter(pl.col("sh") == pl.col("sh").min().over(key))
        .filter(pl.col("q_st") == "SHORT_TERM_ST_MAX")
        .select("id", pl.col("q_start").alias("st_start"))
        .unique()
    )
    result = result.with_columns(band(pl.col("age")).alias("band"))
    figs = _count(result, extra="sequel")
    people = result.select(
        pl.col("id").alias("person"),
        pl.col("band").alias("group"),
        pl.lit(True).alias("in_numerator"),
        pl.lit(None, pl.Boolean).alias("in_denominator"),
        pl.format(
            "request {} to {}: {} (record type {})", "c_start", "c_end", "sequel", "rtype"
        ).alias("detail"),
        pl.concat_list(pl.col("rid")).alias("rids"),
    )
    return MeasureResult(figs, people_frame(people)), cohort


def _mapping(col: str, kind: str) -> pl.Expr:
    """(code, description) lookups on a lowercase R1 outcome text."""
    if kind == "sts001":
        return pl.col(col).replace_strict(
            {k: v[1] for k, v in SEQUEL_MAPPING.items()}, default=None, return_dtype=pl.String
        )
    return pl.col(col).replace_strict(STMAX_MAPPING, default=None, return_dtype=pl.String)


def _sequels(
    units: pl.DataFrame, seq: pl.DataFrame, chain: pl.DataFrame, key: list[str], kind: str
) -> pl.DataFrame:
    """Record types 1-5 of STS001 (``kind='sts001'``) and STS002a (``'sts002a'``): one row per
    unit with ``sequel`` (FINAL_OUTCOME_MAPPED) and ``rtype``."""
    out = []
    with_seq = seq.select("unit").unique()
    own = _mapping("eo1", kind)
    planned = pl.col("eo1") == "service ended as planned"
    # 1: no further chronology
    none = units.join(with_seq, on="unit", how="anti")
    if kind == "sts001":
        s1 = (
            pl.when(own.is_not_null())
            .then(pl.lit("No_Chronology_") + own)
            .otherwise(pl.lit("No_Chronology_Unable_To_Classify"))
        )
    else:
        s1 = (
            pl.when(planned)
            .then(pl.lit(_OTHER))
            .when(own.is_not_null())
            .then(pl.lit("No_Chronology_") + own)
            .otherwise(pl.lit("No_Chronology_Unable_To_Classify"))
        )
    out.append(none.with_columns(s1.alias("sequel"), pl.lit("1").alias("rtype")))
    # 2: a service in the chain (highest in the hierarchy)
    chain = chain.with_columns(pl.col("sh").min().over(key).alias("_min"))
    svc = chain.filter((pl.col("_min") != 99) & (pl.col("sh") == pl.col("_min")))
    svc = svc.with_columns(
        pl.col("q_st").replace_strict(_SVC_R1, default=None, return_dtype=pl.String).alias("_st")
    )
    if kind == "sts001":
        svc = svc.with_columns(pl.col("_st").alias("sequel"))
    else:
        svc = svc.with_columns(
            pl.col("_st")
            .str.to_lowercase()
            .replace_strict(STMAX_MAPPING, default=None, return_dtype=pl.String)
            .alias("sequel")
        )
    svc_units = svc.select("unit", "sequel").unique()
    out.append(units.join(svc_units, on="unit").with_columns(pl.lit("2").alias("rtype")))
    # 3/4: no service: an NFA outcome in the chain (latest end), else the unit's own outcome
    other = chain.filter(pl.col("_min") == 99).unique(
        [*key, "unit", "q_type", "q_start", "q_end", "q_eo"]
    )
    other = other.with_columns(
        pl.col("q_end").rank("dense", descending=True).over(key).alias("rn2")
    )
    if kind == "sts001":
        is_nfa = (
            pl.col("q_eo").replace_strict(
                {k: v[0] for k, v in SEQUEL_MAPPING.items()}, default=None, return_dtype=pl.Int32
            )
            == 1
        )
        nfa_min = (
            other.filter(is_nfa.fill_null(False)).group_by(key).agg(pl.col("rn2").min().alias("_r"))
        )
        at = other.join(nfa_min, on=key).filter(pl.col("rn2") == pl.col("_r"))
    else:
        is_nfa = pl.col("q_eo").str.starts_with("nfa")
        nfa_min = (
            other.filter(is_nfa.fill_null(False)).group_by(key).agg(pl.col("rn2").min().alias("_r"))
        )
        at = other.join(nfa_min, on=key).filter(
            (pl.col("rn2") == pl.col("_r")) & is_nfa.fill_null(False)
        )
    at = at.with_columns(pl.len().over(key).alias("_n"))
    mapped = _mapping("q_eo", kind)
    fallback = "No Services Provided - other reason" if kind == "sts001" else _OTHER
    s3 = at.select(
        "unit", pl.when(pl.col("_n") == 1).then(mapped).otherwise(pl.lit(fallback)).alias("sequel")
    ).unique()
    out.append(units.join(s3, on="unit").with_columns(pl.lit("3").alias("rtype")))
    rest = units.join(other.select("unit").unique(), on="unit", how="semi").join(
        s3, on="unit", how="anti"
    )
    if kind == "sts001":
        code = pl.col("eo1").replace_strict(
            {k: v[0] for k, v in SEQUEL_MAPPING.items()}, default=None, return_dtype=pl.Int32
        )
        s4 = (
            pl.when(code == 1)
            .then(pl.lit("No Service Found_") + own)
            .otherwise(pl.lit("No Service Found"))
        )
    else:
        # NATIONAL CHOICE: this branch spells 'No services provided - other' with a hyphen, a
        # category apart from the en-dash one used everywhere else.
        s4 = (
            pl.when(pl.col("eo1").str.starts_with("nfa"))
            .then(own)
            .when(planned)
            .then(pl.lit("No services provided - other"))
            .otherwise(pl.lit("No Service Found"))
        )
    out.append(rest.with_columns(s4.alias("sequel"), pl.lit("4").alias("rtype")))
    # 5: chronology found but out of scope (too late, or another request / ST-Max first)
    done = pl.concat([o.select("unit") for o in out])
    oos = units.join(with_seq, on="unit", how="semi").join(done, on="unit", how="anti")
    if kind == "sts001":
        # 'No_Chronology_' + NULL is NULL in T-SQL: unmapped outcomes have no category here
        s5 = pl.lit("No_Chronology_") + own
    else:
        s5 = (
            pl.when(planned)
            .then(pl.lit(_OTHER))
            .when(own.is_not_null())
            .then(pl.lit("No_Chronology_") + own)
            .otherwise(pl.lit("No_Chronology_Unable_To_Classify"))
        )
    out.append(oos.with_columns(s5.alias("sequel"), pl.lit("5").alias("rtype")))
    cols = [*units.columns, "sequel", "rtype"]
    return pl.concat([o.select(cols) for o in out]).with_columns(
        pl.col("sequel").fill_null("(none)")
    )


_SVC_R1 = {
    "SHORT_TERM_ST_MAX": "Short Term Support: ST-Max",
    "SHORT_TERM_ONGOING_LOW_LEVEL": "Short Term Support: Ongoing Low Level",
    "SHORT_TERM_OTHER": "Short Term Support: Other Short Term",
    "LONG_TERM_NURSING": "Long Term Support: Nursing Care",
    "LONG_TERM_RESIDENTIAL": "Long Term Support: Residential Care",
    "LONG_TERM_COMMUNITY": "Long Term Support: Community",
    "LONG_TERM_PRISON": "Long Term Support: Prison",
}


def _st_max_clusters(inp: Inputs, rows: pl.DataFrame) -> pl.DataFrame:
    """ST-Max rows clustered with 1-day gaps (LAG), cluster end = latest end (open = today),
    ending in the SALT year to date."""
    today = _today(inp)
    st = rows.filter(
        (pl.col("Event_Type") == "SERVICE")
        & (pl.col("Service_Type") == "SHORT_TERM_ST_MAX")
        & ((pl.col("dod") >= inp.salt_start) | pl.col("dod").is_null())
    )
    st = st.with_columns(pl.col("end").fill_null(today).alias("e"))
    st = _islands(st, ["ik"], 1)
    st = st.filter(pl.col("e") == pl.col("e").max().over(["ik", "island"]))
    cl = st.select(
        "id",
        "ik",
        pl.col("island_start").alias("c_start"),
        pl.col("e").alias("c_end"),
        "eo1",
        pl.col("island").alias("count"),
        "rid",
    ).unique(["id", "c_start", "c_end", "eo1", "count"])
    return cl.filter((pl.col("c_end") >= inp.salt_start) & (pl.col("c_end") <= inp.period.end))


def _subset(inp: Inputs) -> pl.DataFrame:
    """STS002a/b #SUBSET: no birth or death filter at build."""
    return _sts_rows(inp, need_birth=False)


def _ages(inp: Inputs, ids: pl.DataFrame) -> pl.DataFrame:
    """Age at the period end per id (the scripts give STS002 no age; here for the bands)."""
    cache = inp.__dict__.setdefault("_cache", {})
    if "births" not in cache:
        cache["births"] = (
            _ids(
                inp.events.filter(pl.col("birth_date").is_not_null()).select(
                    "nhs", "la_pid", "birth_date"
                )
            )
            .group_by("id")
            .agg(pl.col("birth_date").min())
        )
    b = cache["births"]
    return ids.join(b, on="id", how="left").with_columns(
        age(pl.col("birth_date"), inp.period.end).alias("age")
    )


def sts002a(inp: Inputs, cohort: pl.DataFrame) -> MeasureResult:
    """STS002a: what followed ST-Max for new clients (the STS001 cohort), by SALT sequel."""
    rows = _subset(inp)
    st_rows = rows.join(cohort, left_on=["id", "start"], right_on=["id", "st_start"], how="semi")
    st_rows = st_rows.unique(["id", "start", "end", "eo1"])
    cl = _st_max_clusters(inp, st_rows)
    key = ["ik", "count"]
    cl = cl.with_columns(
        pl.col("eo1").replace_strict(EO_HIERARCHY, default=99, return_dtype=pl.Int32).alias("eoh")
    )
    cl = cl.filter(pl.col("eoh") == pl.col("eoh").min().over(key))
    cl = cl.with_columns(pl.int_range(pl.len()).alias("unit"))
    seq = _join_sequels(cl, rows, key)
    drop = (pl.col("q_st") == "SHORT_TERM_ST_MAX") & (
        (pl.col("c_start") == pl.col("q_start")) | (pl.col("c_end") == pl.col("q_end"))
    )
    seq2, chain = _rechain(
        seq.filter(~drop.fill_null(False)),
        key,
        first_gap=3,
        breaker=pl.col("q_st") == "SHORT_TERM_ST_MAX",
        hier=STS002_SERVICE_HIER,
    )
    res = _sequels(cl, seq2, chain, key, kind="sts002a")
    res = _ages(inp, res).with_columns(band(pl.col("age")).alias("band"))
    figs = _count(res, extra="sequel")
    people = res.select(
        pl.col("id").alias("person"),
        pl.col("band").alias("group"),
        pl.lit(True).alias("in_numerator"),
        pl.lit(None, pl.Boolean).alias("in_denominator"),
        pl.format(
            "ST-Max {} to {}: {} (record type {})", "c_start", "c_end", "sequel", "rtype"
        ).alias("detail"),
        pl.concat_list(pl.col("rid")).alias("rids"),
    )
    return MeasureResult(figs, people_frame(people))


def _rechain(
    seq: pl.DataFrame, key: list[str], *, first_gap: int, breaker: pl.Expr, hier: dict[str, int]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chain flags over sequel rows already joined (after the scripts' DELETE)."""
    seq = seq.sort([*key, "q_start", "q_end"], nulls_last=True)
    lag = pl.when(~_group_starts(key)).then(pl.col("q_end").shift(1))  # LAG within the unit
    seq = seq.with_columns(
        pl.when(_days(lag, pl.col("q_start")) > 3).then(0).otherwise(1).alias("flag")
    )
    seq = _range_cummin(seq, key, "q_start", "flag", "_runflag")
    seq = seq.with_columns(
        pl.when(pl.col("q_end").is_null() & (pl.col("rn") == 1))
        .then(1)
        .when((_days(pl.col("c_end"), pl.col("q_start")) > first_gap) & (pl.col("rn") == 1))
        .then(0)
        .otherwise(pl.col("_runflag"))
        .alias("in_chain")
    )
    seq = _range_cummin(seq, key, "q_start", "in_chain", "in_scope")
    seq = seq.with_columns(pl.when(breaker.fill_null(False)).then(0).otherwise(1).alias("brk"))
    seq = _range_cummin(seq, key, "q_start", "brk", "no_break")
    chain = seq.filter((pl.col("in_scope") == 1) & (pl.col("no_break") == 1)).with_columns(
        pl.col("q_st").replace_strict(hier, default=99, return_dtype=pl.Int32).alias("sh")
    )
    return seq, chain


def sts002b(inp: Inputs) -> MeasureResult:
    """STS002b: ST-Max episodes (1-day-gap clusters) ending in the year for existing clients
    (a long-term service open when the episode started); high-level total only."""
    rows = _subset(inp)
    # only ST-Max services are clustered: the others are set aside before de-duplicating (both
    # tests are on columns of the de-duplication key, so the same rows remain)
    st_rows = rows.filter(
        (pl.col("Event_Type") == "SERVICE") & (pl.col("Service_Type") == "SHORT_TERM_ST_MAX")
    ).unique(["id", "start", "end", "eo1", "Event_Type", "Service_Type"])
    cl = _st_max_clusters(inp, st_rows)
    hit = _open_lts(cl, rows, "c_start", ["id", "c_start", "c_end", "count"])
    cl = cl.join(hit, on=["id", "c_start", "c_end", "count"], how="semi")
    cl = cl.with_columns(
        pl.concat_str(["id", pl.col("count").cast(pl.String)], separator="#").alias("unit")
    )
    cl = _ages(inp, cl).with_columns(band(pl.col("age")).alias("band"))
    figs = _count(cl)
    people = cl.select(
        pl.col("id").alias("person"),
        pl.col("band").alias("group"),
        pl.lit(True).alias("in_numerator"),
        pl.lit(None, pl.Boolean).alias("in_denominator"),
        pl.format("ST-Max {} to {} while in long-term support", "c_start", "c_end").alias("detail"),
        pl.concat_list(pl.col("rid")).alias("rids"),
    )
    return MeasureResult(figs, people_frame(people))


# -- long-term support ------------------------------------------------------------------------
_PSR_R1 = {
    k: v
    for k, v in __import__("pipelines.measures.base", fromlist=["_r1_texts"])
    ._r1_texts("Primary_Support_Reason")
    .items()
}


def _lts_dedup(rows: pl.DataFrame) -> pl.DataFrame:
    """LTS001 per-table de-duplication: lowest setting hierarchy, then a known PSR over
    Unknown, then the latest start; PSRs still in conflict become Unknown."""
    valid = pl.concat_str(pl.col("Service_Type"), pl.lit("|"), pl.col("Delivery_Mechanism")).is_in(
        [f"{t}|{d}" for t, d in LTS_SETTING if d]
    )
    rows = rows.with_columns(
        pl.when(
            valid.fill_null(False)
            & pl.col("Service_Type").is_in(["LONG_TERM_COMMUNITY", "LONG_TERM_PRISON"])
        )
        .then(pl.col("Delivery_Mechanism"))
        .otherwise(pl.lit(""))
        .alias("dm"),
    )
    hier = {f"{t}|{d}": h for (t, d), (h, _) in LTS_SETTING.items()}
    cat = {h: c for (h, c) in LTS_SETTING.values()}
    rows = rows.with_columns(
        pl.concat_str(pl.col("Service_Type"), pl.lit("|"), pl.col("dm"))
        .replace_strict(hier, default=None, return_dtype=pl.Int32)
        .alias("h"),
        # Der_PSR_Known: 0 only for 'Unknown' or blank (an invalid PSR counts as known)
        (
            pl.col("Primary_Support_Reason").is_not_null()
            & (pl.col("Primary_Support_Reason") != "UNKNOWN")
        )
        .cast(pl.Int8)
        .alias("k"),
    )
    top = top_rows(
        rows.filter(pl.col("h").is_not_null()), "ik", ["h", "k", "start"], [False, True, True]
    )
    psr = (
        pl.when(pl.col("Primary_Support_Reason") == "INVALID")
        .then(pl.lit("Invalid/NULL"))
        .otherwise(
            pl.col("Primary_Support_Reason").replace_strict(
                _PSR_R1, default=None, return_dtype=pl.String
            )
        )
    )
    top = top.with_columns(psr.fill_null("Invalid/NULL").alias("psr"))
    return (
        top.group_by("id")
        .agg(
            pl.col("h").first(),
            pl.when(pl.col("psr").n_unique() > 1)
            .then(pl.lit("Unknown"))
            .otherwise(pl.col("psr").first())
            .alias("psr"),
            pl.col("rid"),
        )
        .with_columns(pl.col("h").replace_strict(cat, return_dtype=pl.String).alias("setting"))
    )


def _lts(inp: Inputs, rows: pl.DataFrame, at: date, detail: str) -> MeasureResult:
    rows = _ids(rows).with_columns(age(pl.col("birth_date"), at).alias("age"))
    parts = []
    for g, cond in (
        ("18-64", (pl.col("age") >= 18) & (pl.col("age") <= 64)),
        ("65+", pl.col("age") > 64),
    ):
        d = _lts_dedup(rows.filter(cond)).with_columns(pl.lit(g).alias("band"))
        parts.append(d)
    both = pl.concat(parts)
    figs = []
    for g in ("18-64", "65+"):
        n = both.filter(pl.col("band") == g).height
        figs.append(Figure(g, n, None, float(n)))
    figs.append(Figure("Total", both.height, None, float(both.height)))  # SALT tables 1a + 1b
    for (s,), sub in sorted(both.group_by("setting"), key=lambda t: str(t[0][0])):
        figs.append(Figure(f"setting: {s}", sub.height, None, float(sub.height)))
    for (p,), sub in sorted(both.group_by("psr"), key=lambda t: str(t[0][0])):
        figs.append(Figure(f"PSR: {p}", sub.height, None, float(sub.height)))
    people = both.select(
        pl.col("id").alias("person"),
        pl.col("band").alias("group"),
        pl.lit(True).alias("in_numerator"),
        pl.lit(None, pl.Boolean).alias("in_denominator"),
        pl.format(detail + "{} / PSR {}", "setting", "psr").alias("detail"),
        pl.col("rid").alias("rids"),
    )
    return MeasureResult(figs, people_frame(people))


def _lts_rows(inp: Inputs) -> pl.DataFrame:
    """The latest submission's long-term services for service users with a birth date."""
    return inp.latest.filter(
        pl.col("Service_Type").is_in(LTS)
        & (pl.col("Client_Type") == "SERVICE_USER")
        & pl.col("birth_date").is_not_null()
    )


def lts001a(inp: Inputs) -> MeasureResult:
    ps, pe = inp.salt_start, inp.period.end
    rows = _lts_rows(inp).filter(
        (pl.col("start") <= pe)
        & ((pl.col("end") >= ps) | pl.col("end").is_null())
        & ((pl.col("dod") >= ps) | pl.col("dod").is_null())
    )
    return _lts(inp, rows, pe, "in long-term support in the year: ")


def lts001b(inp: Inputs) -> MeasureResult:
    pe = inp.period.end
    rows = _lts_rows(inp).filter(
        (pl.col("start") <= pe)
        & ((pl.col("end") >= pe) | pl.col("end").is_null())
        & ((pl.col("dod") >= pe) | pl.col("dod").is_null())
    )
    return _lts(inp, rows, pe, "in long-term support at the snapshot: ")


def lts001c(inp: Inputs) -> MeasureResult:
    """LTS001c: at the snapshot, in an unbroken chain of long-term support (1-day gaps, open
    ends as today) that started more than 12 months before."""
    pe, today = inp.period.end, _today(inp)
    year_before = date(pe.year - 1, pe.month, pe.day)
    rows = _lts_rows(inp).filter(
        (pl.col("start") <= pe) & ((pl.col("dod") >= pe) | pl.col("dod").is_null())
    )
    rows = _ids(rows).with_columns(pl.col("end").fill_null(today).alias("pe_"))
    rows = _islands(rows, ["ik"], 1, end="pe_")
    # NATIONAL CHOICE: chain start strictly before the same day a year earlier
    rows = rows.filter((pl.col("island_start") < year_before) & (pl.col("pe_") >= pe))
    return _lts(
        inp,
        rows.drop("id", "ik", "island", "island_start"),
        pe,
        "in long-term support for over 12 months: ",
    )


_CARER_SUPPORT = [
    "Direct Payment only",
    "CASSR Managed Personal Budget",
    "CASSR Commissioned Support only",
    "Support Direct to Carer: Unknown Delivery Mech",
    "Information, Advice and Other Universal Services / Signposting",
    "No Direct Support Provided to Carer",
]


def lts003(inp: Inputs) -> MeasureResult:
    """LTS003: carers supported in the year (total, by support provided)."""
    ps, pe = inp.salt_start, inp.period.end
    b = inp.latest.filter(
        pl.col("Client_Type").is_in(["CARER", "CARER_KNOWN_BY_ASSOCIATION"])
        & (pl.col("start") <= pe)
        & ((pl.col("end") >= ps) | pl.col("end").is_null())
        & ((pl.col("dod") >= ps) | pl.col("dod").is_null())
        & pl.col("Event_Type").is_in(["REQUEST", "ASSESSMENT", "SERVICE", "REVIEW"])
        & (
            (
                pl.col("Service_Type").is_null()
                & (pl.col("Event_Outcome") == "NFA_INFORMATION_ADVICE")
            )
            | pl.col("Service_Type").is_in(
                ["CARER_SUPPORT_DIRECT", "CARER_SUPPORT_INVOLVING_CARED_FOR"]
            )
            | (
                pl.col("Event_Type").is_in(["ASSESSMENT", "REVIEW"])
                & pl.col("Service_Type").is_null()
            )
        )
    )
    b = _ids(b)
    direct = pl.col("Service_Type") == "CARER_SUPPORT_DIRECT"
    dm = pl.col("Delivery_Mechanism")
    ar = pl.col("Event_Type").is_in(["ASSESSMENT", "REVIEW"])
    ia = pl.col("Event_Outcome") == "NFA_INFORMATION_ADVICE"
    support = (
        pl.when(direct & (dm == "DIRECT_PAYMENT"))
        .then(pl.lit(_CARER_SUPPORT[0]))
        .when(direct & (dm == "CASSR_MANAGED_PERSONAL_BUDGET"))
        .then(pl.lit(_CARER_SUPPORT[1]))
        .when(direct & (dm == "CASSR_COMMISSIONED_SUPPORT"))
        .then(pl.lit(_CARER_SUPPORT[2]))
        .when(
            direct
            & ~dm.is_in(
                ["DIRECT_PAYMENT", "CASSR_MANAGED_PERSONAL_BUDGET", "CASSR_COMMISSIONED_SUPPORT"]
            )
        )
        .then(pl.lit(_CARER_SUPPORT[3]))
        .when(direct & dm.is_null())
        .then(pl.lit(_CARER_SUPPORT[3]))
        .when(pl.col("Service_Type") == "CARER_SUPPORT_INVOLVING_CARED_FOR")
        .then(pl.lit(_CARER_SUPPORT[5]))
        .when(ar & ~ia)
        .then(pl.lit(_CARER_SUPPORT[5]))
        .when(ar & pl.col("Event_Outcome").is_null())
        .then(pl.lit(_CARER_SUPPORT[5]))
        .when(ar & ia)
        .then(pl.lit(_CARER_SUPPORT[4]))
        .when(pl.col("Event_Type") == "REQUEST")
        .then(pl.lit(_CARER_SUPPORT[4]))
    )
    b = b.with_columns(support.alias("support"))
    b = b.with_columns(
        pl.col("support")
        .replace_strict(
            {s: i for i, s in enumerate(_CARER_SUPPORT, 1)}, default=None, return_dtype=pl.Int32
        )
        .alias("h")
    )
    # a carer whose only rows have no category (NULL hierarchy) is dropped by the join on MIN
    per = (
        b.filter(pl.col("h").is_not_null())
        .group_by("id")
        .agg(pl.col("h").min(), pl.col("rid"), pl.col("birth_date").min())
    )
    per = per.with_columns(
        pl.col("h")
        .replace_strict({i: s for i, s in enumerate(_CARER_SUPPORT, 1)}, return_dtype=pl.String)
        .alias("support"),
        band(age(pl.col("birth_date"), pe)).alias("band"),
        pl.col("id").alias("unit"),
    )
    figs = [f for f in _count(per, extra="support") if f.group not in ("18-64", "65+")]
    people = per.select(
        pl.col("id").alias("person"),
        pl.lit("Total").alias("group"),
        pl.lit(True).alias("in_numerator"),
        pl.lit(None, pl.Boolean).alias("in_denominator"),
        pl.col("support").alias("detail"),
        pl.col("rid").alias("rids"),
    )
    return MeasureResult(figs, people_frame(people))


def _lts004_status(
    rows: pl.DataFrame, col: str, good: tuple[str, ...], label: str
) -> MeasureResult:
    """LTS004 table: latest event start, then known over Unknown at that start; conflicts
    (same start, same knownness) become Unknown. Numerator: ``good`` statuses."""
    valid = rows.filter(pl.col(col).is_not_null() & (pl.col(col) != "INVALID"))
    valid = valid.with_columns((pl.col(col) != "UNKNOWN").cast(pl.Int8).alias("k"))
    latest = first_by(valid.select("id", "start"), "id", ["start"], [True])
    at = valid.join(latest, on=["id", "start"])
    at = at.filter(pl.col("k") == pl.col("k").max().over("ik"))
    per = at.group_by(["id", "Gender"]).agg(
        pl.when(pl.col(col).n_unique() > 1)
        .then(pl.lit("UNKNOWN"))
        .otherwise(pl.col(col).first())
        .alias("status"),
        pl.col("rid"),
    )
    per = per.group_by("id").agg(
        pl.col("status").first(), pl.col("rid").list.explode(keep_nulls=False, empty_as_null=False)
    )
    per = per.with_columns(pl.col("status").is_in(list(good)).alias("num"))
    n, d = per.filter(pl.col("num")).height, per.height
    figs = [
        Figure("18-64", n, d, round(n / d * 100, 1) if d else 0.0),
        Figure("Total", n, d, round(n / d * 100, 1) if d else 0.0),
    ]
    people = per.select(
        pl.col("id").alias("person"),
        pl.lit("18-64").alias("group"),
        pl.col("num").alias("in_numerator"),
        pl.lit(True).alias("in_denominator"),
        pl.format(label + " {}", "status").alias("detail"),
        pl.col("rid").alias("rids"),
    )
    return MeasureResult(figs, people_frame(people))


def lts004(inp: Inputs) -> tuple[MeasureResult, MeasureResult]:
    """LTS004: learning-disability clients aged 18-64 in long-term support in the year: in paid
    employment; in settled accommodation."""
    ps, pe = inp.salt_start, inp.period.end
    rows = (
        inp.latest.filter(
            (pl.col("Event_Type") == "SERVICE")
            & pl.col("Service_Type").is_in(LTS)
            & (pl.col("Client_Type") == "SERVICE_USER")
            & (pl.col("Primary_Support_Reason") == "LEARNING_DISABILITY")
            & (pl.col("start") <= pe)
            & ((pl.col("end") >= ps) | pl.col("end").is_null())
            & ((pl.col("dod") >= ps) | pl.col("dod").is_null())
            & pl.col("birth_date").is_not_null()
        )
        .with_columns(age(pl.col("birth_date"), pe).alias("age"))
        .filter(pl.col("age").is_between(18, 64))
    )
    rows = _ids(rows)
    return (
        _lts004_status(rows, "Employment_Status", PAID, "employment"),
        _lts004_status(rows, "Accommodation_Status", SETTLED_R1, "accommodation"),
    )


__all__ = ["lts001a", "lts001b", "lts001c", "lts003", "lts004", "sts001", "sts002a", "sts002b"]
