"""RuleContext.v is strict: a rule naming a field or a value KEY the spec does not have fails
when its plan is built, with the field and KEY named; None means only "this KEY has no text
in this release"."""

from __future__ import annotations

import pytest

from checks.rules import RuleContext
from checks.rules.base import UnknownValueKey, event_is
from cld_schema import load_spec


def test_a_key_of_the_release_gives_its_text():
    assert RuleContext(load_spec("R1")).v("Event_Type", "SERVICE") == "Service"


def test_a_key_without_text_in_this_release_is_none():
    assert RuleContext(load_spec("R2")).v("Event_Outcome", "PROGRESS_TO_ASSESSMENT") is None
    assert RuleContext(load_spec("R1")).v("Review_Reason", "SHORT_TERM_SUPPORT_REVIEW") is None


def test_a_misspelt_key_raises_naming_field_and_key():
    with pytest.raises(UnknownValueKey, match=r"Event_Type/SERVIC\b.*no value key 'SERVIC'"):
        RuleContext(load_spec("R1")).v("Event_Type", "SERVIC")


def test_a_misspelt_field_raises():
    with pytest.raises(KeyError, match=r"Event_Typ/SERVICE: no release has a field 'Event_Typ'"):
        RuleContext(load_spec("R2")).v("Event_Typ", "SERVICE")


def test_a_field_without_a_list_raises():
    with pytest.raises(UnknownValueKey, match=r"Event_Start_Date has no defined list"):
        RuleContext(load_spec("R1")).v("Event_Start_Date", "SERVICE")


def test_a_rule_helper_with_a_misspelt_key_fails_at_plan_time():
    with pytest.raises(UnknownValueKey, match="SERVICES"):
        event_is(RuleContext(load_spec("R1")), "SERVICE", "SERVICES")
