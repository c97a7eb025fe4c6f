"""LOG050-LOG056 take their field groups from the spec (checks/rules/applicability.py asks
``Spec.fields_applying`` / ``fields_not_applying``). Each rule is run with each field of its
former hand list (tests/spec/test_field_groups.py:HAND) filled alone on a row where the field
does not apply, and on the same row with the field blank: a group that lost, gained or
swapped a field, or a rule asking the spec with the wrong keys, fails here."""

from __future__ import annotations

import pytest

from cld_schema import RELEASES, load_spec
from tests.checks.rules.test_rules import flags
from tests.spec.test_field_groups import HAND

# rule -> (its group, the row where that group does not apply)
RULE_GROUPS = {
    "LOG050": ("EVENT_FIELDS", {"Client_Type": "key:CARER_KNOWN_BY_ASSOCIATION"}),
    "LOG051": ("REQUEST_FIELDS", {"Event_Type": "key:ASSESSMENT"}),
    "LOG052": ("ASSESSMENT_FIELDS", {"Event_Type": "key:REQUEST"}),
    "LOG053": ("SERVICE_FIELDS", {"Event_Type": "key:REQUEST"}),
    "LOG054": ("REVIEW_FIELDS", {"Event_Type": "key:REQUEST"}),
    "LOG055": ("CARER_FIELDS", {"Client_Type": "key:SERVICE_USER"}),
    "LOG056": ("SERVICE_USER_FIELDS", {"Client_Type": "key:CARER"}),
}


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("rule_id", sorted(RULE_GROUPS))
def test_each_field_of_the_group_is_checked(rule_id: str, release: str):
    group, wrong_row = RULE_GROUPS[rule_id]
    spec = load_spec(release)
    fields = [f for f in HAND[group] if spec.has_field(f)]
    assert fields
    blank_group = dict.fromkeys(fields)  # the base row fills some of them (a request)
    for name in fields:
        rows = [{**wrong_row, **blank_group, name: "x"}, {**wrong_row, **blank_group}]
        got = flags(rule_id, {"release": release, "rows": rows})
        assert got == [True, False], f"{rule_id} on {release}: {name} filled alone"


@pytest.mark.parametrize("rule_id", sorted(RULE_GROUPS))
def test_a_field_outside_the_group_is_not_flagged(rule_id: str):
    """Filling every field of the other groups (but not this one) on the same row is quiet."""
    group, wrong_row = RULE_GROUPS[rule_id]
    spec = load_spec(RELEASES[0])
    mine = set(HAND[group])
    others = {f for g, fs in HAND.items() if g != group for f in fs} - mine
    blank_group = dict.fromkeys(mine)
    row = {**dict.fromkeys(others, "x"), **wrong_row, **blank_group}
    # the row's own condition field (Event_Type / Client_Type) stays as wrong_row says
    assert flags(rule_id, {"release": spec.release, "rows": [row]}) == [False]
