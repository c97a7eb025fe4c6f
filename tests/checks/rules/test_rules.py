"""Each logical rule's own test, driven by the ``cases:`` of its entry in
checks/rules/<pattern>.yaml (one failing and one passing row at least, checked at import)."""

from __future__ import annotations

import polars as pl
import pytest

from checks.engine import each_field_names
from checks.prepare import period_bounds, prepared
from checks.rules import RuleContext, catalogue, rule_function
from cld_schema import load_spec
from tests.checks.conftest import frame_of

RULES = {m.id: m for m in catalogue()}
CASES = {m.id: m.cases for m in catalogue()}


def flags(rule_id: str, case: dict) -> list[bool]:
    spec = load_spec(case.get("release", "R1"))
    frame = frame_of(spec, case["rows"])
    start, end = period_bounds(frame, spec, None)
    ctx = RuleContext(spec, start, end)
    meta = RULES[rule_id]
    fn = rule_function(rule_id)
    expr = fn(ctx, case["field"]) if meta.scope == "each_field" else fn(ctx)
    out = prepared(frame.lazy(), spec, start, end).select(expr.alias("flag")).collect()
    return out["flag"].to_list()


def test_every_rule_has_a_case():
    assert all(CASES.values()), sorted(r for r, c in CASES.items() if not c)


def test_at_least_40_logical_rules():
    assert len(RULES) >= 40


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule(rule_id: str):
    for case in CASES[rule_id]:
        assert True in case["expect"] and False in case["expect"], (
            "a case needs a failing and a passing row"
        )
        assert flags(rule_id, case) == case["expect"]


def test_rule_flags_are_boolean_not_null():
    """A rule never answers 'unknown': blanks are handled inside the rule."""
    spec = load_spec("R1")
    frame = frame_of(spec, [{}, dict.fromkeys(spec.field_names)])
    start, end = period_bounds(frame, spec, None)
    ctx = RuleContext(spec, start, end)
    exprs = []
    for m in catalogue():
        if not m.applies_to(spec.release):
            continue
        fn = rule_function(m.id)
        names = each_field_names(spec, m.each_field) if m.scope == "each_field" else ["-"]
        exprs += [
            (fn(ctx, n) if m.scope == "each_field" else fn(ctx)).alias(f"{m.id}_{n}") for n in names
        ]
    out = prepared(frame.lazy(), spec, start, end).select(exprs).collect()
    assert out.null_count().sum_horizontal().item() == 0
    assert all(dt == pl.Boolean for dt in out.dtypes)
