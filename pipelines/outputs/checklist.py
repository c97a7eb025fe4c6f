"""A recording checklist for staff, generated from the spec of one release: per event type,
which fields a worker must record (always, or when), and which picklist values to choose,
with, once a run is recorded, the team's most frequent mistakes per field from history.

Everything comes from ``cld_schema/data`` (fields, lists, conditions): the checklist of a new
release is regenerated, never edited by hand. It holds no personal data (field labels,
values and counts only), so it can be printed or pinned to a team's wall.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import polars as pl

EVENT_TYPES = ("REQUEST", "ASSESSMENT", "SERVICE", "REVIEW")
# Fields the case system fills itself, or that are about the file rather than the event:
# not a recording step for a worker.
NOT_RECORDED = {"LA_Code", "Reporting_Period_Start_Date", "Reporting_Period_End_Date",
                "Event_Type"}
Simplified = bool | Mapping[str, Any]


def given(cond: Any, known: Mapping[str, str]) -> Simplified:
    """The condition with the fields in ``known`` (field → value key) fixed: ``True`` or
    ``False`` when that settles it, else what is left of it (a smaller condition)."""
    if cond == "always":
        return True
    if cond == "never":
        return False
    if "all" in cond or "any" in cond:
        op = "all" if "all" in cond else "any"
        parts = [given(p, known) for p in cond[op]]
        if op == "all":
            if any(p is False for p in parts):
                return False
            rest = [p for p in parts if p is not True]
            return True if not rest else rest[0] if len(rest) == 1 else {"all": rest}
        if any(p is True for p in parts):
            return True
        rest = [p for p in parts if p is not False]
        return False if not rest else rest[0] if len(rest) == 1 else {"any": rest}
    if "not" in cond:
        inner = given(cond["not"], known)
        return (not inner) if isinstance(inner, bool) else {"not": inner}
    name = cond.get("field")
    if name in known:
        if "in" in cond:
            return known[name] in cond["in"]
        if "key_prefix" in cond:
            return known[name].startswith(cond["key_prefix"])
    return cond


@dataclass
class ChecklistLine:
    label: str
    name: str
    when: str  # "Mandatory", "Mandatory when …", "If known"
    values: list[str] = field(default_factory=list)
    mistakes: str = ""


def checklist(spec, mistakes: pl.DataFrame | None = None) -> dict[str, list[ChecklistLine]]:
    """Per event type (its text in this release): the fields a worker records, mandatory
    first, each with when it is mandatory and its picklist values (as spelt in the file)."""
    out: dict[str, list[ChecklistLine]] = {}
    for key in EVENT_TYPES:
        name = spec.value("Event_Type", key)
        known = {"Event_Type": key}
        lines = []
        for f in spec.fields:
            if f.name in NOT_RECORDED:
                continue
            applies = given(f.applies, known)
            if applies is False:
                continue
            mand = given(f.mandatory, known)
            if mand is True:
                when = "Mandatory"
            elif mand is False:
                when = ("If known" if applies is True
                        else f"If known, when {spec.describe(applies)}")
            else:
                when = f"Mandatory when {spec.describe(mand)}"
            values = []
            dl = spec.list_of(f.name)
            if dl is not None:
                values = [v.text(spec.release) for v in dl.in_release(spec.release)
                          if not v.do_not_use and v.text(spec.release)]
            # a person's details are one fix whatever event shows them
            lines.append(ChecklistLine(f.label, f.name, when, values, _mistakes_for(
                mistakes, f.name, None if f.module == "Person details" else name)))
        lines.sort(key=lambda ln: 0 if ln.when == "Mandatory" else
                   1 if ln.when.startswith("Mandatory") else 2)
        out[name] = lines
    return out


def _mistakes_for(mistakes: pl.DataFrame | None, field_name: str,
                  event_type: str | None) -> str:
    """The two most frequent problems with a field (on one event type, unless None)."""
    if mistakes is None or mistakes.is_empty():
        return ""
    mine = mistakes.filter(pl.col("field") == field_name)
    if event_type is not None:
        mine = mine.filter(pl.col("event_type").str.to_lowercase() == event_type.lower())
    if mine.is_empty():
        return ""
    mine = (mine.group_by("problem").agg(pl.col("fixes").sum())
            .sort(["fixes", "problem"], descending=[True, False], nulls_last=True))
    return "; ".join(f"{p} ({n})" for p, n in mine.head(2).iter_rows())


def frequent_mistakes(findings: pl.DataFrame) -> pl.DataFrame:
    """Per field, event type and problem: how many fixes (person × field) a run's findings
    hold, the problem in words without the repeated label."""
    from pipelines.outputs.fixes import action_order, conform_findings, fix_lines

    f = action_order(conform_findings(findings).filter(pl.col("field").is_not_null()))
    if f.is_empty():
        return pl.DataFrame(schema={"field": pl.String, "event_type": pl.String,
                                    "problem": pl.String, "fixes": pl.Int64})
    fx = fix_lines(f.with_columns(pl.lit(None, pl.String).alias("event_ref")))
    types = (f.group_by("person_id", "field", "rule_id", maintain_order=True)
             .agg(pl.col("event_type").drop_nulls().first()))
    fx = fx.join(types, on=["person_id", "field", "rule_id"], how="left", nulls_equal=True)
    return (fx.group_by("field", "event_type", "problem").agg(pl.len().cast(pl.Int64)
                                                              .alias("fixes"))
            .sort(["fixes", "field", "event_type", "problem"],
                  descending=[True, False, False, False], nulls_last=True))


def write_xlsx(spec, lines: dict[str, list[ChecklistLine]], path: Path, source: str = "") -> Path:
    from pipelines.outputs.workbook import new_workbook, write_summary, write_table

    wb, fmt = new_workbook(path, f"CLD recording checklist {spec.release}")
    try:
        write_summary(wb, fmt, f"CLD recording checklist – {spec.title}", [
            ("Release", spec.release),
            ("How to use", "One sheet per event type: the fields to record on it, mandatory "
             "first, and the values to choose for each picklist, spelt as the national "
             "return has them. Generated from the spec: regenerate it for a new release."),
            *([("Mistakes", source)] if source else []),
        ])
        for event, rows in lines.items():
            table = pl.DataFrame([{
                "Field": ln.label, "When to record it": ln.when,
                "Values to choose": "\n".join(ln.values),
                **({"Most frequent mistakes": ln.mistakes} if source else {}),
            } for ln in rows])
            write_table(wb, fmt, event[:31], table)
    finally:
        wb.close()
    return path


def write_html(spec, lines: dict[str, list[ChecklistLine]], path: Path, source: str = "",
               council: str = "") -> Path:
    from pipelines.outputs.page import _section, _table, page_head

    facts = [(k, v) for k, v in (("Council", council), ("Release", spec.release)) if v]
    body = []
    for event, rows in lines.items():
        heads = ["Field", "When to record it", "Values to choose",
                 *(["Most frequent mistakes"] if source else [])]
        table_rows = [[ln.label, ln.when, "<br>".join(escape(v) for v in ln.values),
                       *([ln.mistakes] if source else [])] for ln in rows]
        anchor = "ev-" + "".join(ch for ch in event.lower() if ch.isalnum())
        body.append(_section(anchor, event, _table(heads, table_rows, raw={2})))
    note = f'<p class="muted">{escape(source)}</p>' if source else ""
    html = (page_head(f"CLD recording checklist – {spec.title}", facts)
            + f"<main>{note}{''.join(body)}"
            '<p class="muted">Generated from the CLD specification held in cld_schema/data.'
            "</p></main></body></html>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path
