"""Findings as people act on them: the findings table conformed to its contract, field labels
from the spec, the advice naming the case-system screen, and one line per fix (person ×
field × rule). Shared by the team workbooks, the team pages, the DQ report and the
checklist."""

from __future__ import annotations

import polars as pl

from checks import findings as F


def conform_findings(findings: pl.DataFrame) -> pl.DataFrame:
    """The findings contract's tolerant cast (:func:`checks.findings.conform`): a findings file
    from an older run or a hand-made one still works."""
    return F.conform(findings)


ACTION_KEYS = ("event_start", "person_id", "event_ref", "rule_id", "field", "row")


def action_order(frame: pl.DataFrame) -> pl.DataFrame:
    """Errors first, then the oldest event first (blank dates last), then by person, event,
    rule, field and row, then every other findings column: one total order, so whatever order
    the findings came in (a parquet file, history, the engine's threads) the lists, pages and
    report tables built from them come out the same, byte for byte."""
    keys = [c for c in (*ACTION_KEYS, *F.COLUMNS) if c in frame.columns]
    keys = list(dict.fromkeys(keys))
    return frame.sort([pl.col("severity") != "error", *keys], nulls_last=True,
                      maintain_order=True)

# Where a worker records each national module's fields (advice for managers speaks of the
# case-system screen, never of mapping tables).
SCREENS = {
    "Person details": "the person's details screen",
    "Submission information": "the person's details screen",
    "Events (all)": "the event's workflow step or service agreement",
    "Events (requests only)": "the contact or request step",
    "Events (assessments only)": "the assessment step",
    "Events (reviews only)": "the review step",
    "Events (services only)": "the service agreement",
    "Costs (services only)": "the service agreement's costs",
    "Carers and linked service users": "the carer's record and its links",
}

def labels() -> dict[str, str]:
    """Field name → the label people read (``NHS_Number`` → ``NHS Number``), from the spec."""
    from cld_schema import RELEASES, load_spec

    out: dict[str, str] = {}
    for rel in RELEASES:
        out.update({f.name: f.label for f in load_spec(rel).fields})
    return out

def with_labels(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds ``field_label``, ``problem`` (the message without a repeated label: never
    "NHS Number: NHS Number: …") and ``advice`` (what to do on which screen)."""
    names = labels()
    label = pl.col("field").replace_strict(names, default=pl.col("field").str.replace_all(
        "_", " "), return_dtype=pl.String)
    msg = pl.col("message").fill_null("")
    # "NHS Number: NHS number fails…" → "NHS number fails…" beside a Field column
    problem = (pl.when(msg.str.to_lowercase().str.starts_with(
        pl.concat_str([label.str.to_lowercase(), pl.lit(": ")])))
        .then(msg.str.slice(label.str.len_chars() + 2)).otherwise(msg))
    screen = pl.col("module").replace_strict(SCREENS, default="the case record",
                                             return_dtype=pl.String)
    fix = pl.col("how_to_fix").fill_null("")
    advice = (
        pl.when(fix.str.contains("in the case system for this person or event"))
        .then(pl.concat_str([pl.lit("Record "), label, pl.lit(" on "), screen,
                             pl.lit(" in the case system.")]))
        .when(fix.str.contains("mapping table"))
        .then(pl.concat_str([pl.lit("Correct "), label, pl.lit(" on "), screen,
                             pl.lit(" in the case system.")]))
        .otherwise(fix)
    )
    return frame.with_columns(label.alias("field_label"), problem.alias("problem"),
                              advice.alias("advice"))

def fix_lines(team: pl.DataFrame) -> pl.DataFrame:
    """One line per fix: person × field × rule (file-level findings one each), with the
    events it affects; errors first, then the oldest event first."""
    f = with_labels(action_order(team)).with_columns(
        pl.when(pl.col("person_id").is_null()).then(pl.int_range(pl.len()).cast(pl.String))
        .otherwise(pl.lit("")).alias("_alone"),
        pl.format("{} {} {}", pl.col("event_type").fill_null("-"),
                  pl.col("event_ref").fill_null("-"), pl.col("event_start").fill_null("-"))
        .alias("_event"),
    )
    fx = f.group_by("person_id", "field", "rule_id", "_alone", maintain_order=True).agg(
        pl.col("severity").first(), pl.col("worker_name").drop_nulls().first(),
        pl.col("field_label").first(), pl.col("problem").first(), pl.col("advice").first(),
        pl.col("module").first(), pl.col("value").drop_nulls().first(),
        pl.len().cast(pl.Int64).alias("events"),
        pl.col("_event").unique(maintain_order=True).str.join("\n").alias("which"),
        pl.col("step_id").drop_nulls().unique(maintain_order=True).str.join("; ")
        .alias("steps"),
        pl.col("event_start").min().alias("oldest"),
    ).drop("_alone")
    return fx.sort([pl.col("severity") != "error", "oldest", "person_id", "field", "rule_id"],
                   nulls_last=True, maintain_order=True)
