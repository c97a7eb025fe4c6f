"""The printed summary's rules are in one order whatever order the findings came in: errors
first, then by count, tied counts by rule id (was: tied rules swapped between runs)."""

from __future__ import annotations

import polars as pl

from checks.engine import summarise


def test_tied_rules_are_listed_by_rule_id_whatever_the_row_order():
    rows = (
        [("LOG090", "warning", "w")] * 3
        + [("LOG027", "error", "b")] * 2
        + [("LOG003", "error", "a")] * 2
        + [("FLD_Gender_mandatory", "error", "c")] * 2
        + [("LOG070", "error", "d")] * 5
    )
    frame = pl.DataFrame(rows, schema=["rule_id", "severity", "message"], orient="row")
    frame = frame.with_columns(module=pl.lit("Events (all)"))
    orders = {
        tuple(r["rule_id"] for r in summarise(frame.sample(fraction=1.0, shuffle=True, seed=s))
              ["by_rule"])
        for s in range(12)
    }
    assert orders == {("LOG070", "FLD_Gender_mandatory", "LOG003", "LOG027", "LOG090")}
