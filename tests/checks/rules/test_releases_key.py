"""A rule's yaml `releases:` key: the rule runs only on those releases (LOG026 on Release 1,
LOG093 on Release 2), and a key naming no release, or a case for another release, is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.rules import CatalogueError, _entry, catalogue, spec_field_names
from cld_schema import RELEASES

GOOD = {
    "severity": "error",
    "module": "Events (all)",
    "message": "m",
    "fields": ["Event_End_Date"],
    "how_to_fix": "f",
    "cases": [{"rows": [{}, {}], "expect": [True, False]}],
}


def test_release_bound_rules():
    by = {m.id: m for m in catalogue()}
    first, later = RELEASES[0], RELEASES[-1]
    assert by["LOG026"].applies_to(first) and not by["LOG026"].applies_to(later)
    assert by["LOG093"].applies_to(later) and not by["LOG093"].applies_to(first)
    assert by["LOG001"].releases is None and all(by["LOG001"].applies_to(r) for r in RELEASES)


@pytest.mark.parametrize(
    ("releases", "says"),
    [(["R9"], "releases must list"), ([], "releases must list"), ([RELEASES[-1]], "case 1")],
)
def test_a_bad_releases_key_is_refused(releases, says):
    path = Path("period.yaml")
    _entry(path, "period", "LOG020", {**GOOD, "releases": [RELEASES[0]]}, spec_field_names())
    with pytest.raises(CatalogueError, match=says) as err:
        _entry(path, "period", "LOG020", {**GOOD, "releases": releases}, spec_field_names())
    assert "period.yaml: rule LOG020" in str(err.value)
