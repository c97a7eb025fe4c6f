"""The case-tracking sample: 50 people drawn reproducibly, their case list and one printable
page each (shared/reference/cqc.md section 3.5).

Personal data: the case list and the pages identify people (by the council's person id;
names, NHS numbers, dates of birth and addresses are never put in them). They are written
only into the pack's folder for the person who asked; nothing here logs them, and
:func:`masked` gives the list with ids replaced, for anything shared wider.
"""

from __future__ import annotations

import hashlib
from html import escape
from pathlib import Path

import polars as pl

from pipelines.cqc.figures import definitions
from pipelines.cqc.pack import Pack, _age_group

STRATA = ("transition", "autism", "learning disability", "mental health", "unpaid carers",
          "older people")
PER_STRATUM = 8
LONGEST_WAITERS = 2
WAITING = ("W1", "W2", "W3")


def _order(seed: int, pid: int) -> str:
    return hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest()


def pool(pack: Pack) -> pl.DataFrame:
    """Everyone the draw may pick, with the first stratum that applies (null: none)."""
    inp, d, y0 = pack.inputs, pack.as_at, pack.inputs.year_start
    j, x = inp.cld, inp.extract
    ev = pl.col("Event_Type")
    in_year = (
        ((ev == "SERVICE") & (pl.col("start") <= d)
         & (pl.col("der_end").is_null() | (pl.col("der_end") >= y0)))
        | ((ev != "SERVICE") & pl.col("der_end").is_between(y0, d))
    )
    only_advice = (ev == "REQUEST") & (pl.col("outcome") == "NFA_INFORMATION_ADVICE")
    active = j.filter(in_year & ~only_advice).select("person_id")
    open_steps = x.steps.filter(
        ~pl.col("status").is_in(["CANC", "ERR"]) & (pl.col("started") <= d)
        & (pl.col("completed").is_null() | (pl.col("completed") > d))
    ).select("person_id")
    people = pl.concat([active, open_steps]).unique()
    alive = x.persons.filter(pl.col("dod").is_null() | (pl.col("dod") > d))
    people = people.join(alive, on="person_id", how="inner")
    yr = j.filter(in_year)
    transition_route = yr.filter(pl.col("Request_Route_of_Access") == "PLANNED_ENTRY_TRANSITION")
    first_lts = (
        j.filter((ev == "SERVICE") & pl.col("Service_Type").str.starts_with("LONG_TERM"))
        .group_by("person_id").agg(pl.col("start").min().alias("first_lts"))
        .filter(pl.col("first_lts").is_between(y0, d))
    )
    autism = pl.concat([j.filter(pl.col("Autism_Spectrum_Disorder_ASD") == "YES")
                        .select("person_id"), x.autism]).unique()
    psr = pl.concat([
        x.psr.select("person_id", "psr"),
        j.sort("start").group_by("person_id").agg(
            pl.col("Primary_Support_Reason").drop_nulls().last().alias("psr")),
    ]).drop_nulls().unique("person_id", keep="first")
    carers = yr.filter((pl.col("Client_Type") == "CARER")
                       & ev.is_in(["ASSESSMENT", "REVIEW", "SERVICE"])).select("person_id")
    years = (pl.lit(d).dt.year() - pl.col("dob").dt.year()) - (
        pl.lit(d).dt.ordinal_day() < pl.col("dob").dt.ordinal_day()).cast(pl.Int32)
    p = (
        people.join(psr, on="person_id", how="left")
        .join(first_lts, on="person_id", how="left")
        .with_columns(
            years.alias("age"),
            pl.col("person_id").is_in(transition_route["person_id"].implode()).alias("_route"),
            pl.col("person_id").is_in(autism["person_id"].implode()).alias("_asd"),
            pl.col("person_id").is_in(carers["person_id"].implode()).alias("_carer"),
        )
    )
    stratum = (
        pl.when(pl.col("_route") | (pl.col("age").is_between(18, 25)
                                    & pl.col("first_lts").is_not_null()))
        .then(pl.lit("transition"))
        .when(pl.col("_asd")).then(pl.lit("autism"))
        .when(pl.col("psr") == "LEARNING_DISABILITY").then(pl.lit("learning disability"))
        .when(pl.col("psr") == "MENTAL_HEALTH").then(pl.lit("mental health"))
        .when(pl.col("_carer")).then(pl.lit("unpaid carers"))
        .when(pl.col("age") >= 65).then(pl.lit("older people"))
        .otherwise(None)
    )
    return p.with_columns(stratum.alias("stratum")).select(
        "person_id", "stratum", "psr", "dob", "age")


def draw(pack: Pack, seed: int) -> pl.DataFrame:
    """The 50: 8 per stratum in seeded-hash order (a stratum short of 8 is filled from the
    largest stratum), then the 2 longest waiters in W1-W3 not already drawn."""
    p = pool(pack).with_columns(
        pl.col("person_id").map_elements(lambda v: _order(seed, v), return_dtype=pl.String)
        .alias("_key")
    ).sort("_key")
    sizes = {s: p.filter(pl.col("stratum") == s).height for s in STRATA}
    picked: list[dict] = []
    taken: set[int] = set()
    for s in STRATA:
        members = p.filter(pl.col("stratum") == s).head(PER_STRATUM)
        for r in members.iter_rows(named=True):
            picked.append({"person_id": r["person_id"], "stratum": s, "drawn_as": s})
            taken.add(r["person_id"])
    largest = max(STRATA, key=lambda s: (sizes[s], -STRATA.index(s)))
    spare = [r["person_id"] for r in p.filter(pl.col("stratum") == largest).iter_rows(named=True)
             if r["person_id"] not in taken]
    for s in STRATA:
        for _ in range(PER_STRATUM - min(sizes[s], PER_STRATUM)):
            if not spare:
                break
            pid = spare.pop(0)
            picked.append({"person_id": pid, "stratum": largest,
                           "drawn_as": f"{s} (filled from {largest})"})
            taken.add(pid)
    waits = pl.concat([pack.items[f].select("person_id", "days") for f in WAITING if
                       f in pack.items]).drop_nulls()
    longest = (
        waits.filter(~pl.col("person_id").is_in(list(taken))
                     & pl.col("person_id").is_in(p["person_id"].implode()))
        .group_by("person_id").agg(pl.col("days").max())
        .with_columns(pl.col("person_id").map_elements(lambda v: _order(seed, v),
                                                       return_dtype=pl.String).alias("_k"))
        .sort(["days", "_k"], descending=[True, False]).head(LONGEST_WAITERS)
    )
    for pid in longest["person_id"]:
        stratum = p.filter(pl.col("person_id") == pid)["stratum"][0]
        picked.append({"person_id": pid, "stratum": stratum, "drawn_as": "longest waiting"})
    out = pl.DataFrame(picked, schema={"person_id": pl.Int64, "stratum": pl.String,
                                       "drawn_as": pl.String})
    return out.with_row_index("case", offset=1).with_columns(pl.col("case").cast(pl.Int64))


def _words(key: str | None) -> str:
    return "" if key is None else key.replace("_", " ").lower()


def journeys(pack: Pack, people: pl.DataFrame) -> dict[int, list[dict]]:
    """Each person's dated events: CLD rows (requests, assessments, services, reviews) and
    the steps open at the as-at date."""
    j = pack.inputs.cld.join(people.select("person_id"), on="person_id", how="semi")
    out: dict[int, list[dict]] = {}
    for r in j.sort("start").iter_rows(named=True):
        ev = r["Event_Type"]
        what = {
            "REQUEST": f"Request ({_words(r['Request_Route_of_Access']) or 'route not recorded'})",
            "ASSESSMENT": f"Assessment, {_words(r['Assessment_Type']) or 'type not recorded'}",
            "SERVICE": f"Service: {_words(r['Service_Type'])}",
            "REVIEW": f"Review ({_words(r['Review_Reason']) or 'reason not recorded'})",
        }.get(ev, _words(ev))
        if r["Client_Type"] == "CARER":
            what = "Carer's " + what[0].lower() + what[1:]
        extra = ""
        if ev == "ASSESSMENT" and r["Eligible_Needs_Identified"]:
            extra = f"; eligible needs: {_words(r['Eligible_Needs_Identified'])}"
        out.setdefault(r["person_id"], []).append({
            "start": r["start"], "end": r["der_end"], "event": what,
            "outcome": _words(r["outcome"]) + extra,
        })
    steps = pack.inputs.extract.steps.join(people.select("person_id"), on="person_id",
                                           how="semi")
    d = pack.as_at
    open_now = steps.filter(~pl.col("status").is_in(["CANC", "ERR"]) & (pl.col("started") <= d)
                            & (pl.col("completed").is_null() | (pl.col("completed") > d)))
    for r in open_now.sort("started").iter_rows(named=True):
        out.setdefault(r["person_id"], []).append({
            "start": r["started"], "end": None,
            "event": f"{_words(r['kind']).capitalize()} in progress",
            "outcome": f"open at {d}",
        })
    for v in out.values():
        v.sort(key=lambda e: e["start"])
    return out


def case_list(pack: Pack, drawn: pl.DataFrame) -> pl.DataFrame:
    """One row per drawn case (personal data: see the module docstring)."""
    x = pack.inputs.extract
    figs = definitions()["figures"]
    status = {}
    for fid in ("W1", "W2", "W3", "W4", "W5", "R1", "R2", "C4"):
        it = pack.items.get(fid)
        if it is None:
            continue
        for pid, days in it.filter(pl.col("counted")).select("person_id", "days").rows():
            status.setdefault(pid, []).append(f"{fid} {figs[fid]['title'].lower()}"
                                              + (f" ({days} days)" if days is not None else ""))
    waits = {}
    for fid in ("T1", "T2", "T3"):
        for pid, days in pack.items[fid].select("person_id", "days").rows():
            waits.setdefault(pid, []).append(f"{fid} {days} days")
    rel = x.carers
    cares_for = rel.group_by("carer_person_id").agg(pl.col("cared_for_person_id"))
    cared_by = rel.group_by("cared_for_person_id").agg(pl.col("carer_person_id"))
    cf = {k: v for k, v in cares_for.rows()}
    cb = {k: v for k, v in cared_by.rows()}
    info = pool(pack).select("person_id", "psr", "dob")
    events = journeys(pack, drawn)
    rows = (
        drawn.join(info, on="person_id", how="left")
        .join(x.owners, on="person_id", how="left")
        .join(x.teams, on="team_id", how="left")
        .join(x.workers, on="worker_id", how="left")
        .with_columns(_age_group(pl.col("dob"), pack.as_at).alias("age band"))
    )
    out = []
    for r in rows.iter_rows(named=True):
        pid = r["person_id"]
        links = []
        if pid in cf:
            links.append("cares for " + ", ".join(map(str, cf[pid])))
        if pid in cb:
            links.append("cared for by " + ", ".join(map(str, cb[pid])))
        journey = "\n".join(
            f"{e['start']}{' to ' + str(e['end']) if e['end'] else ''}: {e['event']}"
            + (f" - {e['outcome']}" if e["outcome"] else "")
            for e in events.get(pid, [])
        )
        out.append({
            "case": r["case"],
            "stratum": r["drawn_as"],
            "person id": str(pid),
            "team": r["team_name"] or "(no team)",
            "worker": r["worker_name"] or "(none allocated)",
            "age band": r["age band"],
            "primary support reason": _words(r["psr"]) or "not recorded",
            "carer links": "; ".join(links) or "none recorded",
            "waits (completed)": "; ".join(waits.get(pid, [])) or "none in the year",
            "waiting status now": "; ".join(status.get(pid, [])) or "not waiting",
            "journey": journey or "(no events)",
        })
    return pl.DataFrame(out, schema={k: (pl.Int64 if k == "case" else pl.String)
                                     for k in (out[0] if out else {"case": 0})})


def masked(cases: pl.DataFrame) -> pl.DataFrame:
    """The case list for sharing wider: person ids, workers, carer links and the dated
    journeys withheld (dates of events identify people in combination)."""
    return cases.with_columns(
        (pl.lit("case ") + pl.col("case").cast(pl.String)).alias("person id"),
        pl.lit("(withheld)").alias("carer links"),
        pl.lit("(withheld)").alias("worker"),
        pl.lit("(withheld)").alias("journey"),
    )


_CSS = """
@page { size: A4; margin: 14mm; }
body { font: 11pt/1.4 system-ui, sans-serif; color: #1b1b1b; margin: 0; }
.case { page-break-after: always; max-width: 180mm; margin: 0 auto; padding: 6mm 0; }
h1 { font-size: 16pt; margin: 0 0 2mm; color: #1d4f76; }
.tag { display: inline-block; background: #e8f0f7; border-radius: 3px; padding: 1px 6px; }
dl { display: grid; grid-template-columns: 48mm 1fr; gap: 1mm 4mm; margin: 4mm 0; }
dt { font-weight: 600; } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 10pt; }
th, td { border-bottom: 1px solid #ccc; text-align: left; padding: 2px 4px; vertical-align: top; }
th { background: #1d4f76; color: #fff; }
.note { font-size: 9pt; color: #555; margin-top: 4mm; }
nav a { display: block; }
"""
_HEAD = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
         "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
         "style-src 'unsafe-inline'\"><title>{title}</title><style>" + _CSS.replace("{", "{{")
         .replace("}", "}}") + "</style></head><body>")


def _page(row: dict, events: list[dict], as_at: str) -> str:
    e = escape
    facts = "".join(
        f"<dt>{e(k.capitalize())}</dt><dd>{e(str(row[k]))}</dd>"
        for k in ("stratum", "team", "worker", "age band", "primary support reason",
                  "carer links", "waits (completed)", "waiting status now")
    )
    lines = "".join(
        f"<tr><td>{e(str(v['start']))}</td><td>{e(str(v['end'] or ''))}</td>"
        f"<td>{e(v['event'])}</td><td>{e(v['outcome'])}</td></tr>" for v in events
    ) or "<tr><td colspan='4'>No events recorded.</td></tr>"
    return (
        f"<section class='case'><h1>Case {row['case']}: person {e(row['person id'])}</h1>"
        f"<span class='tag'>{e(row['stratum'])}</span> <span class='tag'>as at {e(as_at)}"
        f"</span><dl>{facts}</dl><table><thead><tr><th>From</th><th>To</th><th>Event</th>"
        f"<th>Outcome</th></tr></thead><tbody>{lines}</tbody></table>"
        "<p class='note'>OFFICIAL-SENSITIVE: personal data for the CQC case-tracking "
        "conversation. Do not forward.</p></section>"
    )


def write_summaries(pack: Pack, drawn: pl.DataFrame, folder: Path) -> Path:
    """One printable page per case (``case_NN.html``) and ``index.html`` holding them all
    (prints one case per page). Self-contained: no scripts, fonts or images to fetch."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = case_list(pack, drawn)
    events = journeys(pack, drawn)
    pages = []
    for row in cases.iter_rows(named=True):
        html = _page(row, events.get(int(row["person id"]), []), pack.as_at.isoformat())
        pages.append(html)
        (folder / f"case_{row['case']:02d}.html").write_text(
            _HEAD.format(title=f"Case {row['case']}") + html + "</body></html>",
            encoding="utf-8")
    index = folder / "index.html"
    index.write_text(_HEAD.format(title=f"CQC case tracking as at {pack.as_at}")
                     + "".join(pages) + "</body></html>", encoding="utf-8")
    return index
