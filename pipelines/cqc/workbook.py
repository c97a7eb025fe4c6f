"""The pack's workbook: definitions, one sheet per figure group, by team, DHSC's quarterly
medians, the waiting list over time and the case list. Written with the project's xlsx
helpers (every text a string cell, formula characters neutralised)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines.cqc.figures import FIGURES, definitions
from pipelines.cqc.pack import Pack
from pipelines.outputs.workbook import new_workbook, write_summary, write_table

SPLITS = (("all", None), ("age group", "age_group"), ("client", "client"), ("split", "kind"))


HEADERS = {
    "count": "count",
    "people": "people",
    "median_days": "median days",
    "p90_days": "90th percentile days",
    "max_days": "longest (days)",
    "of": "out of",
    "percent": "percent",
    "by": "split by",
}


def _readable(t: pl.DataFrame) -> pl.DataFrame:
    return t.rename({k: v for k, v in HEADERS.items() if k in t.columns and k != v})


def definitions_table() -> pl.DataFrame:
    d = definitions()
    rows = []
    for fid, f in d["figures"].items():
        rows.append({
            "figure": fid,
            "group": d["groups"][f["group"]],
            "title": f["title"],
            "counts": f["unit"],
            "days measure": f["wait"] or "(no days: a count)",
            "source": "case-management extract at the as-at date" if f["source"] == "extract"
            else "CLD rows (the period and the year before)",
            "definition": " ".join(f["definition"].split()),
        })
    return pl.DataFrame(rows)


def group_table(pack: Pack, group: str) -> pl.DataFrame:
    """Every figure of ``group``: overall, by age group, by client type, by its own split;
    each with its definition beside it."""
    d = definitions()["figures"]
    parts = []
    for fid in FIGURES:
        if d[fid]["group"] != group or fid not in pack.items:
            continue
        for label, col in SPLITS:
            s = pack.summary(fid, [col] if col else None)
            s = s.rename({col: "value"}) if col else s.with_columns(pl.lit("all").alias("value"))
            parts.append(
                s.with_columns(
                    pl.lit(d[fid]["title"]).alias("title"),
                    pl.lit(label).alias("by"),
                    pl.col("value").cast(pl.String),
                    pl.lit(" ".join(d[fid]["definition"].split())).alias("definition"),
                )
            )
    if not parts:
        return pl.DataFrame()
    out = pl.concat(parts, how="diagonal_relaxed")
    first = ["figure", "title", "by", "value"]
    return out.select(first + [c for c in out.columns if c not in (*first, "definition")]
                      + ["definition"])


def team_table(pack: Pack) -> pl.DataFrame:
    parts = [pack.summary(fid, ["team_name"]) for fid in pack.items]
    return pl.concat(parts, how="diagonal_relaxed").rename({"team_name": "team"})


def write_workbook(
    pack: Pack,
    path: Path,
    *,
    cases: pl.DataFrame | None = None,
    trend: pl.DataFrame | None = None,
) -> Path:
    d = definitions()
    wb, fmt = new_workbook(path, f"CQC assurance pack as at {pack.as_at}")
    heads = pack.headlines()
    lines = [
        ("Council", pack.meta.get("council_name") or pack.meta.get("council") or ""),
        ("As at", pack.as_at.isoformat()),
        ("Period", f"{pack.period} (12 months {pack.inputs.year_start} to {pack.as_at})"),
    ]
    for fid, h in heads.items():
        title = d["figures"][fid]["title"]
        value = f"{h['count']}"
        if "of" in h and h.get("of"):
            value += f" of {h['of']} ({h['percent']}%)"
        if h.get("median_days") is not None:
            value += f"; median {h['median_days']:g} days, 90th percentile {h['p90_days']:g}, " \
                     f"longest {h['max_days']}"
        lines.append((f"{fid} {title}", value))
    lines.append(("Personal data", "The case list sheet names people: keep this workbook to "
                  "the people preparing the assessment (OFFICIAL-SENSITIVE)."))
    write_summary(wb, fmt, "CQC local authority assessment: assurance pack", lines)
    write_table(wb, fmt, "Definitions", definitions_table())
    for key, name in d["groups"].items():
        t = group_table(pack, key)
        if t.height:
            write_table(wb, fmt, name[:31], _readable(t))
    write_table(wb, fmt, "By team", _readable(team_table(pack)))
    if pack.medians is not None:
        write_table(wb, fmt, "DHSC quarterly medians", pack.medians,
                    note="DHSC waiting-times method v1.1 (provisional), median per quarter of "
                    "the response / service event, ages 25-64 and 65+.")
    if trend is not None and trend.height:
        write_table(wb, fmt, "Waiting over time", trend.rename(
            {"point": "week of", "as_at": "counted on", "max_days": "longest (days)"}))
    else:
        note = wb.add_worksheet("Waiting over time")
        note.write_string(
            0, 0, "No waiting-list history yet: each nightly run (cld run nightly) records "
            "W1-W5 by team, and this sheet then shows them week by week.")
        note.set_column(0, 0, 110)
    if cases is not None:
        write_table(wb, fmt, "Case list", cases)
    wb.close()
    return path
