"""ASCOF 2A, 2B/2C, 2E and 3D by DHSC's production method (2024-25 onwards, R1 and R2).

Each function follows one stored procedure of ``DataS-DHSC/ASC-CLD-LA-Dashboard`` at commit
9bee728f40102c4f6cee25a5511c5144c2209b4c (``ASCOF_measures/``), over the joined-submissions
main table and the latest person details built in :mod:`pipelines.measures.base`. Where the
national SQL has a quirk we believe is wrong, the quirk is kept (the point is to predict the
published figure) and marked ``NATIONAL CHOICE`` here and in docs/measures.md.
"""

from __future__ import annotations

import polars as pl

from pipelines.measures.base import (
    DHSC_OUTCOME_HIERARCHY,
    FAR,
    INVALID,
    LTS,
    R1_NOT_MAPPED,
    Inputs,
    age,
    band,
    first_by,
)
from pipelines.measures.common import (
    GROUPS,
    Figure,
    MeasureResult,
    by_band,
    pct,
    people_frame,
)

OUTCOME_TEXT = {  # keys -> the R2 texts the DHSC lists name
    "PROGRESS_TO_REABLEMENT": "Progress to reablement/ST-Max",
    "PROGRESS_TO_ASSESSMENT_REVIEW_OR_REASSESSMENT": (
        "Progress to assessment, review or reassessment"
    ),
    R1_NOT_MAPPED: "Release 1 specification only: Not mapped",
    "PROGRESS_TO_SUPPORT_PLANNING": "Progress to support planning or services",
    "CONTINUATION_OF_SUPPORT": "Continuation of support or services",
    "ADMITTED_TO_HOSPITAL": "Admitted to hospital",
    "NFA_MOVED_TO_ANOTHER_LA": "NFA: Responsibility moved to another local authority",
    "NFA_NHS_FUNDED": "NFA: Referral to NHS services or NHS funded social care",
    "NFA_SELF_FUNDED": "NFA: Self-funded client or under 12wk disregard",
    "NFA_INFORMATION_ADVICE": "NFA: Information and advice or signposting",
    "NFA_REFERRAL_WITHIN_LA": "NFA: Referral to other service within the local authority",
    "NFA_SUPPORT_DECLINED": "NFA: Support declined",
    "NFA_DECEASED": "NFA: Deceased",
    "SERVICE_ENDED_AS_PLANNED": "NFA: Support ended as planned",
    "NFA_SUPPORT_ENDED_OTHER": "NFA: Support ended for other reason",
    "NFA_NO_SERVICES_OTHER": "NFA: No services offered for other reason",
    "NFA_OTHER": "NFA: Other",
    INVALID: "Invalid and not mapped",
}
SERVICE_TEXT = {
    "LONG_TERM_NURSING": "Long term support: Nursing care",
    "LONG_TERM_RESIDENTIAL": "Long term support: Residential care",
    "LONG_TERM_COMMUNITY": "Long term support: Community",
    "LONG_TERM_PRISON": "Long term support: Prison",
    "SHORT_TERM_ST_MAX": "Short term support: ST-Max",
    "SHORT_TERM_ONGOING_LOW_LEVEL": "Short term support: Ongoing low level",
    "SHORT_TERM_OTHER": "Short term support: Other short term",
}
ST_RES_NURS = "Short term support: Residential or Nursing care"

# Create_ASCOF_2A_2425_Onwards.sql: #REF_Event_Outcome_Hierarchy_UTC (+100 = unable to classify)
_UTC = {
    "CONTINUATION_OF_SUPPORT",
    "PROGRESS_TO_SUPPORT_PLANNING",
    "PROGRESS_TO_ASSESSMENT_REVIEW_OR_REASSESSMENT",
    "PROGRESS_TO_REABLEMENT",
    R1_NOT_MAPPED,
}
UTC_HIERARCHY = {k: v + (100 if k in _UTC else 0) for k, v in DHSC_OUTCOME_HIERARCHY.items()}
_HIER_TO_TEXT = {v: OUTCOME_TEXT[k] for k, v in UTC_HIERARCHY.items()}
# #REF_Service_Type (sequel services)
_2A_SERVICE_HIER = {
    "LONG_TERM_NURSING": 1,
    "LONG_TERM_RESIDENTIAL": 2,
    "LONG_TERM_COMMUNITY": 3,
    "LONG_TERM_PRISON": 4,
    "SHORT_TERM_ST_MAX": 5,
    "SHORT_TERM_ONGOING_LOW_LEVEL": 6,
    "SHORT_TERM_OTHER": 7,
}
# #OutputTable_Disaggregated: Included_In_Denom / Included_In_Num
_2A_DEN = {
    *(SERVICE_TEXT[k] for k in LTS),
    SERVICE_TEXT["SHORT_TERM_ONGOING_LOW_LEVEL"],
    SERVICE_TEXT["SHORT_TERM_OTHER"],
    ST_RES_NURS,
    *(
        OUTCOME_TEXT[k]
        for k in (
            "NFA_INFORMATION_ADVICE",
            "SERVICE_ENDED_AS_PLANNED",
            "NFA_MOVED_TO_ANOTHER_LA",
            "NFA_OTHER",
            "NFA_NO_SERVICES_OTHER",
            "NFA_SUPPORT_ENDED_OTHER",
            "NFA_REFERRAL_WITHIN_LA",
        )
    ),
}
_2A_NUM = _2A_DEN - {*(SERVICE_TEXT[k] for k in LTS), ST_RES_NURS}


def _days(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """``DATEDIFF(DAY, a, b)``."""
    return (b - a).dt.total_days()


def _band_2a(birth: pl.Expr, at: pl.Expr) -> pl.Expr:
    return band(age(birth, at))


def ascof_2a(inp: Inputs) -> MeasureResult:
    """ASCOF 2A: of new clients' ST-Max episodes ending in the 12 months, the share with no
    further request for ongoing support (``Create_ASCOF_2A_2425_Onwards.sql``)."""
    ps, pe = inp.period.start, inp.period.end
    b = inp.main.filter(
        (pl.col("Client_Type") == "SERVICE_USER")
        & pl.col("start").is_not_null()
        & ((pl.col("der_end") >= pl.col("start")) | pl.col("der_end").is_null())
    ).select(
        "person",
        "rid",
        "Event_Type",
        "Service_Type",
        "Service_Component",
        "start",
        pl.col("der_end").fill_null(FAR).alias("de"),
        pl.col("Event_Outcome").fill_null(INVALID).alias("eo"),
        pl.col("Event_Outcome")
        .replace_strict(UTC_HIERARCHY, default=999, return_dtype=pl.Int32)
        .alias("h"),
    )
    # 1. cluster ST-Max services (gap of at most 7 days after the running latest end)
    st = b.filter(
        (pl.col("Event_Type") == "SERVICE") & (pl.col("Service_Type") == "SHORT_TERM_ST_MAX")
    )
    st = st.sort(
        ["person", "start", "de", "h", "rid"], descending=[False, False, False, False, True]
    )
    prev = pl.col("de").cum_max().shift(1).over("person")
    st = st.with_columns(
        (prev.is_null() | (_days(prev, pl.col("start")) > 7)).cum_sum().alias("cluster")
    )
    cl = (
        st.group_by("cluster")
        .agg(
            pl.col("person").first(),
            pl.col("start").min().alias("cstart"),
            pl.col("de").max().alias("cend"),
            # LAST_VALUE over (end ASC, hierarchy DESC, record id ASC)
            pl.col("eo")
            .sort_by(["de", "h", "rid"], descending=[True, False, True])
            .first()
            .alias("ceo"),
            pl.col("h")
            .sort_by(["de", "h", "rid"], descending=[True, False, True])
            .first()
            .alias("ch"),
            pl.col("rid"),
        )
        .filter((pl.col("cend") >= ps) & (pl.col("cend") <= pe))
    )
    cl = cl.join(inp.persons.select("person", "birth_date", "dod"), on="person", how="left")
    cl = cl.with_columns(_band_2a(pl.col("birth_date"), pl.col("cend")).alias("band"))
    cl = cl.filter(
        ((age(pl.col("birth_date"), pl.col("cend")) >= 18) | pl.col("birth_date").is_null())
        & ((pl.col("dod") >= pl.col("cstart")) | pl.col("dod").is_null())
    )
    # the cluster's person's other events (the cluster's own ST-Max rows set aside)
    j = cl.select("cluster", "person", "cstart", "cend").join(b, on="person", how="inner")
    same = (
        (pl.col("start") >= pl.col("cstart"))
        & (pl.col("start") <= pl.col("cend"))
        & (pl.col("Event_Type") == "SERVICE")
        & (pl.col("Service_Type") == "SHORT_TERM_ST_MAX")
    )
    j = j.filter(~same)
    # new clients: no long-term support open within 91 days before the ST-Max start
    old = (
        j.filter(
            pl.col("Service_Type").is_in(LTS)
            & (pl.col("start") < pl.col("cstart"))
            & (_days(pl.col("de"), pl.col("cstart")) < 91)
        )
        .select("cluster")
        .unique()
    )
    cl = cl.join(old, on="cluster", how="anti")
    j = j.join(cl.select("cluster"), on="cluster", how="semi")
    staged: dict[int, tuple[str, str]] = {}

    def stage(frame: pl.DataFrame, outcome_col: str, sequel: str) -> None:
        for c, o in frame.select("cluster", outcome_col).iter_rows():
            staged.setdefault(c, (o, sequel))

    def remaining() -> pl.Series:
        return pl.Series("cluster", list(staged), dtype=cl.schema["cluster"]).implode()

    # Step 1: death before or within 7 days of the end; Step 2: admitted to hospital
    stage(
        cl.filter(_days(pl.col("cend"), pl.col("dod")) <= 7).with_columns(
            pl.lit(OUTCOME_TEXT["NFA_DECEASED"]).alias("o")
        ),
        "o",
        "1",
    )
    stage(
        cl.filter(
            ~pl.col("cluster").is_in(remaining()) & (pl.col("ceo") == "ADMITTED_TO_HOSPITAL")
        ).with_columns(pl.lit(OUTCOME_TEXT["ADMITTED_TO_HOSPITAL"]).alias("o")),
        "o",
        "2",
    )
    left = cl.filter(~pl.col("cluster").is_in(remaining()))
    jl = j.join(left.select("cluster"), on="cluster", how="semi")
    # events ongoing after the end and starting no more than 7 days after it, up to (not
    # including) the first ST-Max in that window
    w = jl.filter(
        (pl.col("start") >= pl.col("cstart"))
        & (pl.col("de") > pl.col("cend"))
        & (_days(pl.col("cend"), pl.col("start")) <= 7)
    ).with_columns(pl.col("start").rank("dense").over("cluster").alias("rn"))
    first_st = (
        w.filter(pl.col("Service_Type") == "SHORT_TERM_ST_MAX")
        .group_by("cluster")
        .agg(pl.col("rn").min().alias("frn"))
    )
    w = (
        w.join(first_st, on="cluster", how="left")
        .filter(pl.col("frn").is_null() | (pl.col("rn") < pl.col("frn")))
        .with_columns(
            pl.col("Service_Type")
            .replace_strict(_2A_SERVICE_HIER, default=99, return_dtype=pl.Int32)
            .alias("sh")
        )
    )
    # Step 3: a service in the window: the highest in the hierarchy
    svc = w.filter(
        pl.col("cluster").is_in(w.filter(pl.col("sh") != 99)["cluster"].unique().implode())
    )
    svc = svc.with_columns(
        pl.when(
            pl.col("Service_Component").is_in(
                ["SHORT_TERM_RESIDENTIAL_CARE", "SHORT_TERM_NURSING_CARE"]
            )
        )
        .then(1)
        .otherwise(2)
        .alias("rc")
    )
    top = first_by(svc, "cluster", ["sh", "rc", "start", "rid"], [False, False, False, False])
    top = top.with_columns(
        pl.when((pl.col("Service_Type") == "SHORT_TERM_OTHER") & (pl.col("rc") == 1))
        .then(pl.lit(ST_RES_NURS))
        .otherwise(
            pl.col("Service_Type").replace_strict(
                SERVICE_TEXT, default=None, return_dtype=pl.String
            )
        )
        .alias("o")
    )
    stage(top, "o", "3")
    top_clusters = top["cluster"].unique().implode()
    left = cl.filter(~pl.col("cluster").is_in(remaining()))
    # Step 4: usable outcomes from (a) the ST-Max, (b) non-service events in the window,
    # (c) assessments/reviews ending in the last 14 days of the ST-Max
    in_window = w["cluster"].unique().implode()
    src = []
    a = left.filter(~pl.col("cluster").is_in(in_window) & (pl.col("ch") < 100))
    src.append(a.select("cluster", pl.col("ch").alias("hh"), pl.lit(1).alias("src")))
    nonsvc = (
        w.filter(
            ~pl.col("cluster").is_in(top_clusters)
            & (pl.col("eo") != "SERVICE_ENDED_AS_PLANNED")
            & (pl.col("Event_Type") != "SERVICE")
        )
        .join(cl.select("cluster", "ch"), on="cluster")
        .filter((pl.col("ch") < 100) | (pl.col("h") < 100))
    )
    src.append(nonsvc.select("cluster", pl.col("ch").alias("hh"), pl.lit(1).alias("src")))
    src.append(
        nonsvc.filter(pl.col("h") < 100).select(
            "cluster", pl.col("h").alias("hh"), pl.lit(2).alias("src")
        )
    )
    jl = j.join(left.select("cluster"), on="cluster", how="semi")
    nested = jl.filter(
        (pl.col("start") >= pl.col("cstart"))
        & (pl.col("de") > pl.col("cstart"))
        & (pl.col("de") <= pl.col("cend"))
    )
    nar = nested.filter(
        pl.col("Event_Type").is_in(["ASSESSMENT", "REVIEW"])
        & (_days(pl.col("de"), pl.col("cend")) < 14)
        & (pl.col("h") < 100)
    )
    nar = first_by(nar, "cluster", ["de", "h", "rid"], [True, False, True])
    src.append(nar.select("cluster", pl.col("h").alias("hh"), pl.lit(3).alias("src")))
    allh = pl.concat(
        [s.with_columns(pl.col("hh").cast(pl.Int32), pl.col("src").cast(pl.Int32)) for s in src]
    )
    if allh.height:
        best = allh.group_by("cluster").agg(pl.col("hh").min().alias("hmin"))
        srcs = (
            allh.join(best, on="cluster")
            .filter(pl.col("hh") == pl.col("hmin"))
            .group_by("cluster")
            .agg(pl.col("src").min(), pl.col("hmin").first())
        )
        srcs = srcs.with_columns(
            pl.col("hmin")
            .replace_strict(_HIER_TO_TEXT, default=OUTCOME_TEXT[INVALID], return_dtype=pl.String)
            .alias("o")
        )
        for c, o, s in srcs.select("cluster", "o", "src").iter_rows():
            staged.setdefault(c, (o, {1: "4a", 2: "4b", 3: "4c"}[s]))
    # Step 5: equipment delivered during the ST-Max
    eq = nested.filter(
        (pl.col("Event_Type") == "SERVICE") & (pl.col("Service_Component") == "EQUIPMENT")
    )
    eq = eq.filter(~pl.col("cluster").is_in(remaining())).select("cluster").unique()
    stage(
        eq.with_columns(pl.lit(SERVICE_TEXT["SHORT_TERM_ONGOING_LOW_LEVEL"]).alias("o")), "o", "5"
    )
    # Step 6: unable to classify: the ST-Max's own outcome
    rest = cl.filter(~pl.col("cluster").is_in(remaining())).with_columns(
        pl.col("ceo")
        .replace_strict(OUTCOME_TEXT, default=OUTCOME_TEXT[INVALID], return_dtype=pl.String)
        .alias("o")
    )
    stage(rest, "o", "6")
    out = pl.DataFrame(
        {
            "cluster": list(staged),
            "final": [v[0] for v in staged.values()],
            "sequel": [v[1] for v in staged.values()],
        },
        schema={"cluster": cl.schema["cluster"], "final": pl.String, "sequel": pl.String},
    ).join(cl.select("cluster", "person", "band", "cstart", "cend", "rid"), on="cluster")
    out = out.with_columns(
        pl.col("final").is_in(list(_2A_DEN)).alias("den"),
        pl.col("final").is_in(list(_2A_NUM)).alias("num"),
        pl.col("cluster").cast(pl.String).alias("unit"),
    )
    figures = by_band(out, unit="unit")
    people = out.select(
        "person",
        "band",
        pl.col("num").alias("in_numerator"),
        pl.col("den").alias("in_denominator"),
        pl.format("ST-Max {} to {}: {} (sequel {})", "cstart", "cend", "final", "sequel").alias(
            "detail"
        ),
        "rid",
    ).rename({"band": "group", "rid": "rids"})
    return MeasureResult(figures, people_frame(people))


def ascof_2bc(inp: Inputs) -> tuple[MeasureResult, MeasureResult]:
    """ASCOF 2B (18-64) and 2C (65+): new long-term admissions to residential and nursing care
    in the 12 months, per 100,000 population (``Create_ASCOF_2B2C_2425_Onwards.sql``)."""
    ps, pe = inp.period.start, inp.period.end
    comp = pl.col("Service_Component_Raw").str.to_lowercase()
    build = (
        inp.main.join(
            inp.persons.select("person", "birth_date", pl.col("dod").alias("pdod")),
            on="person",
            how="left",
        )
        .filter(
            (pl.col("Event_Type") == "SERVICE")
            & (pl.col("Client_Type") == "SERVICE_USER")
            & pl.col("Service_Type").is_in(["LONG_TERM_RESIDENTIAL", "LONG_TERM_NURSING"])
            & pl.col("birth_date").is_not_null()
            & ((pl.col("pdod") >= ps) | pl.col("pdod").is_null())
            # NATIONAL CHOICE: `(comp IS NULL OR LIKE '%Residential%' OR LIKE '%Nursing%') AND comp
            # NOT LIKE '%Short%'`: the second test is unknown for a blank component, so services
            # with no Service_Component are left out, though the first test meant to keep them.
            & (comp.str.contains("residential") | comp.str.contains("nursing"))
            & ~comp.str.contains("short")
        )
        .with_columns(age(pl.col("birth_date"), pl.col("start")).alias("age"))
    )
    adm = (
        build.filter(
            (pl.col("start") >= ps)
            & (pl.col("start") <= pe)
            & ((pl.col("Event_Outcome") != "NFA_SELF_FUNDED") | pl.col("Event_Outcome").is_null())
        )
        .select("person", "start", "age", "rid")
        .unique(["person", "start", "age"])
    )
    prior = build.select(
        "person", pl.col("start").alias("b_start"), pl.col("der_end").alias("b_end")
    )
    existing = (
        adm.join(prior, on="person")
        .filter(
            (pl.col("b_start") < pl.col("start"))
            & ((_days(pl.col("b_end"), pl.col("start")) < 365) | pl.col("b_end").is_null())
        )
        .select("person", "start")
        .unique()
    )
    new = adm.join(existing, on=["person", "start"], how="anti").filter(pl.col("age") >= 18)
    new = new.with_columns(band(pl.col("age")).alias("b"))
    # two new admissions in different bands: MIN('18 to 64', '65 and above') = 18 to 64
    per = new.group_by("person").agg(
        pl.col("b").min().alias("band"), pl.col("rid"), pl.col("start").min().alias("first")
    )
    results = []
    for g, mid in (("18-64", "ASCOF_2B"), ("65+", "ASCOF_2C")):
        sub = per.filter(pl.col("band") == g)
        n = sub.height
        pop = (inp.population or {}).get(g)
        fig = (
            Figure(g, n, pop, round(n / pop * 100_000, 1)) if pop else Figure(g, n, None, float(n))
        )
        people = sub.select(
            "person",
            pl.col("band").alias("group"),
            pl.lit(True).alias("in_numerator"),
            pl.lit(None, pl.Boolean).alias("in_denominator"),
            pl.format("new admission from {}", "first").alias("detail"),
            pl.col("rid").alias("rids"),
        )
        results.append(MeasureResult([fig], people_frame(people)))
        _ = mid
    return results[0], results[1]


def ascof_2e(inp: Inputs, ld: bool) -> MeasureResult:
    """ASCOF 2E (all clients) and 2E LD (learning disability, 18-64): people in long-term
    support during the 12 months who live at home or with family
    (``Create_ASCOF_2E_2425_Onwards.sql``, with ``@LD_Filter`` 0 or 1)."""
    ps, pe = inp.period.start, inp.period.end
    b = inp.main.filter(
        (pl.col("Client_Type") == "SERVICE_USER")
        & (pl.col("Event_Type") == "SERVICE")
        & pl.col("Service_Type").is_in(LTS)
        & pl.col("start").is_not_null()
        & ((pl.col("der_end") >= pl.col("start")) | pl.col("der_end").is_null())
        & (pl.col("start") <= pe)
        & ((pl.col("der_end") >= ps) | pl.col("der_end").is_null())
    ).with_columns(pl.col("der_end").fill_null(FAR).clip(upper_bound=pe).alias("capped"))
    per = b.group_by("person").agg(pl.col("capped").max(), pl.col("rid"))
    per = (
        per.join(inp.persons, on="person", how="left")
        .filter((pl.col("dod") >= ps) | pl.col("dod").is_null())
        .with_columns(age(pl.col("birth_date"), pl.col("capped")).alias("age"))
    )
    if ld:
        per = per.filter(pl.col("psr") == "LEARNING_DISABILITY")
    # 'Under 18' is BETWEEN 1 AND 17; age 0 falls to 'Unknown' and is then removed by age >= 18
    per = per.filter((pl.col("age") >= 18) | pl.col("age").is_null()).with_columns(
        band(pl.col("age")).alias("band")
    )
    if ld:
        per = per.filter(pl.col("band") == "18-64")
    per = per.with_columns(
        pl.col("settled").fill_null(False).alias("num"), pl.lit(True).alias("den")
    )
    known = per.filter(pl.col("band") != "Unknown")
    # National rows are per band (and gender); Total here = both bands (no Unknown ages)
    figures = by_band(known)
    for gender_key, gname in (("MALE", "Male"), ("FEMALE", "Female")):
        for g in ("18-64", "65+"):
            if ld and g == "65+":
                continue
            sub = known.filter((pl.col("gender") == gender_key) & (pl.col("band") == g))
            n, d = sub.filter(pl.col("num")).height, sub.height
            figures.append(Figure(f"{gname} {g}", n, d, pct(n, d)))
    if ld:
        figures = [f for f in figures if not f.group.startswith("65+")]
    people = per.select(
        "person",
        "band",
        (pl.col("num") & (pl.col("band") != "Unknown")).alias("in_numerator"),
        (pl.col("band") != "Unknown").alias("in_denominator"),
        pl.format("accommodation {}", "accom").alias("detail"),
        pl.col("rid").alias("rids"),
    ).rename({"band": "group"})
    return MeasureResult(figures, people_frame(people))


# Create_ASCOF_3D_2425_Onwards.sql #REF_Service_Type_Delivery_Mech
_3D_HIER = {
    ("LONG_TERM_NURSING", ""): 1,
    ("LONG_TERM_RESIDENTIAL", ""): 2,
    ("LONG_TERM_COMMUNITY", "DIRECT_PAYMENT"): 3,
    ("LONG_TERM_COMMUNITY", "CASSR_MANAGED_PERSONAL_BUDGET"): 4,
    ("LONG_TERM_COMMUNITY", "CASSR_COMMISSIONED_SUPPORT"): 5,
    ("LONG_TERM_COMMUNITY", ""): 6,
    ("LONG_TERM_PRISON", "CASSR_MANAGED_PERSONAL_BUDGET"): 7,
    ("LONG_TERM_PRISON", "CASSR_COMMISSIONED_SUPPORT"): 8,
    ("LONG_TERM_PRISON", ""): 9,
}
_CARER_HIER = {
    "Direct Payment only": 1,
    "CASSR Managed Personal Budget": 2,
    "CASSR Commissioned Support only": 3,
    "Support Direct to Carer: Unknown Delivery Mech": 4,
    "Information, Advice and Other Universal Services / Signposting": 5,
    "No Direct Support Provided to Carer": 6,
}


def ascof_3d_clients(inp: Inputs) -> tuple[MeasureResult, MeasureResult]:
    """ASCOF 3D 1a (self-directed support) and 2a (direct payments): clients in long-term
    community support at the period end, after the setting hierarchy."""
    pe = inp.period.end
    b = inp.main.join(
        inp.persons.select("person", "birth_date", pl.col("dod").alias("pdod")),
        on="person",
        how="left",
    ).filter(
        pl.col("Service_Type").is_in(LTS)
        & (pl.col("Client_Type") == "SERVICE_USER")
        & (pl.col("start") <= pe)
        & ((pl.col("der_end") >= pl.col("start")) | pl.col("der_end").is_null())
        & ((pl.col("der_end") >= pe) | pl.col("der_end").is_null())
        & ((pl.col("pdod") >= pe) | pl.col("pdod").is_null())
    )
    dm = (
        pl.when(pl.col("Service_Component") == "DIRECT_PAYMENT")
        .then(pl.lit("DIRECT_PAYMENT"))
        .otherwise(pl.col("Delivery_Mechanism"))
    )
    b = b.with_columns(dm.alias("dm"))
    valid = pl.concat_str(pl.col("Service_Type"), pl.lit("|"), pl.col("dm")).is_in(
        [f"{t}|{d}" for t, d in _3D_HIER if d]
    )
    b = b.with_columns(
        pl.when(
            valid.fill_null(False)
            & pl.col("Service_Type").is_in(["LONG_TERM_COMMUNITY", "LONG_TERM_PRISON"])
        )
        .then(pl.col("dm"))
        .otherwise(pl.lit(""))
        .alias("dm")
    )
    hier = {f"{t}|{d}": h for (t, d), h in _3D_HIER.items()}
    b = b.with_columns(
        pl.when(
            (pl.col("Service_Type") == "LONG_TERM_COMMUNITY")
            & (pl.col("Service_Component") == "DIRECT_PAYMENT")
        )
        .then(3)
        .otherwise(
            pl.concat_str(pl.col("Service_Type"), pl.lit("|"), pl.col("dm")).replace_strict(
                hier, default=None, return_dtype=pl.Int32
            )
        )
        .alias("h"),
        band(age(pl.col("birth_date"), pe)).alias("band"),
    )
    best = b.group_by("person").agg(pl.col("h").min().alias("rank"))
    fin = b.join(best, on="person").filter(
        pl.col("rank").is_not_null()
        & (pl.col("h") == pl.col("rank"))
        & pl.col("band").is_in(["18-64", "65+", "Unknown"])
        & (pl.col("Service_Type") == "LONG_TERM_COMMUNITY")
    )
    dp = (pl.col("dm") == "DIRECT_PAYMENT") | (pl.col("Service_Component") == "DIRECT_PAYMENT")
    fin = fin.with_columns(
        dp.fill_null(False).alias("dp"),
        (dp.fill_null(False) | (pl.col("dm") == "CASSR_MANAGED_PERSONAL_BUDGET")).alias("sds"),
        pl.lit(True).alias("den"),
    )
    per = fin.group_by("person").agg(
        pl.col("band").first(),
        pl.col("dp").any(),
        pl.col("sds").any(),
        pl.col("den").first(),
        pl.col("rid"),
    )
    out = []
    for num in ("sds", "dp"):
        people = per.select(
            "person",
            pl.col("band").alias("group"),
            pl.col(num).alias("in_numerator"),
            pl.lit(True).alias("in_denominator"),
            pl.when(pl.col("dp"))
            .then(pl.lit("direct payment"))
            .when(pl.col("sds"))
            .then(pl.lit("managed personal budget"))
            .otherwise(pl.lit("commissioned or unknown mechanism"))
            .alias("detail"),
            pl.col("rid").alias("rids"),
        )
        out.append(MeasureResult(by_band(per, num=num), people_frame(people)))
    return out[0], out[1]


def ascof_3d_carers(inp: Inputs) -> tuple[MeasureResult, MeasureResult]:
    """ASCOF 3D 1b and 2b: carers supported in the 12 months, by the carer support hierarchy
    (direct payment > managed personal budget > commissioned > ...)."""
    ps, pe = inp.period.start, inp.period.end
    b = (
        inp.main.join(
            inp.persons.select("person", "birth_date", pl.col("dod").alias("pdod")),
            on="person",
            how="left",
        )
        .filter(
            pl.col("Client_Type").is_in(["CARER", "CARER_KNOWN_BY_ASSOCIATION"])
            & (pl.col("start") <= pe)
            & ((pl.col("der_end") >= ps) | pl.col("der_end").is_null())
            & ((pl.col("der_end") >= pl.col("start")) | pl.col("der_end").is_null())
            & ((pl.col("pdod") >= ps) | pl.col("pdod").is_null())
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
        .with_columns(pl.col("Event_Outcome").fill_null(INVALID).alias("eo"))
    )
    direct = pl.col("Service_Type") == "CARER_SUPPORT_DIRECT"
    dm, sc = pl.col("Delivery_Mechanism"), pl.col("Service_Component")
    # NATIONAL CHOICE: `Service_Component NOT LIKE 'Direct payment'` is unknown for a blank
    # component, so a managed budget or commissioned support with no Service_Component (and
    # a direct service with neither mechanism nor component) falls through every branch:
    # no category, and the carer is left out if that is all they had.
    not_dp = sc != "DIRECT_PAYMENT"  # null when blank, as in SQL
    support = (
        pl.when(direct & ((dm == "DIRECT_PAYMENT") | (sc == "DIRECT_PAYMENT")).fill_null(False))
        .then(pl.lit("Direct Payment only"))
        .when(direct & ((dm == "CASSR_MANAGED_PERSONAL_BUDGET") & not_dp).fill_null(False))
        .then(pl.lit("CASSR Managed Personal Budget"))
        .when(direct & ((dm == "CASSR_COMMISSIONED_SUPPORT") & not_dp).fill_null(False))
        .then(pl.lit("CASSR Commissioned Support only"))
        .when(
            direct
            & (
                ~dm.is_in(
                    [
                        "DIRECT_PAYMENT",
                        "CASSR_MANAGED_PERSONAL_BUDGET",
                        "CASSR_COMMISSIONED_SUPPORT",
                    ]
                )
                & not_dp
            ).fill_null(False)
        )
        .then(pl.lit("Support Direct to Carer: Unknown Delivery Mech"))
        .when(direct & (dm.is_null() & not_dp).fill_null(False))
        .then(pl.lit("Support Direct to Carer: Unknown Delivery Mech"))
        .when(pl.col("Service_Type") == "CARER_SUPPORT_INVOLVING_CARED_FOR")
        .then(pl.lit("No Direct Support Provided to Carer"))
        .when(
            pl.col("Event_Type").is_in(["ASSESSMENT", "REVIEW"])
            & (pl.col("eo") != "NFA_INFORMATION_ADVICE")
        )
        .then(pl.lit("No Direct Support Provided to Carer"))
        .when(pl.col("Event_Type").is_in(["ASSESSMENT", "REVIEW"]))
        .then(pl.lit("Information, Advice and Other Universal Services / Signposting"))
        .when(pl.col("Event_Type") == "REQUEST")
        .then(pl.lit("Information, Advice and Other Universal Services / Signposting"))
    )
    b = b.with_columns(support.alias("support"), age(pl.col("birth_date"), pe).alias("age"))
    b = b.with_columns(
        pl.col("support")
        .replace_strict(_CARER_HIER, default=None, return_dtype=pl.Int32)
        .alias("h")
    )
    per = b.group_by("person").agg(
        pl.col("h").min().alias("rank"), pl.col("age").min(), pl.col("rid")
    )
    per = per.filter(pl.col("rank").is_not_null()).with_columns(band(pl.col("age")).alias("band"))
    per = per.filter(pl.col("band").is_in(["18-64", "65+", "Unknown"]))
    inv = {v: k for k, v in _CARER_HIER.items()}
    per = per.with_columns(
        pl.col("rank").replace_strict(inv, return_dtype=pl.String).alias("support"),
        (pl.col("rank") <= 3).alias("den"),
    )
    out = []
    for top in (2, 1):
        per2 = per.with_columns((pl.col("rank") <= top).alias("num"))
        people = per2.filter(pl.col("den")).select(
            "person",
            pl.col("band").alias("group"),
            pl.col("num").alias("in_numerator"),
            pl.col("den").alias("in_denominator"),
            pl.col("support").alias("detail"),
            pl.col("rid").alias("rids"),
        )
        out.append(MeasureResult(by_band(per2), people_frame(people)))
    return out[0], out[1]


__all__ = ["GROUPS", "ascof_2a", "ascof_2bc", "ascof_2e", "ascof_3d_carers", "ascof_3d_clients"]
